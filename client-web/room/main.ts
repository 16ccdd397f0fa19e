// Boot of /room: read the secret from the fragment, derive the room's hash and key, connect to
// the relay and render who is here. The secret never leaves this page.

import { LitElement, css, html, nothing } from "lit";
import { customElement, state } from "lit/decorators.js";
import { deriveRoomSecrets } from "../../common/crypto/room-crypto.js";
import { SignalingClient } from "../../common/engine/signaling.js";
import { parseRoomFragment } from "../../common/prefs/fragment.js";
import type { ClientId } from "../../common/wire/packets.js";

type Phase =
  | { readonly kind: "connecting" }
  | { readonly kind: "joined" }
  | { readonly kind: "failed"; readonly message: string };

/** The readable part of a secret: keks-meet names rooms `Name#random`; show only `Name`. */
export function roomDisplayName(secret: string): string {
  const name = secret.split("#")[0]?.trim() ?? "";
  return name.length > 0 && name.length <= 64 && name !== secret ? name : "Meeting";
}

export function signalingUrl(location: { protocol: string; host: string }): string {
  return `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/signaling`;
}

@customElement("mm-room-page")
export class RoomPage extends LitElement {
  static override styles = css`
    :host { display: block; padding: 1rem; max-width: 48rem; margin: 0 auto; }
    h1 { margin: 0.5rem 0; }
    ul { padding-left: 1.2rem; }
    .status { color: var(--text-muted); }
    .error { color: var(--danger); }
  `;

  @state() private phase: Phase = { kind: "connecting" };
  @state() private members: readonly ClientId[] = [];
  @state() private announcement = "";
  private roomName = "Meeting";
  private client: SignalingClient | undefined;
  private readonly memberNumbers = new Map<ClientId, number>();
  private nextNumber = 1;

  override connectedCallback(): void {
    super.connectedCallback();
    void this.start().catch((error: unknown) => {
      this.phase = { kind: "failed", message: error instanceof Error ? error.message : String(error) };
    });
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.client?.close();
  }

  private async start(): Promise<void> {
    const fragment = parseRoomFragment(location.hash);
    if (!fragment.ok) {
      this.phase = { kind: "failed", message: `${fragment.error.message} Open a meeting link, or start one from the home page.` };
      return;
    }
    this.roomName = roomDisplayName(fragment.value.secret);
    document.title = `${this.roomName} · meshmeet`;
    // Derivation (two PBKDF2 runs) overlaps with the socket handshake.
    const secrets = deriveRoomSecrets(fragment.value.secret);
    const client = new SignalingClient({ url: signalingUrl(location) });
    this.client = client;
    client.events.on("room-joined", () => {
      this.phase = { kind: "joined" };
      this.announcement = "You joined the meeting.";
    });
    client.events.on("peer-joined", ({ id }) => {
      this.memberNumbers.set(id, this.nextNumber++);
      this.members = [...client.members];
      this.announcement = `${this.describe(id)} joined. ${this.members.length + 1} people here.`;
    });
    client.events.on("peer-left", ({ id }) => {
      this.announcement = `${this.describe(id)} left. ${client.members.size + 1} people here.`;
      this.members = [...client.members];
    });
    client.events.on("disconnected", ({ byUs, reason }) => {
      if (!byUs) this.phase = { kind: "failed", message: `Lost the connection to the server${reason ? ` (${reason})` : ""}. Reload to rejoin.` };
    });
    await client.connected();
    await client.join(await secrets);
  }

  private describe(id: ClientId): string {
    return `Participant ${this.memberNumbers.get(id) ?? "?"}`;
  }

  override render() {
    const phase = this.phase;
    return html`
      <header><h1>${this.roomName}</h1></header>
      <main>
        ${phase.kind === "failed"
          ? html`<p class="error" role="alert">${phase.message} <a href="/">Home</a></p>`
          : html`<p class="status">${phase.kind === "connecting" ? "Joining…" : "In the meeting."}</p>`}
        ${phase.kind === "joined"
          ? html`<h2>People here</h2>
              <ul aria-label="People here">
                <li>You</li>
                ${this.members.map((id) => html`<li>${this.describe(id)}</li>`)}
              </ul>`
          : nothing}
      </main>
      <div class="visually-hidden" role="status" aria-live="polite">${this.announcement}</div>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "mm-room-page": RoomPage;
  }
}
