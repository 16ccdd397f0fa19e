// What a tile says about whether a member is who they claim: the engine's binding of their
// identity key to our connection, and what this browser remembers of keys it verified.

import type { PeerView } from "../../common/engine/room.js";
import type { VerifiedPeer, VerifiedPeers } from "./verified-peers.js";

export type TrustState =
  /** They sent no identity key (keks-meet, or a browser without ECDSA): there is nothing to compare. */
  | { readonly state: "unsupported" }
  /** A key came, but no connection checks it yet (none is open, or it is still being set up). */
  | { readonly state: "pending" }
  /** The connection does not end at the key they announced: someone rewrote the signaling. */
  | { readonly state: "mismatch" }
  | { readonly state: "unverified"; readonly code: string }
  | { readonly state: "verified"; readonly code: string; readonly as: VerifiedPeer };

export type TrustView = TrustState & {
  /** A person verified before under this name, with another key (or this one sent none). */
  readonly impersonates?: VerifiedPeer | undefined;
};

export function peerTrust(peer: PeerView, verified: Pick<VerifiedPeers, "get" | "otherWithName"> | undefined): TrustView {
  const identity = peer.identity;
  const impersonates = peer.name !== undefined && verified ? verified.otherWithName(peer.name, identity?.key) : undefined;
  const withName = (state: TrustState): TrustView => (impersonates ? { ...state, impersonates } : state);
  if (!identity) return withName({ state: "unsupported" });
  if (identity.binding === "mismatch") return withName({ state: "mismatch" });
  if (identity.binding === "pending" || identity.safetyCode === undefined) return withName({ state: "pending" });
  const known = verified?.get(identity.key);
  return withName(known ? { state: "verified", code: identity.safetyCode, as: known } : { state: "unverified", code: identity.safetyCode });
}
