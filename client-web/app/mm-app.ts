// The meeting page: layout and mediator. Owns nothing of the protocol: it reads the Room's
// snapshot, turns component events into Room intents, and turns Room events into words for the
// announcer, notifications and the chat log. Global listeners (keys, paste, drop, unload) are
// added on connect and removed on disconnect.

import { LitElement, css, html, nothing } from "lit";
import { customElement, property, query, state } from "lit/decorators.js";
import { repeat } from "lit/directives/repeat.js";
import type { PeerKey, PeerView, Room, RoomEvents } from "../../common/engine/room.js";
import type { PrefKey } from "../../common/prefs/schema.js";
import { boundChatHistory, MAX_CHAT_HISTORY_IMAGE_CHARS } from "../chat/chat-history.js";
import { imageFilesFrom } from "../chat/image-files.js";
import type { Announcer } from "../components/mm-announcer.js";
import type { Chat, ChatEntry, ChatImageFilesEvent, ChatSendEvent } from "../components/mm-chat.js";
import type { ControlAction, ControlEvent, ControlPreviewEvent, SidePanel } from "../components/mm-controls.js";
import type { HelpDialog } from "../components/mm-help.js";
import type { LocalMuteEvent, LocalStopEvent } from "../components/mm-local-tile.js";
import type { VideoFirstFrameEvent } from "../components/mm-stream-view.js";
import type { FileDownloadEvent, ResourceDisableEvent, ResourceEnableEvent, ShareWatchEvent, StreamDisplaySizeEvent } from "../components/mm-peer-tile.js";
import type { JellyfinIntent, JellyfinIntentEvent } from "../components/mm-jellyfin.js";
import type { TransferCancelEvent, TransferRetryEvent } from "../components/mm-transfer.js";
import type { WatchesChangeEvent } from "../components/mm-watches.js";
import type { PrefsStore } from "../prefs/prefs-store.js";
import type { StatsSampler } from "./debug-stats.js";
import { describeFailure } from "../components/connection-words.js";
import { actionFor, deepActiveElement, type KeyAction } from "./keybinds.js";
import type { WorkerSha256 } from "../hashing/worker-sha256.js";
import { AudioActivity } from "../audio/audio-activity.js";
import { defaultRnnoiseUrls } from "../audio/rnnoise-urls.js";
import { SharedAudioContext } from "../audio/shared-audio-context.js";
import type { FileTransfers } from "./file-transfers.js";
import { LazyModule, whenSettled } from "./lazy-module.js";
import { LocalMedia, type MediaKind } from "./local-media.js";
import { RoomWatches, type KnownRoomSecrets } from "./room-watches.js";
import type { JellyfinAccount } from "./jellyfin-account.js";
import type { WatchTogether } from "./watch-together.js";
import { SHARE_KIND } from "../watch/share-kind.js";
import "../components/mm-announcer.js";
import "../components/mm-chat.js";
import "../components/mm-controls.js";
import "../components/mm-local-tile.js";
import "../components/mm-peer-tile.js";
import type { TrustConnectEvent, TrustVerifyEvent } from "../components/mm-peer-trust.js";
import { TrustController } from "../trust/trust-controller.js";

/** Chat history kept on the page; older lines drop off (the relay keeps none). */
const MAX_CHAT_ENTRIES = 500;
const DEBUG_REFRESH_MS = 2_000;
/**
 * How long after the page starts the lazily loaded parts are fetched anyway, when the main thread
 * is idle: late enough to stay out of a join's way (keys, ICE, the first frames take about 1–2 s
 * on a slow machine), early enough that they are there before most people open a panel.
 */
const PRELOAD_AFTER_MS = 4_000;

/** Prefs a running microphone follows live. */
const MICROPHONE_PREFS: ReadonlySet<PrefKey> = new Set([
  "rnnoise",
  "native_noise_suppression",
  "echo_cancellation",
  "auto_gain_control",
  "microphone_gain",
] satisfies PrefKey[]);

const MEDIA_NAMES: Record<MediaKind, string> = { microphone: "microphone", camera: "camera", screen: "screen" };

/** "camera", "camera and microphone", "microphone, camera and screen". */
function listOf(words: readonly string[]): string {
  return words.length <= 1 ? (words[0] ?? "") : `${words.slice(0, -1).join(", ")} and ${words.at(-1) ?? ""}`;
}

@customElement("mm-app")
export class App extends LitElement {
  static override styles = css`
    :host { display: grid; grid-template-rows: auto 1fr auto; height: 100vh; height: 100dvh; color: var(--text); background: var(--surface); }
    header { display: flex; align-items: center; gap: 0.75rem; padding: 0.4rem 1rem; flex-wrap: wrap; }
    h1 { font-size: 1.2rem; margin: 0; overflow-wrap: anywhere; }
    .status { font-size: 0.85rem; padding: 0.1rem 0.6rem; border-radius: 1rem; background: var(--surface-raised); border: 1px solid var(--text-muted); }
    .status.bad { color: var(--danger); border-color: var(--danger); }
    .stage { display: flex; min-height: 0; }
    .main { flex: 1; display: flex; flex-direction: column; min-width: 0; overflow: auto; }
    .grid { flex: 1; overflow: auto; padding: 0.75rem; display: grid; gap: 0.75rem; grid-template-columns: repeat(auto-fill, minmax(min(100%, 18rem), 1fr)); align-content: start; }
    aside { width: min(24rem, 100%); border-left: 1px solid color-mix(in srgb, var(--text-muted) 30%, transparent); background: var(--surface-raised); overflow: auto; padding: 0.75rem; position: relative; }
    aside .close { position: absolute; top: 0.5rem; right: 0.5rem; }
    button { font: inherit; min-height: 2.25rem; min-width: 2.25rem; padding: 0.2rem 0.7rem; border-radius: var(--radius); border: 1px solid var(--text-muted); background: var(--surface); color: inherit; cursor: pointer; }
    :focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
    .link-media { margin: 0 1rem; display: flex; gap: 0.5rem; flex-wrap: wrap; }
    .notice { margin: 0 1rem; padding: 0.4rem 0.75rem; border-radius: var(--radius); border: 1px solid var(--danger); color: var(--danger); }
    @media (max-width: 48rem) {
      .stage { flex-direction: column; }
      aside { width: 100%; border-left: none; border-top: 1px solid color-mix(in srgb, var(--text-muted) 30%, transparent); max-height: 60%; }
    }
  `;

  @property({ attribute: false }) room!: Room;
  @property({ attribute: false }) prefs!: PrefsStore;
  @property() roomName = "Meeting";
  @property() secret = "";
  /** From /config.json: the Jellyfin servers watch-together may use (["*"] any, [] none). */
  @property({ attribute: false }) jellyfinServers: readonly string[] = ["*"];
  /** Keeps known rooms' derived secrets for warm joins (set by the boot; none in tests). */
  @property({ attribute: false }) knownRoomSecrets: KnownRoomSecrets | undefined;
  @state() private panel: SidePanel | null = null;
  @state() private chat: ChatEntry[] = [];
  @state() private unread = 0;
  @state() private debugTexts = new Map<PeerKey, string>();
  @state() private notice = "";
  /** Capture that a link asked for: waits for the person to press the button (see addStartupMedia). */
  @state() private linkMedia: MediaKind[] = [];
  @query("mm-announcer") private announcer!: Announcer;
  @query("mm-help") private help!: HelpDialog;
  private media!: LocalMedia;
  /** File sharing, created on first use (its code is a lazily loaded chunk). */
  private files: FileTransfers | undefined;
  private audio!: SharedAudioContext;
  private activity!: AudioActivity;
  /** Ids (see audioStreams) of streams whose level is above the threshold. */
  @state() private speaking: ReadonlySet<string> = new Set();
  /** Shift+Space is held. */
  private talking = false;
  private hashing: WorkerSha256 | undefined;
  @query("#file-picker") private filePicker!: HTMLInputElement;
  private watches!: RoomWatches;
  /** Created with the Jellyfin panel, on first opening. */
  private jellyfin: JellyfinAccount | undefined;
  /** Created on the first share started or joined. */
  private watch: WatchTogether | undefined;
  private sampler: StatsSampler | undefined;
  // What a join does not need, in two chunks loaded on first use (see lazy-module.ts).
  private readonly panels = new LazyModule(() => import("./lazy-panels.js"), () => this.requestUpdate());
  private readonly features = new LazyModule(() => import("./lazy-features.js"), () => this.requestUpdate());
  private trust!: TrustController;
  private readonly cleanups: Array<() => void> = [];
  private nextChatId = 1;
  private panelOpener: HTMLElement | null = null;
  private debugTimer: ReturnType<typeof setInterval> | undefined;
  private startedMedia = false;
  private firstRemoteFrameMarked = false;

  override connectedCallback(): void {
    super.connectedCallback();
    this.audio = new SharedAudioContext({ onSuspended: () => this.say("Audio starts at your first click or key press on this page.") });
    this.media = new LocalMedia(
      this.room,
      () => this.prefs.values,
      () => this.requestUpdate(),
      // Built into /assets next to the room page's scripts (scripts/build.ts), like the SHA-256 worker.
      { audio: this.audio, rnnoiseUrls: defaultRnnoiseUrls(import.meta.url) },
      (message) => this.say(message),
    );
    this.activity = new AudioActivity(
      this.audio,
      () => this.prefs.values.audio_activity_threshold,
      (speaking) => (this.speaking = speaking),
    );
    this.watches = new RoomWatches(this.room, this.prefs, this.secret, () => this.requestUpdate(), this.knownRoomSecrets);
    this.trust ??= new TrustController(this, { room: this.room, say: (message) => this.say(message), nameOf: (key) => this.nameOf(key) });
    this.listenToRoom();
    this.cleanups.push(this.prefs.on("change", ({ key }) => this.handlePrefChange(key)));
    this.cleanups.push(
      this.prefs.on("save-failed", () => {
        this.notice = "A setting applies to this page but could not be saved in this browser.";
        this.say(this.notice);
      }),
    );
    this.listen(document, "keydown", (e) => this.handleKeydown(e as KeyboardEvent));
    this.listen(document, "keyup", (e) => this.handleKeyup(e as KeyboardEvent));
    // A held key whose release the page never sees (focus went elsewhere) must not keep us talking.
    this.listen(window, "blur", () => this.stopTalking());
    this.listen(document, "paste", (e) => this.handlePaste(e as ClipboardEvent));
    this.listen(document, "dragover", (e) => this.handleDragOver(e as DragEvent));
    this.listen(document, "drop", (e) => this.handleDrop(e as DragEvent));
    this.listen(window, "beforeunload", (e) => this.handleBeforeUnload(e as BeforeUnloadEvent));
    this.updateDebugTimer();
    this.cleanups.push(whenSettled(() => this.preloadAll(), PRELOAD_AFTER_MS));
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    for (const cleanup of this.cleanups.splice(0)) cleanup();
    clearInterval(this.debugTimer);
    this.watches.close();
    this.files?.close();
    this.hashing?.close();
    this.activity.close();
    this.media.stopAll();
    this.watch?.close();
  }

  // ---- lazily loaded parts --------------------------------------------------------------------

  /** File sharing, loading its chunk and starting the hashing worker on first use. */
  private async useFiles(): Promise<FileTransfers> {
    const { FileTransfers, WorkerSha256 } = await this.features.load();
    if (!this.files) {
      // Built into /assets next to the room page's scripts (scripts/build.ts); it hashes files off this thread.
      const hashing = new WorkerSha256(new URL("sha256-worker.js", import.meta.url));
      this.hashing = hashing;
      this.files = new FileTransfers(this.room, (key) => this.nameOf(key), () => this.requestUpdate(), hashing.create);
    }
    return this.files;
  }

  /** Watch-together, loading its chunk on the first share started or joined. */
  private async useWatch(): Promise<WatchTogether> {
    const { WatchTogether } = await this.features.load();
    this.watch ??= new WatchTogether(this.room, () => this.requestUpdate(), (message) => this.say(message));
    return this.watch;
  }

  /** Loads what `panel` shows; false (and the reason said) when its chunk could not be fetched. */
  private async loadPanel(panel: SidePanel): Promise<boolean> {
    try {
      switch (panel) {
        case "chat":
          return true; // part of the page (see lazy-panels.ts)
        case "settings":
        case "watches":
          await this.panels.load();
          return true;
        case "jellyfin": {
          const { JellyfinAccount } = await this.features.load();
          this.jellyfin ??= new JellyfinAccount(() => this.requestUpdate(), () => this.jellyfinServers);
          this.jellyfin.loadSaved();
          return true;
        }
      }
    } catch {
      this.say(couldNotLoad(PANEL_LABELS[panel].toLowerCase()));
      return false;
    }
  }

  /** Runs `use` once the feature's chunk is there; says so when it could not be fetched. */
  private withFeature<T>(load: () => Promise<T>, what: string, use: (feature: T) => void): void {
    load().then(use, () => this.say(couldNotLoad(what)));
  }

  /** What a control is about to open starts loading (hover, focus). */
  private preloadFor(action: ControlAction): void {
    switch (action) {
      case "toggle-settings":
      case "toggle-watches":
      case "show-help":
        return this.panels.preload();
      case "toggle-jellyfin":
      case "share-files":
        return this.features.preload();
      case "add-microphone":
        return this.media.preloadMicrophone();
      default:
        return;
    }
  }

  private preloadAll(): void {
    this.panels.preload();
    this.features.preload();
  }

  protected override willUpdate(): void {
    this.activity.sync(this.audioStreams());
  }

  /** Every stream with audio we can meter, keyed `<owner>\u0000<resource id>` (owner: a PeerKey or "local"). */
  private audioStreams(): Map<string, MediaStream> {
    const streams = new Map<string, MediaStream>();
    for (const resource of this.media.resources) if (resource.stream) streams.set(`local\u0000${resource.info.id}`, resource.stream);
    for (const peer of this.room.peerViews()) {
      for (const resource of peer.resources.values()) if (resource.stream) streams.set(`${peer.key}\u0000${resource.info.id}`, resource.stream);
    }
    return streams;
  }

  private isSpeaking(owner: string): boolean {
    for (const id of this.speaking) if (id.startsWith(`${owner}\u0000`)) return true;
    return false;
  }

  private listen(target: EventTarget, type: string, handler: (event: Event) => void): void {
    target.addEventListener(type, handler);
    this.cleanups.push(() => target.removeEventListener(type, handler));
  }

  // ---- room → words ----------------------------------------------------------------------------

  private on<K extends keyof RoomEvents>(type: K, handler: (payload: RoomEvents[K]) => void): void {
    this.cleanups.push(this.room.events.on(type, handler));
  }

  private nameOf(key: PeerKey): string {
    const peer = this.room.peer(key);
    return peer?.name || `Guest ${peer?.clientId.toString(36).slice(-4) ?? ""}`.trim();
  }

  private resourceLabel(key: PeerKey, id: string): string {
    return this.room.peer(key)?.resources.get(id)?.info.label ?? "a stream";
  }

  private listenToRoom(): void {
    this.on("changed", () => this.requestUpdate());
    this.on("relay-status", (status) => {
      if (status === "reconnecting") this.say("Lost the connection to the server. Reconnecting… Calls already running continue.");
      if (status === "connected" && this.startedMedia) this.say("Connected to the server again.");
      if (status === "connected" && !this.startedMedia) {
        this.startedMedia = true;
        void this.addStartupMedia();
      }
    });
    this.on("peer-renamed", ({ name, previous }) => {
      if (previous === undefined) {
        this.say(`${name} joined.`);
        this.notify("join", `${name} joined.`);
        this.systemChat(`${name} joined.`);
      } else this.say(`${previous} is now called ${name}.`);
    });
    this.on("peer-left", ({ name }) => {
      const who = name ?? "A guest";
      this.say(`${who} left.`);
      this.notify("leave", `${who} left.`);
      this.systemChat(`${who} left.`);
    });
    this.on("peer-away", ({ key }) => this.say(`${this.nameOf(key)} lost the connection to the server; waiting for them to come back.`));
    this.on("peer-back", ({ key }) => this.say(`${this.nameOf(key)} is back.`));
    this.on("resource-provided", ({ key, id }) => {
      const info = this.room.peer(key)?.resources.get(id)?.info;
      if (info?.kind === "file") {
        this.say(`${this.nameOf(key)} offers the file ${info.label ?? "without a name"}.`);
        this.features.preload();
      } else if (info?.kind === SHARE_KIND) {
        this.say(`${this.nameOf(key)} invites you to watch ${info.label ?? "a video"} together.`);
        this.features.preload();
      }
      else this.say(`${this.nameOf(key)} shares ${this.resourceLabel(key, id).toLowerCase()}.`);
    });
    this.on("resource-withdrawn", ({ key }) => this.say(`${this.nameOf(key)} stopped sharing something.`));
    this.on("problem", ({ code, detail }) => {
      // Only what the user can act on or should know; the rest is in the log.
      if (code === "bad-offer" || code === "chat-too-large") this.say(`Ignored: ${detail}.`);
    });
    this.on("connection-failed", ({ key, cause }) => this.say(`Could not connect to ${this.nameOf(key)}. ${describeFailure(cause)}`));
    this.on("stream-started", ({ key, id }) => this.say(`Now receiving ${this.nameOf(key)}'s ${this.resourceLabel(key, id).toLowerCase()}.`));
    this.on("stream-stopped", ({ key }) => this.say(`Stopped receiving a stream from ${this.nameOf(key)}.`));
    this.on("local-requested", ({ key, id, active }) => {
      const label = this.media.resources.find((r) => r.info.id === id)?.info.label?.toLowerCase() ?? "a stream";
      if (active) this.say(`${this.nameOf(key)} is now receiving your ${label}.`);
    });
    this.on("chat", ({ from, content, at }) => {
      const authorName = from === "self" ? this.room.name : this.nameOf(from);
      this.pushChat({ id: String(this.nextChatId++), from, authorName, content, at });
      if (from !== "self") {
        if (this.panel !== "chat") this.unread++;
        this.notify("chat", "text" in content ? content.text : "(image)", `meshmeet: ${authorName}`);
      }
    });
  }

  private say(message: string): void {
    this.announcer?.announce(message);
  }

  // Stable functions for child components (a new closure each render would re-render them).
  private readonly sayWords = (message: string): void => this.say(message);
  private readonly nameOfPeer = (key: PeerKey): string => this.nameOf(key);

  private pushChat(entry: ChatEntry): void {
    this.chat = boundChatHistory([...this.chat, entry].slice(-MAX_CHAT_ENTRIES), MAX_CHAT_HISTORY_IMAGE_CHARS);
  }

  /** Join/leave lines in the chat log, as keks-meet shows them; marked as from nobody. */
  private systemChat(text: string): void {
    this.pushChat({ id: String(this.nextChatId++), from: "system", authorName: "meshmeet", content: { text }, at: Date.now() });
  }

  private notify(kind: "chat" | "join" | "leave", body: string, title = "meshmeet"): void {
    const enabled = { chat: this.prefs.values.notify_chat, join: this.prefs.values.notify_join, leave: this.prefs.values.notify_leave }[kind];
    if (!enabled || typeof Notification === "undefined" || Notification.permission !== "granted" || document.hasFocus()) return;
    new Notification(title, { body: body.slice(0, 200), tag: `meshmeet-${kind}` });
  }

  // ---- intents --------------------------------------------------------------------------------

  private async addMedia(kind: MediaKind): Promise<void> {
    const result = await this.media.add(kind);
    if (result.ok) {
      this.say(`You share your ${MEDIA_NAMES[kind]}.`);
      this.notice = "";
    } else {
      this.notice = `Could not share your ${MEDIA_NAMES[kind]}: ${describeCaptureError(result.error.code)}`;
      this.say(this.notice);
    }
  }

  /**
   * Shares what the prefs ask for on join. Set in Settings or stored, it starts at once. Set by
   * the link, it waits for one press of a button: where the site already has camera permission,
   * a stranger's link with `camera_enabled=1` would otherwise switch the camera on unasked.
   */
  private async addStartupMedia(): Promise<void> {
    const prefs = this.prefs.values;
    const wanted: [MediaKind, boolean | undefined, PrefKey][] = [
      ["microphone", prefs.microphone_enabled, "microphone_enabled"],
      ["camera", prefs.camera_enabled, "camera_enabled"],
      ["screen", prefs.screencast_enabled, "screencast_enabled"],
    ];
    const fromLink = wanted.filter(([, on, key]) => on && this.prefs.sources[key] === "url").map(([kind]) => kind);
    for (const [kind, on, key] of wanted) if (on && this.prefs.sources[key] !== "url") await this.addMedia(kind);
    if (fromLink.length === 0) return;
    this.linkMedia = fromLink;
    await this.updateComplete;
    this.renderRoot.querySelector<HTMLButtonElement>("#link-media-start")?.focus();
    this.say(`This link asks to share your ${listOf(fromLink.map((kind) => MEDIA_NAMES[kind]))}. Press ${this.linkMediaButtonText()} to start.`);
  }

  private linkMediaButtonText(): string {
    return `Join with ${listOf(this.linkMedia.map((kind) => MEDIA_NAMES[kind]))}`;
  }

  private async startLinkMedia(): Promise<void> {
    const kinds = this.linkMedia;
    this.linkMedia = [];
    for (const kind of kinds) await this.addMedia(kind);
  }

  private get sharedCount(): number {
    return this.media.count + (this.files?.resources.length ?? 0);
  }

  private stopAll(): void {
    if (this.sharedCount === 0) return;
    this.media.stopAll();
    const files = this.files;
    for (const resource of files?.resources ?? []) files?.stopSharing(resource.info.id);
    this.say("You stopped sharing everything.");
  }

  private stopLocal(id: string): void {
    if (this.files?.has(id)) this.files.stopSharing(id);
    else this.media.stop(id);
  }

  private shareFiles(list: readonly File[]): void {
    if (list.length === 0) return;
    this.withFeature(() => this.useFiles(), "file sharing", (files) => {
      files.share(list);
      this.say(list.length === 1 ? `You share the file ${list[0]?.name ?? ""}.` : `You share ${list.length} files.`);
    });
  }

  private perform(action: ControlAction | KeyAction): void {
    switch (action) {
      case "add-microphone":
      case "add-camera":
      case "add-screen":
        void this.addMedia(action.slice(4) as MediaKind);
        return;
      case "share-files":
        this.filePicker.click();
        return;
      case "stop-all":
        this.stopAll();
        return;
      case "toggle-chat":
        this.togglePanel("chat");
        return;
      case "toggle-settings":
        this.togglePanel("settings");
        return;
      case "toggle-jellyfin":
        this.togglePanel("jellyfin");
        return;
      case "toggle-watches":
        this.togglePanel("watches");
        return;
      case "show-help": {
        const opener = deepActiveElement() as HTMLElement | null;
        this.withFeature(
          () => this.panels.load().then(() => this.help.updateComplete),
          "the keyboard help",
          () => this.help.show(opener),
        );
        return;
      }
      case "remove-oldest-chat":
        this.chat = this.chat.slice(1);
        return;
      case "toggle-mute":
        void this.toggleMute();
        return;
      case "push-to-talk":
        this.startTalking();
        return;
      case "leave":
        this.media.stopAll();
        this.room.leave();
        location.assign("/");
        return;
    }
  }

  private togglePanel(panel: SidePanel): void {
    if (this.panel === panel) {
      this.closePanel();
      return;
    }
    const opener = deepActiveElement() as HTMLElement | null;
    // Usually preloaded already (idle time, hover, focus): then this waits for nothing.
    void this.loadPanel(panel).then((loaded) => {
      if (loaded && this.panel !== panel) this.showPanel(panel, opener);
    });
  }

  private showPanel(panel: SidePanel, opener: HTMLElement | null): void {
    this.panelOpener ??= opener;
    this.panel = panel;
    if (panel === "chat") this.unread = 0;
    void this.updateComplete.then(() => {
      if (panel === "chat") this.renderRoot.querySelector<Chat>("mm-chat")?.focusInput();
      else this.renderRoot.querySelector<HTMLElement>("aside h2, aside [tabindex='-1']")?.focus();
      if (panel !== "chat") this.shadowRoot?.querySelector<HTMLElement>(`aside`)?.focus();
    });
  }

  private closePanel(): void {
    this.panel = null;
    const opener = this.panelOpener;
    this.panelOpener = null;
    void this.updateComplete.then(() => opener?.focus());
  }

  private async sendImages(files: readonly File[]): Promise<void> {
    let encoder: typeof import("./lazy-panels.js");
    try {
      encoder = await this.panels.load();
    } catch {
      this.say(couldNotLoad("image sending"));
      return;
    }
    const { encodeChatImage, describeImageEncodeError } = encoder;
    for (const file of files) {
      const encoded = await encodeChatImage(file);
      if (encoded.ok) this.room.sendChat({ image: encoded.value });
      else {
        this.notice = `Could not send the image: ${describeImageEncodeError(encoded.error)}.`;
        this.say(this.notice);
      }
    }
  }

  private handlePrefChange(key: PrefKey): void {
    if (key === "username") this.room.setName(this.prefs.values.username || this.room.name);
    if (key === "webrtc_debug") this.updateDebugTimer();
    if (key === "relay_only") this.room.setIceTransportPolicy(this.prefs.values.relay_only ? "relay" : "all");
    if (key === "room_watches") this.watches.reload();
    if (MICROPHONE_PREFS.has(key)) this.media.updatePrefs();
    this.requestUpdate();
  }

  private updateDebugTimer(): void {
    clearInterval(this.debugTimer);
    this.debugTimer = undefined;
    if (!this.prefs.values.webrtc_debug) return;
    const refresh = async () => {
      const { StatsSampler } = await this.panels.load();
      const sampler = (this.sampler ??= new StatsSampler());
      const texts = new Map<PeerKey, string>();
      for (const peer of this.room.peerViews()) {
        const pc = this.room.connectionOf(peer.key);
        texts.set(peer.key, pc ? await sampler.describe(pc) : "no connection yet (nothing requested)");
      }
      this.debugTexts = texts;
    };
    const tick = () => void refresh().catch(() => undefined); // a missed sample is retried next tick
    tick();
    this.debugTimer = setInterval(tick, DEBUG_REFRESH_MS);
  }

  // ---- global input ---------------------------------------------------------------------------

  private handleKeydown(event: KeyboardEvent): void {
    const target = event.composedPath()[0] ?? null;
    if (event.key === "Escape" && this.panel && !this.help.isOpen) {
      this.closePanel();
      return;
    }
    // Auto-repeat of a held push-to-talk key would otherwise scroll or press the focused button.
    if (this.talking && event.code === "Space") {
      event.preventDefault();
      return;
    }
    const action = actionFor(event, target);
    if (!action) return;
    event.preventDefault();
    this.perform(action);
  }

  private handleKeyup(event: KeyboardEvent): void {
    if (!this.talking || (event.code !== "Space" && event.key !== "Shift")) return;
    event.preventDefault(); // a focused button would take the Space release as a press
    this.stopTalking();
  }

  private startTalking(): void {
    if (this.talking) return;
    if (!this.media.hasMicrophone) {
      this.say("Push-to-talk needs a shared microphone: Shift+M shares it.");
      return;
    }
    this.talking = true;
    void this.media.pushToTalk(true).then((result) => {
      if (!result.ok) this.say(`Could not open your microphone: ${describeCaptureError(result.error.code)}`);
    });
  }

  private stopTalking(): void {
    if (!this.talking) return;
    this.talking = false;
    void this.media.pushToTalk(false);
  }

  private async toggleMute(id?: string): Promise<void> {
    if (!this.media.hasMicrophone) {
      this.say("You are not sharing a microphone: Shift+M shares it.");
      return;
    }
    const mute = id === undefined ? !this.media.allMuted : !this.media.microphoneState(id)?.muted;
    const result = id === undefined ? await this.media.setAllMuted(mute) : await this.media.setMuted(id, mute);
    if (!result.ok) {
      this.notice = `Could not unmute your microphone: ${describeCaptureError(result.error.code)}`;
      this.say(this.notice);
      return;
    }
    this.say(mute ? "Microphone muted." : "Microphone on.");
  }

  private handlePaste(event: ClipboardEvent): void {
    const files = imageFilesFrom(event.clipboardData);
    if (files.length === 0) return;
    event.preventDefault();
    void this.sendImages(files);
  }

  private handleDragOver(event: DragEvent): void {
    if (event.dataTransfer?.types.includes("Files")) event.preventDefault();
  }

  /** Images dropped on the chat go to the chat; anything dropped elsewhere is shared as files. */
  private handleDrop(event: DragEvent): void {
    const onChat = event.composedPath().some((target) => target instanceof HTMLElement && target.localName === "mm-chat");
    const images = imageFilesFrom(event.dataTransfer);
    if (onChat && images.length > 0) {
      event.preventDefault();
      void this.sendImages(images);
      return;
    }
    const files = [...(event.dataTransfer?.files ?? [])];
    if (files.length === 0) return;
    event.preventDefault();
    this.shareFiles(files);
  }

  private handleBeforeUnload(event: BeforeUnloadEvent): void {
    // A download is started by navigating to the service worker's URL; the page stays.
    if (this.features.value?.isDownloadNavigation()) return;
    if (this.sharedCount === 0 || !this.prefs.values.enable_onbeforeunload) return;
    event.preventDefault();
    // Older browsers need returnValue set; the text itself is not shown by modern ones.
    event.returnValue = "You are sharing something. Leave anyway?";
  }

  // ---- render ---------------------------------------------------------------------------------

  private relayStatusText(): { text: string; bad: boolean } {
    switch (this.room.relayStatus) {
      case "connecting":
        return { text: "Joining…", bad: false };
      case "connected":
        return { text: `${this.room.peerViews().length + 1} here`, bad: false };
      case "reconnecting":
        return { text: "Server connection lost, reconnecting…", bad: true };
      case "closed":
        return { text: "Left", bad: true };
    }
  }

  private renderPanel() {
    if (!this.panel) return nothing;
    const prefs = this.prefs;
    const content =
      this.panel === "chat"
        ? html`<mm-chat
            .entries=${this.chat}
            .imageViewPopup=${prefs.values.image_view_popup ?? true}
            @chat-send=${(e: ChatSendEvent) => this.room.sendChat(e.content)}
            @chat-image-files=${(e: ChatImageFilesEvent) => void this.sendImages(e.files)}
          ></mm-chat>`
        : this.panel === "settings"
          ? html`<mm-settings
              .values=${prefs.values}
              .sources=${prefs.sources}
              .warnings=${prefs.warnings}
              .notificationPermission=${typeof Notification === "undefined" ? "unsupported" : Notification.permission}
              @pref-change=${(e: Event & { key: PrefKey; value: unknown }) => this.changePref(e.key, e.value)}
              @pref-unset=${(e: Event & { key: PrefKey }) => void prefs.unset(e.key)}
              @prefs-reset=${() => void prefs.reset().then(() => this.requestUpdate())}
              @notification-permission-request=${() => void Notification.requestPermission().then(() => this.requestUpdate())}
            ></mm-settings>`
          : this.panel === "jellyfin" && this.jellyfin
            ? html`<mm-jellyfin
                .library=${this.jellyfin.library}
                .saved=${this.jellyfin.saved}
                .busy=${this.jellyfin.busy}
                .error=${this.jellyfin.error}
                .quickConnectCode=${this.jellyfin.quickConnectCode}
                .sharingTitle=${this.watch?.localShare?.title}
                .available=${this.jellyfinServers.length > 0}
                @jellyfin-intent=${(e: JellyfinIntentEvent) => void this.handleJellyfin(e.intent)}
              ></mm-jellyfin>`
            : html`<mm-watches
                .watches=${this.watches.views()}
                .currentWatched=${this.watches.includesCurrent()}
                @watches-change=${(e: WatchesChangeEvent) => void this.watches.set(e.secrets)}
                @watch-current=${() => void this.watches.set([...this.watches.secrets(), this.secret])}
              ></mm-watches>`;
    const label = PANEL_LABELS[this.panel];
    return html`<aside aria-label=${label} tabindex="-1">
      <button class="close" @click=${() => this.closePanel()} aria-label=${`Close ${label.toLowerCase()}`}>✕</button>
      ${content}
    </aside>`;
  }

  /**
   * The last step of a join's timeline (the engine's milestones and the boot's marks come before):
   * when the first frame of someone else's video was on screen.
   */
  private markFirstRemoteFrame(event: VideoFirstFrameEvent): void {
    if (this.firstRemoteFrameMarked || !event.composedPath().some((target) => target instanceof Element && target.localName === "mm-peer-tile")) return;
    this.firstRemoteFrameMarked = true;
    performance.mark("meshmeet:first-frame", { startTime: event.presentedAt });
  }

  private changePref(key: PrefKey, value: unknown): void {
    void this.prefs.set(key, value).then((result) => {
      if (!result.ok) this.say(result.error.message);
      this.requestUpdate();
    });
  }

  private async handleJellyfin(intent: JellyfinIntent): Promise<void> {
    const account = this.jellyfin;
    const features = this.features.value;
    // Intents come from the panel, which exists only once its chunk and the account do.
    if (!account || !features) return;
    await features.performJellyfinIntent(intent, { account, watch: () => this.useWatch(), say: this.sayWords, changed: () => this.requestUpdate() });
  }

  private renderWatching() {
    const watch = this.watch;
    if (!watch) return nothing;
    return html`<mm-watching
      .watch=${watch}
      .local=${watch.localShare}
      .joined=${watch.joinedShares}
      ?viewersMayControl=${watch.viewersMayControl}
      ?waitForViewers=${watch.waitForViewers}
      .nameOf=${this.nameOfPeer}
      .say=${this.sayWords}
    ></mm-watching>`;
  }

  private renderTile(peer: PeerView) {
    return html`<mm-peer-tile
      .peer=${peer}
      .speaking=${this.isSpeaking(peer.key)}
      .watching=${new Set((this.watch?.joinedShares ?? []).filter((j) => j.key === peer.key).map((j) => j.id))}
      @share-watch=${(e: ShareWatchEvent) =>
        this.withFeature(() => this.useWatch(), "watch-together", (watch) => (e.watch ? watch.join(e.key, e.id) : watch.leave(e.key, e.id)))}
      .webrtcDebug=${this.prefs.values.webrtc_debug ?? false}
      .debugText=${this.debugTexts.get(peer.key) ?? ""}
      @resource-enable=${(e: ResourceEnableEvent) => this.room.request(e.key, e.id)}
      @stream-display-size=${(e: StreamDisplaySizeEvent) => this.room.reportDisplaySize(e.key, e.id, { width: e.width, height: e.height })}
      @resource-disable=${(e: ResourceDisableEvent) => this.room.requestStop(e.key, e.id)}
      .transfers=${(this.files?.views() ?? []).filter((t) => t.direction === "in" && t.peer === peer.key)}
      @file-download=${(e: FileDownloadEvent) => this.withFeature(() => this.useFiles(), "file sharing", (files) => void files.download(e.key, e.id))}
      .trust=${this.trust.viewOf(peer)}
      @trust-connect=${(e: TrustConnectEvent) => this.trust.connect(e.key)}
      @trust-verify=${(e: TrustVerifyEvent) => void this.trust.setVerified(e.key, e.verified)}
    ></mm-peer-tile>`;
  }

  override render() {
    const status = this.relayStatusText();
    return html`
      <header>
        <h1>${this.roomName}</h1>
        <span class="status ${status.bad ? "bad" : ""}">${status.text}</span>
      </header>
      ${this.prefs.values.warn_redirect
        ? html`<p class="notice" role="alert">
            This link put the room secret in the address the server saw. Start a new meeting for privacy.
          </p>`
        : nothing}
      ${this.notice ? html`<p class="notice" role="alert">${this.notice}</p>` : nothing}
      ${this.linkMedia.length > 0
        ? html`<p class="link-media">
            <button id="link-media-start" type="button" @click=${() => void this.startLinkMedia()}>${this.linkMediaButtonText()}</button>
            <button type="button" @click=${() => (this.linkMedia = [])}>Not now</button>
          </p>`
        : nothing}
      <div class="stage">
        <div class="main">
        ${this.renderWatching()}
        <section
          class="grid"
          aria-label="Participants"
          @transfer-cancel=${(e: TransferCancelEvent) => this.files?.cancel(e.transferId)}
          @transfer-retry=${(e: TransferRetryEvent) => this.files?.retry(e.transferId)}
          @video-first-frame=${(e: VideoFirstFrameEvent) => this.markFirstRemoteFrame(e)}
        >
          <mm-local-tile
            .name=${this.room.name}
            .resources=${[...this.media.resources, ...(this.files?.resources ?? [])]}
            .transfers=${(this.files?.views() ?? [])
              .filter((t) => t.direction === "out")
              .map((t) => ({ ...t, peerName: this.nameOf(t.peer) }))}
            .speaking=${this.isSpeaking("local")}
            .microphones=${new Map(this.media.resources.flatMap((r) => { const state = this.media.microphoneState(r.info.id); return state ? [[r.info.id, state] as const] : []; }))}
            @local-stop=${(e: LocalStopEvent) => this.stopLocal(e.id)}
            @local-mute=${(e: LocalMuteEvent) => void this.toggleMute(e.id)}
            @local-stop-all=${() => this.stopAll()}
          ></mm-local-tile>
          ${repeat(
            this.room.peerViews(),
            (peer) => peer.key,
            (peer) => this.renderTile(peer),
          )}
        </section>
        </div>
        ${this.renderPanel()}
      </div>
      <mm-controls
        .panel=${this.panel}
        .sharedCount=${this.sharedCount}
        .unreadChat=${this.unread}
        @control=${(e: ControlEvent) => this.perform(e.action)}
        @control-preview=${(e: ControlPreviewEvent) => this.preloadFor(e.action)}
      ></mm-controls>
      <input
        id="file-picker"
        type="file"
        multiple
        hidden
        @change=${(e: Event) => {
          const input = e.target as HTMLInputElement;
          this.shareFiles([...(input.files ?? [])]);
          input.value = "";
        }}
      />
      <mm-announcer></mm-announcer>
      <mm-help></mm-help>
    `;
  }
}

const PANEL_LABELS: Record<SidePanel, string> = { chat: "Chat", settings: "Settings", watches: "Known rooms", jellyfin: "Jellyfin" };

function couldNotLoad(what: string): string {
  return `Could not load ${what}: the connection to the server may be down. Try again.`;
}

function describeCaptureError(code: string): string {
  switch (code) {
    case "denied":
      return "permission was denied. Allow it in the browser's site settings and try again.";
    case "not_found":
      return "no such device was found.";
    case "in_use":
      return "the device is in use by another program.";
    case "unsupported":
      return "this browser cannot do that here (it needs HTTPS or localhost).";
    case "aborted":
      return "it was cancelled.";
    default:
      return "something went wrong with the device.";
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "mm-app": App;
  }
}
