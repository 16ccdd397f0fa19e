// Adapts the engine's identity bindings and this browser's verified keys to the tiles: what each
// tile shows (peerTrust), the intents behind its buttons, and one announcement per new warning —
// a connection that does not end at the key, or a name someone else was verified under — since
// a warning nobody hears protects nobody.

import type { ReactiveController, ReactiveControllerHost } from "lit";
import type { PeerKey, PeerView, Room } from "../../common/engine/room.js";
import { impersonationWords, mismatchWords } from "../components/mm-peer-trust.js";
import { peerTrust, type TrustView } from "./peer-trust.js";
import { VerifiedPeers } from "./verified-peers.js";

export interface TrustControllerOptions {
  readonly room: Room;
  readonly say: (message: string) => void;
  readonly nameOf: (key: PeerKey) => string;
  /** Where verified keys are kept (tests pass their own); IndexedDB's default store otherwise. */
  readonly load?: () => Promise<VerifiedPeers>;
}

export class TrustController implements ReactiveController {
  private verified: VerifiedPeers | undefined;
  /** The warnings already announced for each peer, so that each is said once. */
  private readonly announced = new Map<PeerKey, Set<string>>();
  /** Peers we connected to on our own to confirm a remembered key (once each). */
  private readonly confirming = new Set<PeerKey>();

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly options: TrustControllerOptions,
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    void (this.options.load ?? (() => VerifiedPeers.load()))().then((verified) => {
      this.verified = verified;
      this.host.requestUpdate();
    });
  }

  hostUpdate(): void {
    const present = new Set<PeerKey>();
    for (const peer of this.options.room.peerViews()) {
      present.add(peer.key);
      const view = this.viewOf(peer);
      const name = this.options.nameOf(peer.key);
      if (view.state === "mismatch") this.announceOnce(peer.key, "mismatch", mismatchWords(name));
      if (view.impersonates) this.announceOnce(peer.key, `impersonates:${view.impersonates.key}`, impersonationWords(name, view.impersonates.name));
      // Someone announces a key this browser verified: connect at once to see whether the
      // connection really ends at it, so that the tile says "verified" (or warns) unasked.
      if (peer.identity?.binding === "pending" && peer.connectionState === "none" && this.verified?.get(peer.identity.key) && !this.confirming.has(peer.key)) {
        this.confirming.add(peer.key);
        this.options.room.connect(peer.key);
      }
    }
    for (const key of this.announced.keys()) if (!present.has(key)) this.announced.delete(key);
    for (const key of this.confirming) if (!present.has(key)) this.confirming.delete(key);
  }

  viewOf(peer: PeerView): TrustView {
    return peerTrust(peer, this.verified);
  }

  /** Opens a connection to `key`, so that a safety code exists to compare. */
  connect(key: PeerKey): void {
    this.options.room.connect(key);
  }

  async setVerified(key: PeerKey, verified: boolean): Promise<void> {
    const identity = this.options.room.peer(key)?.identity;
    if (!identity || !this.verified) return;
    const name = this.options.nameOf(key);
    if (verified) {
      // Only what the person compared: a code shown for this very key and connection.
      if (identity.binding !== "bound") return;
      await this.verified.markVerified(identity.key, name);
      this.options.say(`${name} is verified. This browser will recognise them in later meetings.`);
    } else {
      await this.verified.forget(identity.key);
      this.options.say(`${name} is no longer marked verified.`);
    }
    this.host.requestUpdate();
  }

  private announceOnce(key: PeerKey, warning: string, words: string): void {
    const said = this.announced.get(key) ?? new Set<string>();
    this.announced.set(key, said);
    if (said.has(warning)) return;
    said.add(warning);
    this.options.say(words);
  }
}
