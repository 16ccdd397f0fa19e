// Plays one MediaStream: a <video> when it has video tracks, otherwise an "Audio" placeholder with
// a hidden <audio> element doing the playing. Properties in, nothing out. Keeps playing through
// the browser's own pauses (element moved, autoplay refused until a gesture) without fighting a
// pause the user asked for. Says how large it shows a video (VideoDisplaySizeEvent), so that the
// sender can encode it no larger for us.

import { LitElement, css, html, nothing, type PropertyValues } from "lit";
import { customElement, property, state } from "lit/decorators.js";

/**
 * The size at which the video is shown, in device pixels, once it settled (after a resize).
 * Bubbles but does not leave the shadow tree it is in: the tile that knows whose stream it is
 * passes it on.
 */
export class VideoDisplaySizeEvent extends Event {
  static readonly eventName = "video-display-size";
  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    super(VideoDisplaySizeEvent.eventName, { bubbles: true });
  }
}

/**
 * The first frame of a stream was presented on screen (`presentedAt`, on the page's performance
 * clock). Composed: the room page marks the first remote frame of a join (meshmeet:first-frame).
 */
export class VideoFirstFrameEvent extends Event {
  static readonly eventName = "video-first-frame";
  constructor(readonly presentedAt: number) {
    super(VideoFirstFrameEvent.eventName, { bubbles: true, composed: true });
  }
}

/** A resize settles within this; a sender reconfigures its encoder on each size it is told. */
export const DISPLAY_SIZE_SETTLE_MS = 300;

@customElement("mm-stream-view")
export class MmStreamView extends LitElement {
  static override styles = css`
    :host {
      display: block;
    }
    video {
      display: block;
      width: 100%;
      aspect-ratio: 16 / 9;
      object-fit: contain;
      background: #000;
      border-radius: var(--radius, 10px);
    }
    .audio {
      display: flex;
      align-items: center;
      gap: 0.5rem;
      padding: 0.5rem 0.75rem;
      border: 1px dashed var(--text-muted, #4a5360);
      border-radius: var(--radius, 10px);
      background: var(--surface, #f7f8fa);
      color: var(--text, #1b1f24);
    }
    .glyph {
      font-size: 1.25rem;
      line-height: 1;
    }
    button {
      font: inherit;
      min-height: 2.5rem;
      margin-top: 0.4rem;
      padding: 0.4rem 1rem;
      border-radius: var(--radius, 10px);
      border: 1px solid var(--accent, #3d5a80);
      background: var(--accent, #3d5a80);
      color: #fff;
      cursor: pointer;
    }
    button:focus-visible {
      outline: 3px solid var(--focus, #0b57d0);
      outline-offset: 2px;
    }
  `;

  @property({ attribute: false }) stream: MediaStream | undefined;
  /** Accessible name of the media element, e.g. "Camera from Alice". */
  @property() label = "";
  /** For our own streams: a self-view must never play our microphone back to us. */
  @property({ type: Boolean }) muted = false;

  @state() private hasVideo = false;
  /** The browser refused play() (autoplay policy) and waits for a gesture. */
  @state() private blocked = false;
  /** The user paused this element (context menu, media keys): we leave it paused. */
  private userPaused = false;
  private watched: MediaStream | undefined;
  private sizeObserver: ResizeObserver | undefined;
  private observedVideo: HTMLVideoElement | undefined;
  private sizeTimer: ReturnType<typeof setTimeout> | undefined;
  private lastSize = "";

  override connectedCallback(): void {
    super.connectedCallback();
    // Any gesture on the page lifts an autoplay block, not only a click on our own button.
    document.addEventListener("click", this.onGesture, true);
    document.addEventListener("keydown", this.onGesture, true);
    this.watch(this.stream);
    // Removing an element pauses it; re-attach and resume when it comes back (e.g. tiles reordered).
    this.requestUpdate();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    document.removeEventListener("click", this.onGesture, true);
    document.removeEventListener("keydown", this.onGesture, true);
    this.watch(undefined);
    this.observeSize(null);
    // Let go of the decoder now rather than when the element is collected.
    const media = this.media();
    if (media) media.srcObject = null;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has("stream")) {
      this.watch(this.stream);
      this.userPaused = false;
      this.blocked = false;
    }
    this.hasVideo = (this.stream?.getVideoTracks().length ?? 0) > 0;
  }

  protected override render(): unknown {
    if (!this.stream) return nothing;
    const name = this.label || (this.hasVideo ? "Video" : "Audio");
    const media = this.hasVideo
      ? html`<video autoplay playsinline aria-label=${name} @pause=${this.onPause} @play=${this.onPlay}></video>`
      : html`<div class="audio"><span class="glyph" aria-hidden="true">♪</span><span>Audio</span></div>
          <audio autoplay aria-label=${name} @pause=${this.onPause} @play=${this.onPlay}></audio>`;
    const resume = this.blocked ? html`<button type="button" @click=${this.resume}>Start playback of ${name}</button>` : nothing;
    return html`${media}${resume}`;
  }

  protected override updated(): void {
    this.observeSize(this.renderRoot?.querySelector("video") ?? null);
    const media = this.media();
    if (!media || !this.stream) return;
    media.muted = this.muted;
    if (media.srcObject !== this.stream) {
      media.srcObject = this.stream;
      if (media instanceof HTMLVideoElement && typeof media.requestVideoFrameCallback === "function") {
        media.requestVideoFrameCallback((_now, frame) => this.dispatchEvent(new VideoFirstFrameEvent(frame.presentationTime)));
      }
    }
    if (media.paused && !this.userPaused && !this.blocked) this.play(media);
  }

  /** Watches the size of the shown video element (a new one after each re-render that made one). */
  private observeSize(video: HTMLVideoElement | null): void {
    if (video === (this.observedVideo ?? null)) return;
    this.sizeObserver?.disconnect();
    clearTimeout(this.sizeTimer);
    this.observedVideo = video ?? undefined;
    this.lastSize = "";
    if (!video || typeof ResizeObserver !== "function") return;
    this.sizeObserver ??= new ResizeObserver((entries) => {
      const entry = entries[entries.length - 1];
      if (entry) this.noteSize(entry);
    });
    this.sizeObserver.observe(video);
  }

  private noteSize(entry: ResizeObserverEntry): void {
    // Device pixels: the browser's exact count, or CSS pixels × the pixel ratio, whichever is
    // larger (an emulated pixel ratio, as in headless tests, leaves the exact count in CSS pixels).
    const exact = entry.devicePixelContentBoxSize?.[0];
    const ratio = globalThis.devicePixelRatio || 1;
    const width = Math.round(Math.max(exact?.inlineSize ?? 0, entry.contentRect.width * ratio));
    const height = Math.round(Math.max(exact?.blockSize ?? 0, entry.contentRect.height * ratio));
    clearTimeout(this.sizeTimer);
    if (width < 1 || height < 1) return; // not shown (collapsed, display: none): nothing to tell
    this.sizeTimer = setTimeout(() => {
      const size = `${width}x${height}`;
      if (size === this.lastSize || !this.isConnected) return;
      this.lastSize = size;
      this.dispatchEvent(new VideoDisplaySizeEvent(width, height));
    }, DISPLAY_SIZE_SETTLE_MS);
  }

  private media(): HTMLMediaElement | null {
    return this.renderRoot?.querySelector<HTMLMediaElement>("video, audio") ?? null;
  }

  /** Remote streams gain tracks (screen + its audio arrive as two `track` events): re-pick the element. */
  private watch(stream: MediaStream | undefined): void {
    if (this.watched === stream) return;
    this.watched?.removeEventListener("addtrack", this.onTracksChanged);
    this.watched?.removeEventListener("removetrack", this.onTracksChanged);
    this.watched = stream;
    stream?.addEventListener("addtrack", this.onTracksChanged);
    stream?.addEventListener("removetrack", this.onTracksChanged);
  }

  private readonly onTracksChanged = (): void => this.requestUpdate();

  private play(media: HTMLMediaElement): void {
    media.play().then(
      () => {
        this.blocked = false;
      },
      (error: unknown) => {
        // NotAllowedError: autoplay refused until a gesture, which onGesture or our button gives.
        // AbortError: a newer srcObject or pause() superseded this call, which then owns playback.
        // Anything else leaves the element paused with nothing a retry could change.
        if (error instanceof DOMException && error.name === "NotAllowedError") this.blocked = true;
      },
    );
  }

  private readonly onPause = (event: Event): void => {
    const media = event.currentTarget as HTMLMediaElement;
    // Our own detach, or a stream that ended: nothing to resume.
    if (!this.isConnected || media.srcObject !== this.stream || !this.stream?.active) return;
    // A pause inside a user gesture is the user's; any other (the browser's) is undone.
    if (navigator.userActivation?.isActive) {
      this.userPaused = true;
      return;
    }
    this.play(media);
  };

  private readonly onPlay = (): void => {
    this.userPaused = false;
    this.blocked = false;
  };

  private readonly onGesture = (): void => {
    const media = this.media();
    if (this.blocked && media) this.play(media);
  };

  private readonly resume = (): void => {
    const media = this.media();
    if (media) this.play(media);
  };
}

declare global {
  interface HTMLElementTagNameMap {
    "mm-stream-view": MmStreamView;
  }
  interface HTMLElementEventMap {
    "video-display-size": VideoDisplaySizeEvent;
    "video-first-frame": VideoFirstFrameEvent;
  }
}
