// Watch-together on the stage: the share we run (its queue, who watches, the sharer's options)
// and each share we joined (with the controls the sharer allows). Part of the lazily loaded
// watch-together chunk. It acts on the WatchTogether session it is given; the page passes the
// session's current views so that it renders again when they change.

import { LitElement, css, html, nothing } from "lit";
import { customElement, property } from "lit/decorators.js";
import type { PeerKey } from "../../common/engine/room.js";
import type { JoinedShareView, LocalShareView, WatchTogether } from "../app/watch-together.js";
import { tileButtonStyles } from "./tile-styles.js";
import "./mm-watch-view.js";

function viewers(n: number, stalled: number): string {
  return `${n === 0 ? "No one watches yet" : n === 1 ? "1 person watches" : `${n} people watch`}${stalled > 0 ? `; ${stalled} waiting for the video` : ""}.`;
}

@customElement("mm-watching")
export class Watching extends LitElement {
  static override styles = [
    tileButtonStyles,
    css`
      :host { display: block; }
      .watching { display: grid; gap: 0.75rem; padding: 0.75rem 0.75rem 0; grid-template-columns: repeat(auto-fit, minmax(min(100%, 24rem), 1fr)); }
      .watch-actions { display: flex; flex-wrap: wrap; gap: 0.4rem; align-items: center; }
      .queue { margin: 0; padding-left: 1.5rem; }
    `,
  ];

  @property({ attribute: false }) watch!: WatchTogether;
  @property({ attribute: false }) local: LocalShareView | undefined;
  @property({ attribute: false }) joined: readonly JoinedShareView[] = [];
  @property({ type: Boolean }) viewersMayControl = false;
  @property({ type: Boolean }) waitForViewers = true;
  @property({ attribute: false }) nameOf: (key: PeerKey) => string = () => "";
  /** Words for the announcer. */
  @property({ attribute: false }) say: (message: string) => void = () => undefined;

  private async stopSharing(): Promise<void> {
    await this.watch.stopSharing();
    this.say("You stopped sharing the video.");
  }

  private seek(share: JoinedShareView, by: number): void {
    const at = Math.max(0, (share.video?.currentTime ?? 0) + by);
    this.watch.requestControl(share.key, share.id, "seek", at);
  }

  override render() {
    const local = this.local;
    const joined = this.joined;
    if (!local && joined.length === 0) return nothing;
    return html`<div class="watching">
      ${local
        ? html`<mm-watch-view
            .video=${local.video}
            heading=${local.mode === "broadcast" ? `You broadcast ${local.title}` : `You share ${local.title}`}
            status=${local.holding ? "Paused until everyone has caught up…" : viewers(local.viewers, local.stalledViewers)}
            controls
          >
            <div class="watch-actions">
              <button type="button" @click=${() => void this.stopSharing()}>Stop sharing</button>
              ${local.queue.length > 0
                ? html`<button type="button" @click=${() => void this.watch.next()}>Play next: <bdi>${local.queue[0]}</bdi></button>`
                : nothing}
              ${local.mode === "relay"
                ? html`<label
                    ><input type="checkbox" .checked=${this.viewersMayControl} @change=${(e: Event) => this.watch.setViewersMayControl((e.target as HTMLInputElement).checked)} />
                    Let viewers pause, seek and skip</label
                  >
                  <label
                    ><input type="checkbox" .checked=${this.waitForViewers} @change=${(e: Event) => this.watch.setWaitForViewers((e.target as HTMLInputElement).checked)} />
                    Pause for anyone whose video stalls</label
                  >`
                : nothing}
            </div>
            ${local.queue.length > 0
              ? html`<ol class="queue" aria-label="Queue">
                  ${local.queue.map(
                    (title, index) => html`<li>
                      <bdi>${title}</bdi>
                      <button type="button" aria-label=${`Remove ${title} from the queue`} @click=${() => this.watch.removeFromQueue(index)}>Remove</button>
                    </li>`,
                  )}
                </ol>`
              : nothing}
          </mm-watch-view>`
        : nothing}
      ${joined.map(
        (share) => html`<mm-watch-view
          .video=${share.video}
          heading=${`${share.title} from ${this.nameOf(share.key)}`}
          status=${share.status === "connecting"
            ? "Connecting…"
            : share.status === "failed"
              ? `Cannot play: ${share.message ?? "unknown error"}`
              : share.waiting > 0
                ? `${share.waiting === 1 ? "Someone is" : `${share.waiting} people are`} waiting for the video.`
                : ""}
        >
          <div class="watch-actions">
            <button type="button" @click=${() => this.watch.leave(share.key, share.id)}>Stop watching</button>
            ${share.control
              ? html`<button type="button" @click=${() => this.watch.requestControl(share.key, share.id, share.sharerPlaying ? "pause" : "play")}>
                    ${share.sharerPlaying ? "Pause for everyone" : "Play for everyone"}
                  </button>
                  <button type="button" @click=${() => this.seek(share, -10)}>Back 10 seconds</button>
                  <button type="button" @click=${() => this.seek(share, 10)}>Forward 10 seconds</button>
                  <button type="button" @click=${() => this.watch.requestControl(share.key, share.id, "next")}>Next in the queue</button>`
              : nothing}
          </div>
        </mm-watch-view>`,
      )}
    </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "mm-watching": Watching;
  }
}
