// The part of a peer's tile that says whether they are who they claim: a safety code to compare
// by voice, the verified mark once compared, and plain warnings when the connection does not end
// at their key or when they carry the name of someone verified before with another key.
// Properties in (a TrustView), intents out (TrustConnectEvent, TrustVerifyEvent).

import { LitElement, css, html, nothing } from "lit";
import { customElement, property, state } from "lit/decorators.js";
import type { PeerKey } from "../../common/engine/room.js";
import type { TrustView } from "../trust/peer-trust.js";
import { tileButtonStyles } from "./tile-styles.js";

/** The user wants to compare codes with `key`, with whom no connection is open yet. */
export class TrustConnectEvent extends Event {
  static readonly eventName = "trust-connect";
  constructor(readonly key: PeerKey) {
    super(TrustConnectEvent.eventName, { bubbles: true, composed: true });
  }
}

/** The user compared the codes and confirms (or withdraws) that `key` is who they say. */
export class TrustVerifyEvent extends Event {
  static readonly eventName = "trust-verify";
  constructor(
    readonly key: PeerKey,
    readonly verified: boolean,
  ) {
    super(TrustVerifyEvent.eventName, { bubbles: true, composed: true });
  }
}

export const mismatchWords = (name: string): string =>
  `Warning: the connection to ${name} does not end at the key ${name} announced. Someone between you may be listening. Do not share anything private.`;

export const impersonationWords = (name: string, before: string): string =>
  `Warning: this is not the ${before} you verified before (a different key). It may be someone else using the name; compare safety codes again before you trust ${name}.`;

/** "1 2 3 4, 5 6 7 8, …": so that screen readers say digits, not thousands. */
export const spokenCode = (code: string): string =>
  code
    .split(" ")
    .map((group) => group.split("").join(" "))
    .join(", ");

const dateWords = (at: number): string => new Date(at).toLocaleDateString(undefined, { year: "numeric", month: "long", day: "numeric" });

@customElement("mm-peer-trust")
export class MmPeerTrust extends LitElement {
  static override styles = [
    tileButtonStyles,
    css`
      :host {
        display: block;
      }
      p {
        margin: 0;
        font-size: 0.9rem;
      }
      .warning {
        color: var(--danger, #b3261e);
        font-weight: 600;
      }
      .verified {
        color: var(--accent, #3d5a80);
      }
      .verified::before {
        content: "✓ ";
      }
      .panel {
        display: flex;
        flex-direction: column;
        gap: 0.5rem;
        margin-top: 0.5rem;
      }
      .code {
        font-family: ui-monospace, monospace;
        font-size: 1.3rem;
        letter-spacing: 0.05em;
        word-spacing: 0.3em;
      }
      .actions {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem;
      }
    `,
  ];

  @property({ attribute: false }) trust: TrustView | undefined;
  @property({ attribute: false }) peerKey: PeerKey | undefined;
  @property() peerName = "";
  @state() private open = false;

  protected override render(): unknown {
    const trust = this.trust;
    if (!trust || !this.peerKey) return nothing;
    const name = this.peerName;
    const impersonation = trust.impersonates ? html`<p id="impersonation" class="warning">${impersonationWords(name, trust.impersonates.name)}</p>` : nothing;
    if (trust.state === "unsupported") return impersonation;
    if (trust.state === "mismatch") return html`${impersonation}<p id="mismatch" class="warning">${mismatchWords(name)}</p>`;
    const verified =
      trust.state === "verified"
        ? html`<p id="verified" class="verified">Verified: you compared safety codes with this key on ${dateWords(trust.as.verifiedAt)}.</p>`
        : nothing;
    return html`${impersonation}${verified}
      <button type="button" aria-expanded=${this.open ? "true" : "false"} aria-controls="safety" @click=${() => this.toggle()}>
        ${this.open ? "Hide safety code" : "Safety code"}
      </button>
      ${this.open ? this.renderPanel(trust, name) : nothing}`;
  }

  private renderPanel(trust: Exclude<TrustView, { state: "unsupported" | "mismatch" }>, name: string): unknown {
    if (trust.state === "pending") {
      return html`<div id="safety" class="panel"><p role="status">Connecting to ${name} to show the safety code…</p></div>`;
    }
    const key = this.peerKey as PeerKey;
    return html`<div id="safety" class="panel">
      <p>
        Read these digits to ${name} by voice, or show them in person. If ${name} sees the same digits, nobody sits between
        you.
      </p>
      <p class="code" aria-label=${`Safety code: ${spokenCode(trust.code)}`}>${trust.code}</p>
      <div class="actions">
        ${trust.state === "verified"
          ? html`<button type="button" @click=${() => this.dispatchEvent(new TrustVerifyEvent(key, false))}>Forget that ${name} is verified</button>`
          : html`<button type="button" @click=${() => this.dispatchEvent(new TrustVerifyEvent(key, true))}>The codes match: mark ${name} verified</button>`}
      </div>
    </div>`;
  }

  private toggle(): void {
    this.open = !this.open;
    if (this.open && this.trust?.state === "pending" && this.peerKey) this.dispatchEvent(new TrustConnectEvent(this.peerKey));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "mm-peer-trust": MmPeerTrust;
  }
}
