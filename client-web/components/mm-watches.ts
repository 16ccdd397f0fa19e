// "Known rooms": rooms you keep an eye on, with how many people are in each right now
// (the relay's room_info for their hashes). Links switch rooms; edits are events for the app.

import { LitElement, css, html, nothing } from "lit";
import { customElement, property, state } from "lit/decorators.js";
import { formatRoomFragment } from "../../common/prefs/fragment.js";

export interface WatchView {
  readonly secret: string;
  /** The readable part of the secret (before the first `#`). */
  readonly name: string;
  /** Undefined until the relay has said (it only reports rooms that exist). */
  readonly userCount: number | undefined;
  readonly current: boolean;
}

export class WatchesChangeEvent extends Event {
  constructor(readonly secrets: readonly string[]) {
    super("watches-change", { bubbles: true, composed: true });
  }
}

@customElement("mm-watches")
export class Watches extends LitElement {
  static override styles = css`
    :host { display: block; }
    h2 { margin-top: 0; }
    ul { list-style: none; padding: 0; margin: 0 0 1rem; }
    li { display: flex; flex-wrap: wrap; align-items: center; gap: 0.5rem; padding: 0.4rem 0; border-bottom: 1px solid color-mix(in srgb, var(--text-muted, #555) 25%, transparent); }
    a { color: inherit; font-weight: 600; flex: 1 1 8rem; overflow-wrap: anywhere; }
    .count { color: var(--text-muted, #4a5360); font-size: 0.9rem; }
    .here { font-size: 0.8rem; padding: 0 0.4rem; border-radius: 1rem; background: var(--accent, #3d5a80); color: #fff; }
    button { font: inherit; min-height: 2rem; min-width: 2rem; padding: 0.2rem 0.6rem; border-radius: var(--radius, 10px); border: 1px solid var(--text-muted, #4a5360); background: var(--surface, #f7f8fa); color: inherit; cursor: pointer; }
    input { font: inherit; width: 100%; padding: 0.4rem; border-radius: var(--radius, 10px); border: 1px solid var(--text-muted, #4a5360); background: var(--surface-raised, #fff); color: inherit; }
    label { display: block; margin-bottom: 0.25rem; }
    .row { display: flex; gap: 0.5rem; margin-top: 0.5rem; flex-wrap: wrap; }
    :focus-visible { outline: 3px solid var(--focus, #0b57d0); outline-offset: 2px; }
    p { color: var(--text-muted, #4a5360); }
  `;

  @property({ attribute: false }) watches: readonly WatchView[] = [];
  @property({ type: Boolean }) currentWatched = false;
  @state() private editing = false;

  private emit(secrets: readonly string[]): void {
    this.dispatchEvent(new WatchesChangeEvent(secrets));
  }

  private secrets(): string[] {
    return this.watches.map((w) => w.secret);
  }

  private move(index: number, delta: number): void {
    const list = this.secrets();
    const target = index + delta;
    if (target < 0 || target >= list.length) return;
    [list[index], list[target]] = [list[target] as string, list[index] as string];
    this.emit(list);
  }

  private add(event: SubmitEvent): void {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const input = form.elements.namedItem("rooms") as HTMLInputElement;
    const added = input.value.split(";").map((s) => s.trim()).filter((s) => s.length > 0);
    if (added.length === 0) return;
    this.emit([...this.secrets(), ...added.filter((s) => !this.secrets().includes(s))]);
    input.value = "";
  }

  private describeCount(count: number | undefined): string {
    if (count === undefined || count === 0) return "empty";
    return count === 1 ? "1 person" : `${count} people`;
  }

  override render() {
    return html`<section aria-labelledby="watches-title">
      <h2 id="watches-title">Known rooms</h2>
      ${this.watches.length === 0 ? html`<p>No known rooms yet. Add this room to see who is in it from any other room.</p>` : nothing}
      <ul>
        ${this.watches.map(
          (w, i) => html`<li>
            <a href=${`/room${formatRoomFragment(w.secret)}`} aria-current=${w.current ? "page" : "false"}>${w.name}</a>
            ${w.current ? html`<span class="here">you are here</span>` : nothing}
            <span class="count">${this.describeCount(w.userCount)}</span>
            ${this.editing
              ? html`<button aria-label=${`Move ${w.name} up`} ?hidden=${i === 0} @click=${() => this.move(i, -1)}>↑</button>
                  <button aria-label=${`Move ${w.name} down`} ?hidden=${i === this.watches.length - 1} @click=${() => this.move(i, 1)}>↓</button>
                  <button aria-label=${`Remove ${w.name}`} @click=${() => this.emit(this.secrets().filter((_, j) => j !== i))}>Remove</button>`
              : nothing}
          </li>`,
        )}
      </ul>
      ${this.editing
        ? html`<form @submit=${this.add}>
              <label for="add-rooms">Add rooms (separate several with “;”)</label>
              <input id="add-rooms" name="rooms" type="text" autocomplete="off" spellcheck="false" />
              <div class="row"><button type="submit">Add</button></div>
            </form>
            <div class="row"><button @click=${() => (this.editing = false)}>Done</button></div>`
        : html`<div class="row">
            ${this.currentWatched ? nothing : html`<button @click=${() => this.dispatchEvent(new Event("watch-current", { bubbles: true, composed: true }))}>Add this room</button>`}
            <button @click=${() => (this.editing = true)}>Edit list</button>
          </div>`}
    </section>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "mm-watches": Watches;
  }
}
