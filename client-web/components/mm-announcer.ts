// A polite status region for things a screen reader user should hear without moving focus:
// joins, leaves, streams offered/started/stopped, connection trouble. Messages that arrive close
// together are spoken as one (six joins are one announcement, not six interruptions), and the
// region is cleared in between so a repeated message is spoken again.

import { LitElement, css, html } from "lit";
import { customElement, state } from "lit/decorators.js";

/** Messages within this window are joined into one announcement. */
const BATCH_MS = 400;
/** Announcements stay in the region long enough for slow screen readers to pick them up. */
const CLEAR_AFTER_MS = 7_000;

@customElement("mm-announcer")
export class Announcer extends LitElement {
  static override styles = css`
    :host {
      position: absolute;
      width: 1px;
      height: 1px;
      margin: -1px;
      padding: 0;
      overflow: hidden;
      clip: rect(0 0 0 0);
      white-space: nowrap;
      border: 0;
    }
  `;

  @state() private text = "";
  private queue: string[] = [];
  private batchTimer: ReturnType<typeof setTimeout> | undefined;
  private clearTimer: ReturnType<typeof setTimeout> | undefined;

  /** Everything announced so far (for tests and the log), newest last. */
  readonly history: string[] = [];

  announce(message: string): void {
    this.queue.push(message);
    this.batchTimer ??= setTimeout(() => this.flush(), BATCH_MS);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearTimeout(this.batchTimer);
    clearTimeout(this.clearTimer);
  }

  private flush(): void {
    this.batchTimer = undefined;
    const message = this.queue.splice(0).join(" ");
    this.history.push(message);
    // Empty first, then the message: a region whose text does not change is not re-read.
    this.text = "";
    void this.updateComplete.then(() => {
      this.text = message;
      clearTimeout(this.clearTimer);
      this.clearTimer = setTimeout(() => (this.text = ""), CLEAR_AFTER_MS);
    });
  }

  override render() {
    return html`<div role="status" aria-live="polite" aria-atomic="true">${this.text}</div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "mm-announcer": Announcer;
  }
}
