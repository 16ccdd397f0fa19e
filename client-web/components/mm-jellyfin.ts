// The Jellyfin side panel: sign in (name and password, Quick Connect, or an API key), browse the
// library (views → items, series → seasons → episodes, search), pick audio, subtitles and
// quality, and share with the room. Browsing reads through the JellyfinLibrary it is given;
// everything that changes state leaves as a JellyfinIntentEvent for the app.

import { LitElement, css, html, nothing } from "lit";
import { customElement, property, state } from "lit/decorators.js";
import type { ItemDetails, JellyfinLibrary, LibraryEntry } from "../jellyfin/library.js";
import type { SavedServer } from "../jellyfin/server-store.js";
import { formatDuration } from "../files/transfer-view.js";

export type QualityPreset = "480p" | "720p" | "1080p";

export type JellyfinIntent =
  | { readonly type: "sign-in"; readonly serverUrl: string; readonly username: string; readonly password: string }
  | { readonly type: "quick-connect"; readonly serverUrl: string }
  | { readonly type: "cancel-quick-connect" }
  | { readonly type: "api-key"; readonly serverUrl: string; readonly apiKey: string; readonly userId: string }
  | { readonly type: "use-saved"; readonly serverUrl: string }
  | { readonly type: "forget"; readonly serverUrl: string }
  | { readonly type: "sign-out" }
  | {
      readonly type: "share" | "enqueue";
      readonly item: ItemDetails;
      readonly audioStreamIndex: number | undefined;
      readonly subtitleStreamIndex: number | undefined;
      readonly preset: QualityPreset;
      readonly mode: "relay" | "broadcast";
    }
  | { readonly type: "stop-share" };

export class JellyfinIntentEvent extends Event {
  static readonly eventName = "jellyfin-intent";
  constructor(readonly intent: JellyfinIntent) {
    super(JellyfinIntentEvent.eventName, { bubbles: true, composed: true });
  }
}

/** One step of the browsing path (breadcrumbs). */
interface Place {
  readonly entry: LibraryEntry;
  /** The series a season belongs to (Jellyfin asks for episodes by series and season). */
  readonly seriesId?: string | undefined;
}

/** Running time, or nothing when Jellyfin did not say. */
function runningTime(seconds: number | undefined): string {
  return seconds === undefined ? "" : formatDuration(seconds);
}

@customElement("mm-jellyfin")
export class MmJellyfin extends LitElement {
  static override styles = css`
    :host {
      display: block;
    }
    h2 {
      font-size: 1.15rem;
      margin: 0 2.5rem 0.5rem 0;
    }
    h3 {
      font-size: 1.05rem;
      margin: 0.5rem 0 0.25rem;
    }
    form,
    .field {
      display: flex;
      flex-direction: column;
      gap: 0.35rem;
      margin-bottom: 0.6rem;
    }
    label {
      display: flex;
      flex-direction: column;
      gap: 0.15rem;
    }
    label.choice {
      flex-direction: row;
      align-items: flex-start;
      gap: 0.4rem;
    }
    /* The field look above (height, padding) is for text inputs and selects, not radios. */
    label.choice input {
      min-height: auto;
      padding: 0;
      margin: 0.3em 0 0;
      flex: none;
    }
    fieldset {
      border: 1px solid var(--text-muted, #4a5360);
      border-radius: var(--radius, 10px);
      display: flex;
      flex-direction: column;
      gap: 0.3rem;
    }
    input,
    select,
    button {
      font: inherit;
      min-height: 2.25rem;
      border-radius: var(--radius, 10px);
      border: 1px solid var(--text-muted, #4a5360);
      background: var(--surface, #f7f8fa);
      color: inherit;
      padding: 0.2rem 0.6rem;
    }
    button {
      cursor: pointer;
    }
    button.primary {
      background: var(--accent, #3d5a80);
      border-color: var(--accent, #3d5a80);
      color: #fff;
    }
    :focus-visible {
      outline: 3px solid var(--focus, #0b57d0);
      outline-offset: 2px;
    }
    .row {
      display: flex;
      flex-wrap: wrap;
      gap: 0.4rem;
      align-items: center;
    }
    ul {
      list-style: none;
      margin: 0;
      padding: 0;
      display: flex;
      flex-direction: column;
      gap: 0.3rem;
    }
    .entry {
      display: flex;
      gap: 0.5rem;
      align-items: center;
      width: 100%;
      text-align: start;
    }
    .entry img {
      width: 2.5rem;
      height: 3.75rem;
      object-fit: cover;
      border-radius: 4px;
      flex: none;
    }
    .meta {
      color: var(--text-muted, #4a5360);
      font-size: 0.9rem;
    }
    .error {
      color: var(--danger, #b3261e);
    }
    nav ol {
      list-style: none;
      display: flex;
      flex-wrap: wrap;
      gap: 0.2rem;
      padding: 0;
      margin: 0 0 0.5rem;
    }
    nav li + li::before {
      content: "›";
      margin-right: 0.2rem;
    }
    .code {
      font-size: 1.6rem;
      letter-spacing: 0.2em;
      font-weight: 600;
    }
  `;

  @property({ attribute: false }) library: JellyfinLibrary | undefined;
  @property({ attribute: false }) saved: readonly SavedServer[] = [];
  @property() busy = "";
  @property() error = "";
  @property() quickConnectCode: string | undefined;
  /** Title of what we share now, if anything. */
  @property() sharingTitle: string | undefined;
  /** False when this meshmeet's configuration turns watch-together off. */
  @property({ type: Boolean }) available = true;

  @state() private path: Place[] = [];
  @state() private entries: LibraryEntry[] = [];
  @state() private details: ItemDetails | undefined;
  @state() private posters = new Map<string, string>();
  @state() private listError = "";
  @state() private loading = false;
  private shownLibrary: JellyfinLibrary | undefined;

  protected override willUpdate(): void {
    if (this.library !== this.shownLibrary) {
      this.shownLibrary = this.library;
      this.path = [];
      this.details = undefined;
      this.entries = [];
      if (this.library) void this.load(() => this.library?.views());
    }
  }

  protected override render(): unknown {
    return html`<h2>Jellyfin: watch together</h2>
      ${this.available ? nothing : html`<p>Watch-together is turned off on this meshmeet server.</p>`}
      ${this.sharingTitle
        ? html`<div class="row" role="group" aria-label="Your share">
            <span>You share <bdi><strong>${this.sharingTitle}</strong></bdi>.</span>
            <button type="button" @click=${() => this.fire({ type: "stop-share" })}>Stop sharing</button>
          </div>`
        : nothing}
      ${this.busy ? html`<p role="status">${this.busy}</p>` : nothing}
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
      ${this.available ? (this.library ? this.renderLibrary(this.library) : this.renderSignIn()) : nothing}`;
  }

  // ---- signing in -------------------------------------------------------------------------------

  private renderSignIn(): unknown {
    return html`
      ${this.saved.length > 0
        ? html`<h3>Your servers</h3>
            <ul>
              ${this.saved.map(
                (s) => html`<li class="row">
                  <span><bdi>${s.userName}</bdi> on <bdi>${s.serverUrl}</bdi></span>
                  <button type="button" @click=${() => this.fire({ type: "use-saved", serverUrl: s.serverUrl })}>Use</button>
                  <button type="button" aria-label=${`Forget ${s.serverUrl}`} @click=${() => this.fire({ type: "forget", serverUrl: s.serverUrl })}>
                    Forget
                  </button>
                </li>`,
              )}
            </ul>`
        : nothing}
      <h3>Sign in</h3>
      <form @submit=${this.onSignIn}>
        <label>Server address <input name="server" type="url" required placeholder="https://jellyfin.example.org" autocomplete="url" /></label>
        <label>User name <input name="username" autocomplete="username" /></label>
        <label>Password <input name="password" type="password" autocomplete="current-password" /></label>
        <div class="row">
          <button class="primary" type="submit">Sign in</button>
          <button type="button" @click=${this.onQuickConnect}>Sign in with Quick Connect</button>
        </div>
      </form>
      ${this.quickConnectCode
        ? html`<div role="status">
            <p>In another Jellyfin app where you are signed in, open Quick Connect and enter this code:</p>
            <p class="code">${this.quickConnectCode}</p>
            <button type="button" @click=${() => this.fire({ type: "cancel-quick-connect" })}>Cancel Quick Connect</button>
          </div>`
        : nothing}
      <details>
        <summary>Advanced: sign in with an API key</summary>
        <form @submit=${this.onApiKey}>
          <label>Server address <input name="server" type="url" required /></label>
          <label>API key <input name="key" required autocomplete="off" /></label>
          <label>User id <input name="user" required autocomplete="off" /></label>
          <button type="submit">Use the API key</button>
        </form>
      </details>
      <p class="meta">
        Only this browser talks to your Jellyfin server. The others get the video from you, encrypted; they never see its address or
        your sign-in. Your server must allow this site (CORS: <bdi>${location.origin}</bdi>).
      </p>`;
  }

  private readonly onSignIn = (event: SubmitEvent): void => {
    event.preventDefault();
    const data = new FormData(event.target as HTMLFormElement);
    this.fire({ type: "sign-in", serverUrl: String(data.get("server") ?? ""), username: String(data.get("username") ?? ""), password: String(data.get("password") ?? "") });
  };

  private readonly onQuickConnect = (event: Event): void => {
    const form = (event.target as HTMLElement).closest("form");
    const server = form?.querySelector<HTMLInputElement>("input[name=server]");
    if (!server?.reportValidity()) return;
    this.fire({ type: "quick-connect", serverUrl: server.value });
  };

  private readonly onApiKey = (event: SubmitEvent): void => {
    event.preventDefault();
    const data = new FormData(event.target as HTMLFormElement);
    this.fire({ type: "api-key", serverUrl: String(data.get("server") ?? ""), apiKey: String(data.get("key") ?? ""), userId: String(data.get("user") ?? "") });
  };

  // ---- browsing ---------------------------------------------------------------------------------

  private renderLibrary(library: JellyfinLibrary): unknown {
    return html`
      <div class="row">
        <span>Signed in to <bdi>${library.serverUrl}</bdi> as <bdi>${library.userName}</bdi>.</span>
        <button type="button" @click=${() => this.fire({ type: "sign-out" })}>Sign out</button>
      </div>
      <form role="search" @submit=${this.onSearch}>
        <label>Search the library <input name="term" type="search" required /></label>
        <button type="submit">Search</button>
      </form>
      <nav aria-label="Where you are in the library">
        <ol>
          <li><button type="button" @click=${() => this.goTo(0)}>Libraries</button></li>
          ${this.path.map((place, i) => html`<li><button type="button" @click=${() => this.goTo(i + 1)}><bdi>${place.entry.name}</bdi></button></li>`)}
        </ol>
      </nav>
      ${this.listError ? html`<p class="error" role="alert">${this.listError}</p>` : nothing}
      ${this.details ? this.renderDetails(this.details) : this.renderEntries()}`;
  }

  private renderEntries(): unknown {
    if (this.loading) return html`<p role="status">Loading…</p>`;
    if (this.entries.length === 0) return html`<p>Nothing here.</p>`;
    return html`<ul aria-label="Items">
      ${this.entries.map((entry) => {
        const poster = this.posters.get(entry.id);
        const meta = [entry.detail, entry.year, runningTime(entry.durationS)].filter(Boolean).join(" · ");
        return html`<li>
          <button class="entry" type="button" @click=${() => void this.openEntry(entry)}>
            ${poster ? html`<img src=${poster} alt="" />` : nothing}
            <span><bdi>${entry.name}</bdi> ${meta ? html`<span class="meta">${meta}</span>` : nothing}</span>
          </button>
        </li>`;
      })}
    </ul>`;
  }

  private renderDetails(item: ItemDetails): unknown {
    return html`<section aria-label=${`Share ${item.name}`}>
      <h3><bdi>${item.name}</bdi></h3>
      <p class="meta">${[item.detail, item.year, runningTime(item.durationS)].filter(Boolean).join(" · ")}</p>
      <form @submit=${(e: SubmitEvent) => this.onShare(e, item)}>
        <div class="field">
          <label for="audio">Audio</label>
          <select id="audio" name="audio">
            ${item.audio.map((t) => html`<option value=${t.index} ?selected=${t.index === item.defaultAudio}>${t.label}</option>`)}
          </select>
        </div>
        <div class="field">
          <label for="subtitle">Subtitles</label>
          <select id="subtitle" name="subtitle">
            <option value="">None</option>
            ${item.subtitles.map((t) => html`<option value=${t.index} ?selected=${t.index === item.defaultSubtitle}>${t.label}</option>`)}
          </select>
        </div>
        <div class="field">
          <label for="preset">Quality</label>
          <select id="preset" name="preset">
            <option value="480p">480p (1.5 Mbit/s per viewer)</option>
            <option value="720p" selected>720p (3 Mbit/s per viewer)</option>
            <option value="1080p">1080p (6 Mbit/s per viewer)</option>
          </select>
        </div>
        <fieldset>
          <legend>How the others get it</legend>
          <label class="choice"
            ><input type="radio" name="mode" value="relay" checked /> Stream (best picture, subtitles as text; their browser plays the
            stream)</label
          >
          <label class="choice"
            ><input type="radio" name="mode" value="broadcast" /> Broadcast your player (works in any browser; subtitles burned in;
            uses more of your upload and processor)</label
          >
        </fieldset>
        <div class="row">
          <button class="primary" type="submit">${this.sharingTitle ? "Share instead" : "Share with the room"}</button>
          ${this.sharingTitle ? html`<button type="submit" name="queue" value="1">Add to the queue</button>` : nothing}
        </div>
      </form>
    </section>`;
  }

  private readonly onSearch = (event: SubmitEvent): void => {
    event.preventDefault();
    const term = String(new FormData(event.target as HTMLFormElement).get("term") ?? "").trim();
    if (!term) return;
    this.path = [];
    this.details = undefined;
    void this.load(() => this.library?.search(term));
  };

  private onShare(event: SubmitEvent, item: ItemDetails): void {
    event.preventDefault();
    const data = new FormData(event.target as HTMLFormElement);
    const queue = (event.submitter as HTMLButtonElement | null)?.name === "queue";
    const audio = String(data.get("audio") ?? "");
    const subtitle = String(data.get("subtitle") ?? "");
    const preset = String(data.get("preset") ?? "720p");
    this.fire({
      type: queue ? "enqueue" : "share",
      item,
      audioStreamIndex: audio === "" ? undefined : Number(audio),
      subtitleStreamIndex: subtitle === "" ? undefined : Number(subtitle),
      preset: preset === "480p" || preset === "1080p" ? preset : "720p",
      mode: data.get("mode") === "broadcast" ? "broadcast" : "relay",
    });
  }

  private async openEntry(entry: LibraryEntry): Promise<void> {
    const library = this.library;
    if (!library) return;
    if (entry.playable) {
      this.loading = true;
      const details = await library.details(entry.id);
      this.loading = false;
      if (!details.ok) {
        this.listError = details.error;
        return;
      }
      this.listError = "";
      this.path = [...this.path, { entry }];
      this.details = details.value;
      return;
    }
    const seriesId = entry.type === "Series" ? entry.id : this.path.at(-1)?.seriesId;
    this.path = [...this.path, { entry, seriesId }];
    void this.load(() => library.open(entry, seriesId));
  }

  private goTo(depth: number): void {
    const library = this.library;
    if (!library) return;
    this.path = this.path.slice(0, depth);
    this.details = undefined;
    const place = this.path.at(-1);
    void this.load(() => (place ? library.open(place.entry, place.seriesId) : library.views()));
  }

  private async load(fetchList: () => Promise<{ ok: true; value: LibraryEntry[] } | { ok: false; error: string }> | undefined): Promise<void> {
    const pending = fetchList();
    if (!pending) return;
    this.loading = true;
    const result = await pending;
    this.loading = false;
    if (!result.ok) {
      this.listError = result.error;
      this.entries = [];
      return;
    }
    this.listError = "";
    this.entries = result.value;
    const library = this.library;
    for (const entry of result.value) {
      void library?.poster(entry.id).then((url) => {
        if (url && this.library === library) this.posters = new Map(this.posters).set(entry.id, url);
      });
    }
  }

  private fire(intent: JellyfinIntent): void {
    this.dispatchEvent(new JellyfinIntentEvent(intent));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "mm-jellyfin": MmJellyfin;
  }
  interface HTMLElementEventMap {
    "jellyfin-intent": JellyfinIntentEvent;
  }
}
