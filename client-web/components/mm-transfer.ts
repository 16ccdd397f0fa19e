// One file transfer as a row: name, a progress bar with accessible values, rate and time left,
// and Cancel / Try again. The outcome of a download says plainly whether the file is intact.

import { LitElement, css, html, nothing } from "lit";
import { customElement, property } from "lit/decorators.js";
import { formatBytes, formatDuration, formatRate, type TransferView } from "../files/transfer-view.js";

export class TransferCancelEvent extends Event {
  constructor(readonly transferId: string) {
    super("transfer-cancel", { bubbles: true, composed: true });
  }
}

export class TransferRetryEvent extends Event {
  constructor(readonly transferId: string) {
    super("transfer-retry", { bubbles: true, composed: true });
  }
}

function outcome(t: TransferView): string {
  switch (t.phase) {
    case "opening":
      return t.direction === "in" ? "Starting…" : "Starting to send…";
    case "transferring":
      return "";
    case "interrupted":
      return "Connection lost, resuming…";
    case "done":
      if (t.direction === "out") return "Sent.";
      if (t.verified === true) return "Saved. Verified: the file is intact.";
      return "Saved, but not verified: the sender's app sends no checksum.";
    case "failed":
      return `Failed: ${t.message ?? "the transfer did not complete"}. The partial file was discarded.`;
    case "cancelled":
      return t.message ?? "Cancelled.";
  }
}

@customElement("mm-transfer")
export class Transfer extends LitElement {
  static override styles = css`
    :host { display: block; }
    .row { display: flex; flex-wrap: wrap; align-items: center; gap: 0.25rem 0.6rem; }
    progress { flex: 1 1 8rem; height: 0.8rem; accent-color: var(--accent, #3d5a80); }
    .numbers, .outcome { color: var(--text-muted, #4a5360); font-size: 0.9rem; }
    .outcome.good { color: var(--accent-strong, #293f5c); }
    .outcome.bad { color: var(--danger, #b3261e); }
    button { font: inherit; min-height: 2.25rem; min-width: 2.25rem; padding: 0.2rem 0.7rem; border-radius: var(--radius, 10px); border: 1px solid var(--text-muted, #4a5360); background: var(--surface-raised, #fff); color: var(--text, #1b1f24); cursor: pointer; }
    button:focus-visible { outline: 3px solid var(--focus, #0b57d0); outline-offset: 2px; }
    @media (prefers-color-scheme: dark) { .outcome.good { color: var(--accent-soft, #98c1d9); } }
  `;

  @property({ attribute: false }) transfer: TransferView | undefined;
  /** Whose transfer, for the labels ("to bo", "from ana"). */
  @property() peerName = "";

  override render() {
    const t = this.transfer;
    if (!t) return nothing;
    const active = t.phase === "opening" || t.phase === "transferring" || t.phase === "interrupted";
    const percent = t.size > 0 ? Math.min(100, Math.floor((t.bytes / t.size) * 100)) : active ? 0 : 100;
    const left = t.rate && t.rate > 0 ? formatDuration((t.size - t.bytes) / t.rate) : "";
    const what = `${t.direction === "in" ? "Download" : "Upload"} of ${t.name} ${t.direction === "in" ? "from" : "to"} ${this.peerName}`;
    const numbers = `${formatBytes(t.bytes)} of ${formatBytes(t.size)}${t.rate ? ` · ${formatRate(t.rate)}` : ""}${left ? ` · ${left} left` : ""}`;
    const tone = t.phase === "done" ? (t.direction === "out" || t.verified ? "good" : "") : t.phase === "failed" ? "bad" : "";
    return html`<div class="row">
        <progress
          max="100"
          .value=${percent}
          aria-label=${what}
          aria-valuetext=${`${percent} percent, ${numbers}`}
        ></progress>
        ${active
          ? html`<button @click=${() => this.dispatchEvent(new TransferCancelEvent(t.id))} aria-label=${`Cancel ${what}`}>Cancel</button>`
          : nothing}
        ${t.phase === "failed" && t.direction === "in"
          ? html`<button @click=${() => this.dispatchEvent(new TransferRetryEvent(t.id))} aria-label=${`Try again: ${what}`}>Try again</button>`
          : nothing}
      </div>
      ${active ? html`<div class="numbers">${numbers}</div>` : nothing}
      ${outcome(t) ? html`<div class="outcome ${tone}" role=${t.phase === "failed" ? "alert" : "status"}>${outcome(t)}</div>` : nothing}`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "mm-transfer": Transfer;
  }
  interface HTMLElementEventMap {
    "transfer-cancel": TransferCancelEvent;
    "transfer-retry": TransferRetryEvent;
  }
}
