// One tile per remote participant (keyed by participant, not by stream): name, connection state
// in words, and their resources with show/hide or play/mute toggles. Properties in (a PeerView),
// intents out (ResourceEnableEvent / ResourceDisableEvent); the app turns those into room calls.
// Every peer-supplied string is rendered as text or an attribute, never as markup.

import { LitElement, css, html, nothing } from "lit";
import { customElement, property } from "lit/decorators.js";
import { repeat } from "lit/directives/repeat.js";
import type { PeerKey, PeerView, RemoteResource } from "../../common/engine/room.js";
import { isSafeImageDataUrl } from "../../common/engine/safe-image.js";
import { safeFileName } from "../../common/engine/file-transfer/file-name.js";
import { formatBytes, formatDuration, type TransferView } from "../files/transfer-view.js";
import type { TrustView } from "../trust/peer-trust.js";
import "./mm-peer-trust.js";
import type { VideoDisplaySizeEvent } from "./mm-stream-view.js";
import "./mm-stream-view.js";
// <mm-transfer> is defined by the file-sharing chunk (client-web/app/lazy-features.ts), which
// is loaded before any transfer exists.
import { tileButtonStyles, tileStyles } from "./tile-styles.js";
import { describeFailure, describePath } from "./connection-words.js";

export { formatBytes };

/** The user wants to download the file `id` offered by `key`. */
export class FileDownloadEvent extends Event {
  static readonly eventName = "file-download";
  constructor(
    readonly key: PeerKey,
    readonly id: string,
  ) {
    super(FileDownloadEvent.eventName, { bubbles: true, composed: true });
  }
}

/** The user wants to watch (or stop watching) a peer's watch-together share. */
export class ShareWatchEvent extends Event {
  static readonly eventName = "share-watch";
  constructor(
    readonly key: PeerKey,
    readonly id: string,
    readonly watch: boolean,
  ) {
    super(ShareWatchEvent.eventName, { bubbles: true, composed: true });
  }
}

/**
 * `key`'s stream `id` is shown at this size (device pixels): the room tells them, so that they
 * encode it no larger for us.
 */
export class StreamDisplaySizeEvent extends Event {
  static readonly eventName = "stream-display-size";
  constructor(
    readonly key: PeerKey,
    readonly id: string,
    readonly width: number,
    readonly height: number,
  ) {
    super(StreamDisplaySizeEvent.eventName, { bubbles: true, composed: true });
  }
}

/** The user wants a resource of `key` started (a video shown, an audio played). */
export class ResourceEnableEvent extends Event {
  static readonly eventName = "resource-enable";
  readonly key: PeerKey;
  readonly id: string;
  constructor(detail: { readonly key: PeerKey; readonly id: string }) {
    super(ResourceEnableEvent.eventName, { bubbles: true, composed: true });
    this.key = detail.key;
    this.id = detail.id;
  }
}

/** The user wants a resource of `key` stopped (hidden, muted), or a pending request cancelled. */
export class ResourceDisableEvent extends Event {
  static readonly eventName = "resource-disable";
  readonly key: PeerKey;
  readonly id: string;
  constructor(detail: { readonly key: PeerKey; readonly id: string }) {
    super(ResourceDisableEvent.eventName, { bubbles: true, composed: true });
    this.key = detail.key;
    this.id = detail.id;
  }
}

/** For a peer whose messages carry no replay stamp (keks-meet and other clients). */
export const UNPROTECTED_WORDS =
  "Another client (such as keks-meet), not verified: it has no safety code, and a hostile relay could replay or redirect its messages unnoticed.";

const CONNECTION_WORDS: Readonly<Record<PeerView["connectionState"], string>> = {
  // Nothing requested either way yet: normal for a peer whose resources nobody enabled.
  none: "Not connected yet",
  new: "Connecting…",
  connecting: "Connecting…",
  connected: "Connected",
  disconnected: "Connection interrupted",
  failed: "Connection failed",
  closed: "Closed",
};

const CONNECTION_TONE: Readonly<Record<PeerView["connectionState"], "good" | "bad" | "neutral">> = {
  none: "neutral",
  new: "neutral",
  connecting: "neutral",
  connected: "good",
  disconnected: "bad",
  failed: "bad",
  closed: "neutral",
};

/** What the tile calls a peer: their name, or "Guest <id>" until they identify (or if they never do). */
export function peerDisplayName(peer: Pick<PeerView, "name" | "clientId">): string {
  const name = peer.name?.trim();
  return name ? name : `Guest ${peer.clientId}`;
}

/** "1.5 MiB": binary units, one decimal from KiB on. */
function trackLabel(resource: RemoteResource): string {
  return resource.info.label?.trim() || (resource.info.trackKind === "audio" ? "Audio" : "Video");
}

@customElement("mm-peer-tile")
export class MmPeerTile extends LitElement {
  static override styles = [
    tileStyles,
    tileButtonStyles,
    css`
    .header {
      display: flex;
      flex-wrap: wrap;
      align-items: baseline;
      gap: 0.25rem 0.75rem;
    }
    .name {
      font-weight: 600;
      font-size: 1.05rem;
    }
    .status {
      color: var(--text-muted, #4a5360);
      font-size: 0.9rem;
    }
    .status::before {
      content: "";
      display: inline-block;
      width: 0.6em;
      height: 0.6em;
      margin-right: 0.35em;
      border-radius: 50%;
      background: var(--text-muted, #4a5360);
    }
    .status.good::before {
      background: var(--accent, #3d5a80);
    }
    .status.bad {
      color: var(--danger, #b3261e);
    }
    .status.bad::before {
      background: var(--danger, #b3261e);
    }
    .path,
    .failure,
    .trust {
      margin: 0;
      font-size: 0.9rem;
      color: var(--text-muted, #4a5360);
    }
    .failure {
      color: var(--danger, #b3261e);
    }
    .badge {
      font-size: 0.85rem;
      padding: 0 0.5rem;
      border-radius: 999px;
      border: 1px solid var(--text-muted, #4a5360);
      color: var(--text, #1b1f24);
    }
    .kind,
    .starting {
      color: var(--text-muted, #4a5360);
      font-size: 0.9rem;
    }
    .poster {
      display: block;
      max-width: 8rem;
      max-height: 8rem;
      border-radius: var(--radius, 10px);
    }
    .preview {
      display: block;
      width: 100%;
      max-width: 16rem;
      aspect-ratio: 1;
      object-fit: contain;
      border-radius: var(--radius, 10px);
      background: #000;
    }
    details pre {
      margin: 0.4rem 0 0;
      white-space: pre-wrap;
      font-size: 0.8rem;
    }
    summary {
      cursor: pointer;
      min-height: 24px;
    }
  `,
  ];

  @property({ attribute: false }) peer: PeerView | undefined;
  /** Shows the connection details area (the `webrtc_debug` preference). */
  @property({ type: Boolean, attribute: "webrtc-debug" }) webrtcDebug = false;
  /** The details text; the app computes it from the connection's stats. */
  @property({ attribute: false }) debugText = "";
  /** Ids of their watch-together shares we are watching. */
  @property({ attribute: false }) watching: ReadonlySet<string> = new Set();
  /** Their audio is above the activity threshold. */
  @property({ type: Boolean }) speaking = false;
  /** Downloads from this peer (newest per file is shown). */
  @property({ attribute: false }) transfers: readonly TransferView[] = [];
  /** Whether they are who they claim (the app computes it from their key and what we verified). */
  @property({ attribute: false }) trust: TrustView | undefined;

  protected override render(): unknown {
    const peer = this.peer;
    if (!peer) return nothing;
    const name = peerDisplayName(peer);
    const resources = [...peer.resources.values()];
    const tracks = resources.filter((resource) => resource.info.kind === "track");
    const others = resources.filter((resource) => resource.info.kind !== "track");
    // The relay lost them; their media may still flow while we wait for them to come back.
    const away = peer.presence === "away";
    const path = peer.connectionState === "connected" && peer.path ? describePath(peer.path) : undefined;
    // Kept while ICE retries: a restart goes back to "connecting", and the cause still holds.
    const failure = peer.connectionState !== "connected" && peer.failure ? describeFailure(peer.failure) : undefined;
    const unprotected = peer.unprotected === true;
    const described = ["status", ...(path ? ["path"] : []), ...(failure ? ["failure"] : []), ...(unprotected ? ["trust"] : []), ...(away ? ["away"] : [])].join(" ");
    return html`
      <div class="tile ${this.speaking ? "speaking" : ""}" role="group" aria-label=${name} aria-describedby=${described}>
        <div class="header">
          <bdi class="name">${name}</bdi>
          <span id="status" class="status ${CONNECTION_TONE[peer.connectionState]}">${CONNECTION_WORDS[peer.connectionState]}</span>
          ${away ? html`<span id="away" class="badge">Reconnecting…</span>` : nothing}
          ${this.speaking ? html`<span class="speaking-badge">Speaking</span>` : nothing}
        </div>
        ${path ? html`<p id="path" class="path" data-path=${peer.path?.kind ?? ""}>${path}</p>` : nothing}
        ${failure ? html`<p id="failure" class="failure" data-cause=${peer.failure ?? ""}>${failure}</p>` : nothing}
        ${unprotected ? html`<p id="trust" class="trust">${UNPROTECTED_WORDS}</p>` : nothing}
        <mm-peer-trust .trust=${this.trust} .peerKey=${peer.key} .peerName=${name}></mm-peer-trust>
        ${tracks.length + others.length > 0
          ? html`<ul>
              ${repeat(tracks, (resource) => resource.info.id, (resource) => this.renderTrack(peer.key, name, resource))}
              ${repeat(others, (resource) => resource.info.id, (resource) => this.renderOther(peer.key, name, resource))}
            </ul>`
          : nothing}
        ${this.webrtcDebug
          ? html`<details>
              <summary>Connection details</summary>
              <pre>${this.debugText}</pre>
            </details>`
          : nothing}
      </div>
    `;
  }

  private renderTrack(key: PeerKey, peerName: string, resource: RemoteResource): unknown {
    const label = trackLabel(resource);
    const isAudio = resource.info.trackKind === "audio";
    const on = resource.state !== "available";
    const action = isAudio ? (on ? "Mute" : "Play") : on ? "Hide" : "Show";
    const source = `${label} from ${peerName}`;
    let media: unknown = nothing;
    if (resource.state === "active" && resource.stream) {
      const sized = (event: VideoDisplaySizeEvent): void => {
        event.stopPropagation();
        this.dispatchEvent(new StreamDisplaySizeEvent(key, resource.info.id, event.width, event.height));
      };
      media = html`<mm-stream-view .stream=${resource.stream} label=${source} @video-display-size=${sized}></mm-stream-view>`;
    } else if (resource.preview !== undefined && isSafeImageDataUrl(resource.preview)) {
      media = html`<img class="preview" src=${resource.preview} alt=${`Preview of ${source}`} />`;
    }
    const toggle = (): void => {
      const detail = { key, id: resource.info.id };
      this.dispatchEvent(on ? new ResourceDisableEvent(detail) : new ResourceEnableEvent(detail));
    };
    // The button says what it will do; the state is in its words, not in aria-pressed, because a
    // toggle whose label also flips reads as "Hide Camera, pressed" (WAI-ARIA APG button pattern).
    return html`<li class="resource track" data-kind=${isAudio ? "audio" : "video"}>
      ${media}
      <div class="row">
        <bdi class="label">${label}</bdi>
        <span class="kind">${isAudio ? "audio" : "video"}</span>
        ${resource.state === "requested" ? html`<span class="starting">Starting…</span>` : nothing}
        <button type="button" class=${on ? "on" : ""} @click=${toggle}>${action} ${label}</button>
      </div>
    </li>`;
  }

  private renderShare(key: PeerKey, peerName: string, resource: RemoteResource): unknown {
    const title = resource.info.label?.trim() || "a video";
    const watching = this.watching.has(resource.info.id);
    const action = watching ? `Stop watching ${title}` : `Watch ${title} with ${peerName}`;
    return html`<li class="resource share" data-kind="jellyfin">
      ${resource.preview && isSafeImageDataUrl(resource.preview)
        ? html`<img class="poster" src=${resource.preview} alt=${`Poster of ${title}`} />`
        : nothing}
      <div class="row">
        <span>Watch together: <bdi class="label">${title}</bdi>${resource.info.durationS ? html` <span class="kind">${formatDuration(resource.info.durationS)}</span>` : nothing}</span>
        <button type="button" aria-label=${action} @click=${() => this.dispatchEvent(new ShareWatchEvent(key, resource.info.id, !watching))}>
          ${watching ? "Stop watching" : "Watch"}
        </button>
      </div>
    </li>`;
  }

  private renderOther(key: PeerKey, peerName: string, resource: RemoteResource): unknown {
    const size = resource.info.size;
    if (resource.info.kind === "jellyfin") return this.renderShare(key, peerName, resource);
    if (resource.info.kind !== "file") {
      const label = resource.info.label?.trim() || resource.info.id;
      return html`<li class="resource other" data-kind=${resource.info.kind}>
        <div class="row"><span><bdi>${label}</bdi>${size === undefined ? nothing : ` (${formatBytes(size)})`}</span></div>
      </li>`;
    }
    // The name shown is the one a download would be saved under: no paths, no control characters.
    const name = safeFileName(resource.info.label);
    const transfer = [...this.transfers].reverse().find((t) => t.resourceId === resource.info.id);
    const busy = transfer !== undefined && (transfer.phase === "opening" || transfer.phase === "transferring" || transfer.phase === "interrupted");
    const type = resource.info.mimeType ? ` · ${resource.info.mimeType}` : "";
    return html`<li class="resource file" data-kind="file">
      <div class="row">
        <span>File <bdi class="label">${name}</bdi> <span class="kind">${size === undefined ? "" : formatBytes(size)}${type}</span></span>
        ${busy
          ? nothing
          : html`<button type="button" @click=${() => this.dispatchEvent(new FileDownloadEvent(key, resource.info.id))} aria-label=${`Download ${name} from ${peerName}`}>
              Download
            </button>`}
      </div>
      ${transfer ? html`<mm-transfer .transfer=${transfer} peerName=${peerName}></mm-transfer>` : nothing}
    </li>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "mm-peer-tile": MmPeerTile;
  }
  interface HTMLElementEventMap {
    "resource-enable": ResourceEnableEvent;
    "resource-disable": ResourceDisableEvent;
    "file-download": FileDownloadEvent;
    "share-watch": ShareWatchEvent;
    "stream-display-size": StreamDisplaySizeEvent;
  }
}
