// One watch-together player: a heading, the <video> the app's WatchTogether made (hls.js is
// attached to it, so the element is handed over rather than rendered here), and a status line.
// The sharer's player has the native controls: its play, pause and seek are what everyone sees.

import { LitElement, css, html, nothing, type PropertyValues } from "lit";
import { customElement, property, query } from "lit/decorators.js";

@customElement("mm-watch-view")
export class MmWatchView extends LitElement {
  static override styles = css`
    :host {
      display: block;
    }
    section {
      display: flex;
      flex-direction: column;
      gap: 0.4rem;
      padding: 0.75rem;
      border-radius: var(--radius, 10px);
      background: var(--surface-raised, #fff);
      color: var(--text, #1b1f24);
      box-shadow: 0 1px 6px rgb(0 0 0 / 0.12);
    }
    h2 {
      font-size: 1.05rem;
      margin: 0;
    }
    .frame video {
      display: block;
      width: 100%;
      max-height: 60vh;
      background: #000;
      border-radius: var(--radius, 10px);
    }
    .status {
      margin: 0;
      color: var(--text-muted, #4a5360);
    }
    ::slotted(*) {
      align-self: flex-start;
    }
  `;

  @property({ attribute: false }) video: HTMLVideoElement | undefined;
  @property() heading = "";
  @property() status = "";
  /** The sharer's own player: native controls drive the share. */
  @property({ type: Boolean }) controls = false;
  @query(".frame") private frame!: HTMLDivElement;

  protected override render(): unknown {
    return html`<section aria-label=${this.heading}>
      <h2><bdi>${this.heading}</bdi></h2>
      <div class="frame"></div>
      ${this.status ? html`<p class="status" role="status">${this.status}</p>` : nothing}
      <slot></slot>
    </section>`;
  }

  protected override updated(changed: PropertyValues<this>): void {
    const video = this.video;
    if (!video) {
      this.frame.replaceChildren();
      return;
    }
    if (changed.has("video") && video.parentNode !== this.frame) this.frame.replaceChildren(video);
    video.controls = this.controls;
    video.setAttribute("aria-label", this.heading);
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "mm-watch-view": MmWatchView;
  }
}
