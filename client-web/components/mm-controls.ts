// The control bar: share microphone/camera/screen, stop all, open chat/settings/known rooms, help,
// leave. A WAI-ARIA toolbar: one tab stop, arrow keys move between buttons (roving tabindex).
// Properties in, one `control` event out, and `control-preview` when the pointer rests on a
// button or focus reaches it (the app preloads what that button opens).

import { LitElement, css, html, nothing } from "lit";
import { customElement, property, queryAll } from "lit/decorators.js";

export type ControlAction =
  | "add-microphone"
  | "add-camera"
  | "add-screen"
  | "share-files"
  | "stop-all"
  | "toggle-chat"
  | "toggle-settings"
  | "toggle-watches"
  | "toggle-jellyfin"
  | "show-help"
  | "leave";

export type SidePanel = "chat" | "settings" | "watches" | "jellyfin";

export class ControlEvent extends Event {
  constructor(readonly action: ControlAction) {
    super("control", { bubbles: true, composed: true });
  }
}

/** The pointer entered, or focus reached, the button of `action`: it may be pressed next. */
export class ControlPreviewEvent extends Event {
  constructor(readonly action: ControlAction) {
    super("control-preview", { bubbles: true, composed: true });
  }
}

@customElement("mm-controls")
export class Controls extends LitElement {
  static override styles = css`
    :host { display: block; }
    [role="toolbar"] {
      display: flex; flex-wrap: wrap; gap: 0.4rem; align-items: center; justify-content: center;
      padding: 0.5rem; background: var(--surface-raised, #fff);
      border-top: 1px solid color-mix(in srgb, var(--text-muted, #555) 30%, transparent);
    }
    button {
      font: inherit; min-height: 2.75rem; min-width: 2.75rem; padding: 0.4rem 0.9rem; border-radius: var(--radius, 10px);
      border: 1px solid var(--text-muted, #4a5360); background: var(--surface, #f7f8fa); color: var(--text, #1b1f24); cursor: pointer;
    }
    button[aria-pressed="true"] { background: var(--accent, #3d5a80); border-color: var(--accent, #3d5a80); color: #fff; }
    button.leave { border-color: var(--danger, #b3261e); color: var(--danger, #b3261e); }
    /* aria-disabled, not disabled: a disabled button cannot hold the toolbar's only tab stop. */
    button[aria-disabled="true"] { opacity: 0.55; cursor: default; }
    button:focus-visible { outline: 3px solid var(--focus, #0b57d0); outline-offset: 2px; }
    .badge { display: inline-block; min-width: 1.3em; margin-left: 0.3em; padding: 0 0.3em; border-radius: 1em; background: var(--accent, #3d5a80); color: #fff; font-size: 0.8em; }
    [role="separator"] { width: 1px; align-self: stretch; background: color-mix(in srgb, var(--text-muted, #555) 40%, transparent); margin: 0 0.2rem; }
    @media (max-width: 30rem) { button { padding: 0.3rem 0.55rem; } }
  `;

  @property({ attribute: false }) panel: SidePanel | null = null;
  @property({ type: Number }) sharedCount = 0;
  @property({ type: Number }) unreadChat = 0;
  @queryAll("button") private buttons!: NodeListOf<HTMLButtonElement>;
  private focusIndex = 0;

  private fire(action: ControlAction): void {
    this.dispatchEvent(new ControlEvent(action));
  }

  private handleKeydown(event: KeyboardEvent): void {
    const buttons = [...this.buttons];
    const current = buttons.indexOf(event.composedPath()[0] as HTMLButtonElement);
    if (current === -1) return;
    let next: number;
    if (event.key === "ArrowRight") next = (current + 1) % buttons.length;
    else if (event.key === "ArrowLeft") next = (current - 1 + buttons.length) % buttons.length;
    else if (event.key === "Home") next = 0;
    else if (event.key === "End") next = buttons.length - 1;
    else return;
    event.preventDefault();
    this.focusIndex = next;
    this.requestUpdate();
    buttons[next]?.focus();
  }

  /** The last action previewed, so that moving within one button tells it once. */
  private previewed: string | undefined;

  private preview(event: Event): void {
    const target = event.composedPath()[0];
    const action = target instanceof Element ? target.closest<HTMLElement>("button[data-action]")?.dataset["action"] : undefined;
    if (action === undefined || action === this.previewed) return;
    this.previewed = action;
    this.dispatchEvent(new ControlPreviewEvent(action as ControlAction));
  }

  private handleFocusin(event: FocusEvent): void {
    this.preview(event);
    const index = [...this.buttons].indexOf(event.composedPath()[0] as HTMLButtonElement);
    if (index !== -1 && index !== this.focusIndex) {
      this.focusIndex = index;
      this.requestUpdate();
    }
  }

  override render() {
    let index = 0;
    const tab = () => (index++ === this.focusIndex ? 0 : -1);
    const toggle = (panel: SidePanel, label: string, action: ControlAction, extra: unknown = nothing) =>
      html`<button
        tabindex=${tab()}
        data-action=${action}
        aria-pressed=${this.panel === panel ? "true" : "false"}
        @click=${() => this.fire(action)}
      >
        ${label}${extra}
      </button>`;
    const unread =
      this.unreadChat > 0 && this.panel !== "chat"
        ? html`<span class="badge" aria-label=${`${this.unreadChat} unread`}>${this.unreadChat}</span>`
        : nothing;
    return html`<div
      role="toolbar"
      aria-label="Meeting controls"
      @keydown=${this.handleKeydown}
      @focusin=${this.handleFocusin}
      @pointerover=${this.preview}
      @pointerleave=${() => (this.previewed = undefined)}
    >
      <button tabindex=${tab()} data-action="add-microphone" @click=${() => this.fire("add-microphone")}>Microphone</button>
      <button tabindex=${tab()} @click=${() => this.fire("add-camera")}>Camera</button>
      <button tabindex=${tab()} @click=${() => this.fire("add-screen")}>Screen</button>
      <button
        tabindex=${tab()}
        data-action="share-files"
        @click=${() => this.fire("share-files")}
        aria-keyshortcuts="Shift+F"
      >
        File
      </button>
      <button
        tabindex=${tab()}
        aria-disabled=${this.sharedCount === 0 ? "true" : "false"}
        @click=${() => this.sharedCount > 0 && this.fire("stop-all")}
      >
        Stop all
      </button>
      <span role="separator" aria-orientation="vertical"></span>
      ${toggle("chat", "Chat", "toggle-chat", unread)} ${toggle("settings", "Settings", "toggle-settings")}
      ${toggle("watches", "Known rooms", "toggle-watches")} ${toggle("jellyfin", "Jellyfin", "toggle-jellyfin")}
      <button
        tabindex=${tab()}
        data-action="show-help"
        @click=${() => this.fire("show-help")}
        aria-keyshortcuts="?"
      >
        Keyboard help
      </button>
      <span role="separator" aria-orientation="vertical"></span>
      <button tabindex=${tab()} class="leave" @click=${() => this.fire("leave")}>Leave</button>
    </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "mm-controls": Controls;
  }
}
