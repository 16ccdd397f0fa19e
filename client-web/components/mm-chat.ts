// The chat panel: an IRC-style log of whole lines (`role="log"`, so screen readers
// hear each new message once, complete), a field to write, a button to attach images. Properties
// in, events out: the app sends, encodes images (chat/encode-image.ts) and caps the history.
//
// Text only ever goes through lit text bindings, never as HTML. URLs stay plain text on purpose:
// a link in a meeting chat is a one-click phishing lure, and link previews or prefetching would
// reveal our IP address to whoever chose the URL. Images are shown only when
// they are inline raster data URLs, so a peer can never make us fetch anything.

import { LitElement, css, html, nothing, type PropertyValues } from "lit";
import { customElement, property, query, state } from "lit/decorators.js";
import { repeat } from "lit/directives/repeat.js";
import { base64ToBytes } from "../../common/crypto/encoding.js";
import type { checkChatImage, ImageCheck } from "../chat/incoming-image.js";
import type { ChatContent } from "../../common/wire/packets.js";
export { imageFilesFrom } from "../chat/image-files.js";

export interface ChatEntry {
  /** Unique and stable for the life of the entry: the list is keyed by it. */
  readonly id: string;
  /**
   * "self" for our own messages; "system" for the app's own lines (joins, leaves), shown in
   * italics without an author, as keks-meet's control messages; otherwise the sender's PeerKey.
   */
  readonly from: "self" | "system" | string;
  /** The sender's display name (not shown for "self", which reads "You", nor for "system"). */
  readonly authorName: string;
  readonly content: ChatContent;
  /** When it was sent or received, in ms since the epoch. */
  readonly at: number;
}

/** The user sent a text message (non-empty after trimming; the text itself is not trimmed). */
export class ChatSendEvent extends Event {
  constructor(readonly content: { readonly text: string }) {
    super("chat-send", { bubbles: true, composed: true });
  }
}

/**
 * The user picked files with the attach button. Not filtered: `accept` is only a hint to the
 * picker, and a silently dropped file would look like a lost message, so the app tells the user
 * about each one `encodeChatImage` refuses.
 */
export class ChatImageFilesEvent extends Event {
  constructor(readonly files: readonly File[]) {
    super("chat-image-files", { bubbles: true, composed: true });
  }
}

/** Within this distance of the end the log counts as "at the end" (zoom leaves fractional pixels). */
const AT_END_SLACK_PX = 24;
/**
 * A blob: URL opened in a new tab is loaded at once, and revoking it afterwards does not affect
 * the loaded page; a minute covers a slow tab start while not keeping every image alive forever.
 */
const REVOKE_BLOB_AFTER_MS = 60_000;
const DATA_URL = /^data:(image\/[a-z]+);base64,(.*)$/;
const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });

@customElement("mm-chat")
export class Chat extends LitElement {
  static override styles = css`
    :host { display: flex; flex-direction: column; min-height: 0; color: var(--text, #1b1f24); }
    section { display: flex; flex-direction: column; flex: 1; min-height: 0; gap: 0.5rem; }
    h2 { margin: 0; font-size: 1.15rem; }
    .log-area { position: relative; flex: 1; min-height: 6rem; display: flex; flex-direction: column; }
    .log {
      flex: 1; overflow-y: auto; padding: 0.25rem; border-radius: var(--radius, 10px);
      background: var(--surface-raised, #fff); border: 1px solid color-mix(in srgb, var(--text-muted, #4a5360) 30%, transparent);
    }
    .empty { position: absolute; top: 0.5rem; left: 0.75rem; margin: 0; color: var(--text-muted, #4a5360); pointer-events: none; }
    .message {
      margin: 0.15rem 0; padding: 0.25rem 0.5rem; border-radius: calc(var(--radius, 10px) / 2);
      border-inline-start: 4px solid transparent; overflow-wrap: anywhere;
    }
    /* Own lines: a tinted background and an accent bar, plus the word "You" (never colour alone). */
    .message.self {
      background: color-mix(in srgb, var(--accent-soft, #98c1d9) 22%, transparent);
      border-inline-start-color: var(--accent, #3d5a80);
    }
    .author { font-weight: 700; }
    .text { white-space: pre-wrap; }
    .message.system .text { font-style: italic; }
    time { margin-inline-start: 0.5em; font-size: 0.8em; color: var(--text-muted, #4a5360); white-space: nowrap; }
    .notice { font-style: italic; color: var(--text-muted, #4a5360); }
    button {
      font: inherit; min-height: 2.5rem; min-width: 2.5rem; padding: 0.4rem 0.9rem; border-radius: var(--radius, 10px);
      border: 1px solid var(--text-muted, #4a5360); background: var(--surface, #f7f8fa); color: inherit; cursor: pointer;
    }
    button.image { display: block; padding: 0.2rem; margin-top: 0.2rem; line-height: 0; background: transparent; }
    button.image img { max-width: min(100%, 20rem); max-height: 12rem; object-fit: contain; border-radius: calc(var(--radius, 10px) / 2); }
    .jump {
      position: absolute; bottom: 0.5rem; left: 50%; transform: translateX(-50%);
      background: var(--accent, #3d5a80); border-color: var(--accent, #3d5a80); color: #fff; box-shadow: 0 2px 8px rgb(0 0 0 / 0.25);
    }
    /* The field takes the full width; the buttons sit in a row under it and wrap when narrow. */
    form { display: flex; flex-wrap: wrap; gap: 0.4rem; }
    label, .hint, textarea { flex-basis: 100%; }
    button.send { margin-inline-start: auto; }
    .hint { margin: 0; font-size: 0.8rem; color: var(--text-muted, #4a5360); }
    textarea {
      min-width: 0; box-sizing: border-box; font: inherit; resize: none; field-sizing: content; min-height: 2.5rem; max-height: 8rem;
      padding: 0.45rem 0.6rem; border-radius: var(--radius, 10px); border: 1px solid var(--text-muted, #4a5360);
      background: var(--surface-raised, #fff); color: inherit;
    }
    button.send { background: var(--accent, #3d5a80); border-color: var(--accent, #3d5a80); color: #fff; }
    dialog {
      max-width: 95vw; max-height: 95vh; padding: 0.75rem; border: none; border-radius: var(--radius, 10px);
      background: var(--surface-raised, #fff); color: inherit; box-shadow: 0 8px 32px rgb(0 0 0 / 0.35);
    }
    dialog::backdrop { background: rgb(0 0 0 / 0.7); }
    dialog img { display: block; max-width: calc(95vw - 1.5rem); max-height: calc(95vh - 5rem); object-fit: contain; margin: 0 auto 0.5rem; }
    dialog .close { display: block; margin-inline-start: auto; }
    :focus-visible { outline: 3px solid var(--focus, #0b57d0); outline-offset: 2px; }
  `;

  /** Oldest first. Render cost is per entry, keyed by `id`; the app decides how many to keep. */
  @property({ attribute: false }) entries: readonly ChatEntry[] = [];
  /** The `image_view_popup` preference: open images in an in-page viewer instead of a new tab. */
  @property({ type: Boolean, attribute: "image-view-popup" }) imageViewPopup = false;

  @state() private hasUnseen = false;
  @state() private viewing: { readonly src: string; readonly label: string } | undefined;

  @query("#log") private log?: HTMLElement;
  @query("#message") private input?: HTMLTextAreaElement;
  @query("#files") private filePicker?: HTMLInputElement;
  @query("dialog") private viewer?: HTMLDialogElement;

  /** Whether new messages should scroll into view: true until the user scrolls away from the end. */
  private followEnd = true;
  private scrollToEndAfterUpdate = false;
  private focusAfterFirstRender = false;
  private viewerOpener: HTMLElement | undefined;
  /** Each image is checked once (checkChatImage reads its header): the history re-renders often. */
  private readonly imageChecks = new WeakMap<ChatContent, ImageCheck>();
  /**
   * The check and its image-header parser (the image-size package, about as big as the rest of
   * the chat) load with the first image shown, so that the chat is part of the page from the
   * start while a meeting without images never loads them.
   */
  private checker: typeof checkChatImage | undefined;
  private checkerLoading = false;
  /** A shown-again or resized panel keeps the newest message in view when it was there before. */
  private readonly resizeObserver = new ResizeObserver(() => {
    if (this.followEnd) this.scrollToEnd();
  });

  /** Moves focus to the message field (the app calls this when it opens the chat panel). */
  focusInput(): void {
    if (this.input) this.input.focus();
    else this.focusAfterFirstRender = true;
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.resizeObserver.disconnect();
  }

  override connectedCallback(): void {
    super.connectedCallback();
    // Re-attaching after a move: firstUpdated does not run again.
    if (this.log) this.resizeObserver.observe(this.log);
  }

  protected override firstUpdated(): void {
    if (this.log) this.resizeObserver.observe(this.log);
    if (this.focusAfterFirstRender) this.input?.focus();
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (!changed.has("entries")) return;
    const before: readonly ChatEntry[] | undefined = changed.get("entries");
    const newest = this.entries.at(-1);
    // The newest id, not the length: the app caps the history, so the length may stay the same.
    if (!newest || newest.id === before?.at(-1)?.id) return;
    // Our own message always comes into view: we just sent it.
    if (this.followEnd || newest.from === "self") {
      this.scrollToEndAfterUpdate = true;
      this.hasUnseen = false;
    } else {
      this.hasUnseen = true;
    }
  }

  // Untyped: `viewing` is private, so it is not a key of PropertyValues<this>.
  protected override updated(changed: PropertyValues): void {
    if (this.scrollToEndAfterUpdate) {
      this.scrollToEndAfterUpdate = false;
      this.scrollToEnd();
    }
    if (changed.has("viewing") && this.viewing && this.viewer && !this.viewer.open) {
      this.viewer.showModal();
      this.viewer.querySelector<HTMLButtonElement>(".close")?.focus();
    }
  }

  private scrollToEnd(): void {
    if (!this.log) return;
    this.log.scrollTop = this.log.scrollHeight;
    this.followEnd = true;
  }

  private onScroll(): void {
    if (!this.log) return;
    this.followEnd = this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight <= AT_END_SLACK_PX;
    if (this.followEnd) this.hasUnseen = false;
  }

  private jumpToNewest(): void {
    this.scrollToEnd();
    this.hasUnseen = false;
    // The button disappears; the log is the closest sensible place for focus.
    this.log?.focus();
  }

  private onKeydown(event: KeyboardEvent): void {
    // Shift+Enter is a newline; Ctrl/Alt/Meta+Enter belong to the app (Ctrl+Enter toggles the
    // chat); while an IME composes, Enter confirms the composition.
    if (event.key !== "Enter" || event.shiftKey || event.ctrlKey || event.altKey || event.metaKey || event.isComposing) return;
    event.preventDefault();
    this.send();
  }

  private onSubmit(event: SubmitEvent): void {
    event.preventDefault();
    this.send();
  }

  private send(): void {
    if (!this.input) return;
    const text = this.input.value;
    // keks-meet closes the chat on an empty send; a stray Enter should not hide the panel.
    if (text.trim() === "") return;
    this.dispatchEvent(new ChatSendEvent({ text }));
    this.input.value = "";
  }

  private onFilesChosen(): void {
    if (!this.filePicker) return;
    const files = Array.from(this.filePicker.files ?? []);
    // Cleared so that choosing the same file again fires `change` again.
    this.filePicker.value = "";
    if (files.length > 0) this.dispatchEvent(new ChatImageFilesEvent(files));
  }

  /** The image's check; undefined while the checker loads (the chat renders again when it is there). */
  private imageCheck(content: ChatContent & { readonly image: string }): ImageCheck | undefined {
    let check = this.imageChecks.get(content);
    if (check === undefined) {
      if (!this.checker) {
        this.loadChecker();
        return undefined;
      }
      check = this.checker(content.image);
      this.imageChecks.set(content, check);
    }
    return check;
  }

  private loadChecker(): void {
    if (this.checkerLoading) return;
    this.checkerLoading = true;
    import("../chat/incoming-image.js").then(
      ({ checkChatImage }) => {
        this.checker = checkChatImage;
        this.requestUpdate();
      },
      () => {
        // Offline for a moment: the next render (a new message, reopening the panel) tries again.
        this.checkerLoading = false;
      },
    );
  }

  private openImage(opener: HTMLElement, src: string, label: string): void {
    if (!this.imageViewPopup && openInNewTab(src)) return;
    this.viewerOpener = opener;
    this.viewing = { src, label };
  }

  private onViewerClose(): void {
    this.viewing = undefined;
    const opener = this.viewerOpener;
    this.viewerOpener = undefined;
    // The entry may have been dropped from the history while the viewer was open.
    if (opener?.isConnected) opener.focus();
    else this.input?.focus();
  }

  private onViewerKeydown(event: KeyboardEvent): void {
    // Escape closes the viewer (native dialog behaviour); it must not also reach the app's
    // document-level keys, which would close the whole chat panel behind it.
    if (event.key === "Escape") event.stopPropagation();
  }

  override render() {
    return html`<section aria-labelledby="chat-title">
      <h2 id="chat-title">Chat</h2>
      <div class="log-area">
        <div id="log" class="log" role="log" aria-label="Messages" tabindex="0" @scroll=${this.onScroll}>
          ${repeat(this.entries, (entry) => entry.id, (entry) => this.renderEntry(entry))}
        </div>
        ${this.entries.length === 0 ? html`<p class="empty">No messages yet.</p>` : nothing}
        ${this.hasUnseen
          ? html`<button class="jump" type="button" @click=${this.jumpToNewest}>New messages <span aria-hidden="true">↓</span></button>`
          : nothing}
      </div>
      <form @submit=${this.onSubmit}>
        <label for="message">Message</label>
        <textarea id="message" rows="1" aria-describedby="hint" autocomplete="off" @keydown=${this.onKeydown}></textarea>
        <button type="button" @click=${() => this.filePicker?.click()}>Attach image</button>
        <button class="send" type="submit">Send</button>
        <p id="hint" class="hint">Enter sends, Shift+Enter starts a new line.</p>
        <input id="files" type="file" accept="image/*" multiple hidden tabindex="-1" @change=${this.onFilesChosen} />
      </form>
      <dialog aria-label=${this.viewing?.label ?? "Image"} @close=${this.onViewerClose} @keydown=${this.onViewerKeydown}>
        ${this.viewing ? html`<img src=${this.viewing.src} alt=${this.viewing.label} />` : nothing}
        <button class="close" type="button" @click=${() => this.viewer?.close()}>Close</button>
      </dialog>
    </section>`;
  }

  private renderEntry(entry: ChatEntry) {
    const time = Number.isFinite(entry.at)
      ? html`<time datetime=${new Date(entry.at).toISOString()}>${timeFormat.format(entry.at)}</time>`
      : nothing;
    if (entry.from === "system") {
      const text = "text" in entry.content ? entry.content.text : "";
      return html`<p class="message system"><span class="text">${text}</span> ${time}</p>`;
    }
    const self = entry.from === "self";
    const author = self ? "You" : entry.authorName;
    const body =
      "text" in entry.content
        ? html`<span class="text">${entry.content.text}</span>`
        : this.renderImage(entry.content, self ? "Image from you" : `Image from ${author}`);
    return html`<p class=${self ? "message self" : "message"}><span class="author">${author}</span>: ${body} ${time}</p>`;
  }

  private renderImage(content: ChatContent & { readonly image: string }, label: string) {
    const check = this.imageCheck(content);
    if (!check) return html`<span class="notice">(checking the image…)</span>`;
    if (!check.ok) return html`<span class="notice">(image not shown: ${check.reason})</span>`;
    return html`<button class="image" type="button" @click=${(event: Event) => this.openImage(event.currentTarget as HTMLElement, content.image, label)}>
      <img src=${content.image} alt=${label} @load=${() => this.followEnd && this.scrollToEnd()} />
    </button>`;
  }
}

/**
 * Opens a checked image data URL in a new tab through a blob: URL: browsers refuse top-level
 * navigation to data: URLs (an old phishing trick). The blob gets the image type from the
 * checked URL, so the tab can only ever show a picture. False when the bytes do not decode.
 */
function openInNewTab(dataUrl: string): boolean {
  const match = DATA_URL.exec(dataUrl);
  const bytes = match?.[2] === undefined ? undefined : base64ToBytes(match[2]);
  if (!match || !bytes) return false;
  const url = URL.createObjectURL(new Blob([bytes], { type: match[1] }));
  window.open(url, "_blank", "noopener,noreferrer");
  setTimeout(() => URL.revokeObjectURL(url), REVOKE_BLOB_AFTER_MS);
  return true;
}

declare global {
  interface HTMLElementTagNameMap {
    "mm-chat": Chat;
  }
  interface HTMLElementEventMap {
    "chat-send": ChatSendEvent;
    "chat-image-files": ChatImageFilesEvent;
  }
}
