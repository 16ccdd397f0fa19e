// Our own tile: "You (<name>)" and what we share — a muted self-view for video, a plain
// "Microphone on" row for audio (no self-monitoring: it would echo) — each with a Stop button.
// Properties in, intents out (LocalStopEvent / LocalStopAllEvent); the app stops the devices.

import { LitElement, css, html, nothing } from "lit";
import { customElement, property } from "lit/decorators.js";
import { repeat } from "lit/directives/repeat.js";
import type { LocalResource } from "../../common/engine/room.js";
import type { MicrophoneState } from "../audio/microphone.js";
import { formatBytes, type TransferView } from "../files/transfer-view.js";
// <mm-transfer> is defined by the file-sharing chunk (client-web/app/lazy-features.ts), which
// is loaded before any transfer exists.
import { tileButtonStyles, tileStyles } from "./tile-styles.js";
import "./mm-stream-view.js";

/** The user wants to stop sharing one resource. */
export class LocalStopEvent extends Event {
  static readonly eventName = "local-stop";
  readonly id: string;
  constructor(detail: { readonly id: string }) {
    super(LocalStopEvent.eventName, { bubbles: true, composed: true });
    this.id = detail.id;
  }
}

/** The user wants to mute or unmute one microphone. */
export class LocalMuteEvent extends Event {
  static readonly eventName = "local-mute";
  readonly id: string;
  constructor(detail: { readonly id: string }) {
    super(LocalMuteEvent.eventName, { bubbles: true, composed: true });
    this.id = detail.id;
  }
}

/** The user wants to stop sharing everything. */
export class LocalStopAllEvent extends Event {
  static readonly eventName = "local-stop-all";
  constructor() {
    super(LocalStopAllEvent.eventName, { bubbles: true, composed: true });
  }
}

function microphoneWords(state: MicrophoneState | undefined): string {
  if (!state || !state.muted) return state?.suppressing ? "Microphone on, noise suppressed" : "Microphone on";
  return state.deviceOpen ? "Microphone muted" : "Microphone muted and closed";
}

function resourceLabel(resource: LocalResource): string {
  const { info } = resource;
  if (info.label?.trim()) return info.label.trim();
  if (info.kind !== "track") return info.id;
  return info.trackKind === "audio" ? "Audio" : "Video";
}

@customElement("mm-local-tile")
export class MmLocalTile extends LitElement {
  static override styles = [
    tileStyles,
    tileButtonStyles,
    css`
    .tile {
      border: 2px solid var(--accent-soft, #98c1d9);
    }
    .header {
      display: flex;
      flex-wrap: wrap;
      align-items: center;
      justify-content: space-between;
      gap: 0.4rem;
    }
    .name {
      font-weight: 600;
      font-size: 1.05rem;
    }
    .nothing {
      color: var(--text-muted, #4a5360);
      margin: 0;
    }
    .label {
      flex: 1 1 auto;
    }
    /* Our own buttons stop something we share: they say so in the danger colour. */
    button {
      border-color: var(--danger, #b3261e);
      color: var(--danger, #b3261e);
    }
    button.mute {
      border-color: var(--text-muted, #4a5360);
      color: var(--text, #1b1f24);
    }
  `,
  ];

  /** Our display name as others see it. */
  @property() name = "";
  @property({ attribute: false }) resources: readonly LocalResource[] = [];
  /** Our microphone is above the activity threshold (what peers hear, so never while muted). */
  @property({ type: Boolean }) speaking = false;
  /** Mute state of each shared microphone, by resource id. */
  @property({ attribute: false }) microphones: ReadonlyMap<string, MicrophoneState> = new Map();
  /** Uploads of our files, with the name of the peer each goes to. */
  @property({ attribute: false }) transfers: ReadonlyArray<TransferView & { readonly peerName: string }> = [];

  protected override render(): unknown {
    const name = this.name.trim();
    const title = name ? `You (${name})` : "You";
    return html`
      <div class="tile ${this.speaking ? "speaking" : ""}" role="group" aria-label=${title}>
        <div class="header">
          <bdi class="name">${title}</bdi>
          ${this.speaking ? html`<span class="speaking-badge">Speaking</span>` : nothing}
          ${this.resources.length > 1
            ? html`<button type="button" @click=${() => this.dispatchEvent(new LocalStopAllEvent())}>Stop all</button>`
            : nothing}
        </div>
        ${this.resources.length === 0
          ? html`<p class="nothing">Not sharing anything</p>`
          : html`<ul>
              ${repeat(this.resources, (resource) => resource.info.id, (resource) => this.renderResource(resource))}
            </ul>`}
      </div>
    `;
  }

  private renderResource(resource: LocalResource): unknown {
    const { info, stream } = resource;
    const label = resourceLabel(resource);
    let body: unknown;
    let mute: unknown = nothing;
    const microphone = this.microphones.get(info.id);
    if (info.kind === "track" && info.trackKind === "audio") {
      body = html`<span class="label">${microphoneWords(microphone)}</span>`;
      // The button says what it will do (like the tiles' other buttons); the row says the state.
      if (microphone) {
        mute = html`<button type="button" class="mute" @click=${() => this.dispatchEvent(new LocalMuteEvent({ id: info.id }))}>
          ${microphone.muted ? "Unmute microphone" : "Mute microphone"}
        </button>`;
      }
    } else if (info.kind === "track") {
      body = html`<span class="label">${label}</span>`;
    } else {
      body = html`<span class="label"><bdi>${label}</bdi>${info.size === undefined ? nothing : ` (${formatBytes(info.size)})`}</span>`;
    }
    const selfView =
      info.kind === "track" && info.trackKind !== "audio" && stream
        ? html`<mm-stream-view .stream=${stream} muted label=${`Your ${label}`}></mm-stream-view>`
        : nothing;
    return html`<li class="resource" data-kind=${info.kind === "track" ? (info.trackKind ?? "video") : info.kind}>
      ${selfView}
      <div class="row">
        ${body} ${mute}
        <button type="button" @click=${() => this.dispatchEvent(new LocalStopEvent({ id: info.id }))}>Stop ${info.kind === "file" ? `sharing ${label}` : label}</button>
      </div>
      ${info.kind === "file"
        ? repeat(
            this.transfers.filter((t) => t.resourceId === info.id),
            (t) => t.id,
            (t) => html`<mm-transfer .transfer=${t} peerName=${t.peerName}></mm-transfer>`,
          )
        : nothing}
    </li>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "mm-local-tile": MmLocalTile;
  }
  interface HTMLElementEventMap {
    "local-stop": LocalStopEvent;
    "local-mute": LocalMuteEvent;
    "local-stop-all": LocalStopAllEvent;
  }
}
