// The keks-meet wire contract, field for field.
// snake_case lives here and in parse/encode only; everything above common/wire is camelCase.
//
// Every packet on the wire is a JSON object with exactly one key (serde's externally tagged
// form). The parsers turn those into the tagged unions below; the encoders produce the exact
// bytes keks-meet produces, so a keks-meet peer or server can sit on the other side.

/** A connection id assigned by the relay. JSON integer, unique among live connections. */
export type ClientId = number;

/** 64 lowercase hex characters: what the relay sees of a room. */
export type RoomHash = string;

// ---------------------------------------------------------------------------------------------
// Client → relay

export type ServerboundPacket =
  /** Leave the current room (if any) and join `hash`; `null` only leaves. */
  | { readonly type: "join"; readonly hash: RoomHash | null }
  /** Keep-alive. keks-meet web sends `{"ping":null}`, native clients the bare string `"ping"`. */
  | { readonly type: "ping" }
  /** `recipient: null` = every other member of the sender's room. `message` is opaque (sealed). */
  | { readonly type: "relay"; readonly recipient: ClientId | null; readonly message: string }
  /** Replaces the list of watched room hashes. */
  | { readonly type: "watch_rooms"; readonly hashes: readonly RoomHash[] };

// ---------------------------------------------------------------------------------------------
// Relay → client

/**
 * Codes of the relay's `error` packet. This packet is a meshmeet extension: keks-meet clients
 * ignore unknown client-bound packets, so sending it is harmless to them.
 */
export type RelayErrorCode =
  | "malformed" // not JSON, not one known packet, or a field of the wrong type
  | "binary_frame" // the relay speaks text frames only
  | "frame_too_large"
  | "rate_limited"
  | "not_in_room" // relay while in no room
  | "unknown_recipient" // targeted relay to an id that is not in the sender's room
  | "room_full"
  | "too_many_watches";

export type ClientboundPacket =
  | { readonly type: "init"; readonly yourId: ClientId; readonly version: string }
  /** Also sent to the joiner for itself, always before any other member's `client_join`. */
  | { readonly type: "client_join"; readonly id: ClientId }
  /**
   * `clean` is a meshmeet extension (keks-meet clients ignore unknown fields): true when the
   * client left on purpose (closed its socket normally, or joined elsewhere), false when its
   * connection was lost. A lost peer may come back under a new id; a clean leave is final.
   * Absent (a keks-meet relay) means unknown.
   */
  | { readonly type: "client_leave"; readonly id: ClientId; readonly clean?: boolean }
  | { readonly type: "message"; readonly sender: ClientId; readonly message: string }
  | { readonly type: "room_info"; readonly hash: RoomHash; readonly userCount: number }
  | { readonly type: "error"; readonly code: RelayErrorCode; readonly message: string }
  /**
   * A meshmeet extension: a TURN credential minted for this socket (coturn's shared-secret
   * scheme), sent after each successful join and renewed before `expiresAt` (unix seconds). Sent
   * only to sockets that asked for it in the /signaling URL (TURN_CREDENTIALS_QUERY), because
   * keks-meet's native clients stop at any packet they do not know; its web client ignores them.
   */
  | {
      readonly type: "turn_credentials";
      readonly urls: readonly string[];
      readonly username: string;
      readonly credential: string;
      readonly expiresAt: number;
    };

/** Query string on /signaling with which a client asks for `turn_credentials` packets. */
export const TURN_CREDENTIALS_QUERY = "turn_credentials=1";

/** Longest list of TURN URLs a client accepts in one packet; a relay lists a few (UDP, TCP, TLS). */
export const MAX_TURN_URLS = 8;

// ---------------------------------------------------------------------------------------------
// Peer → peer, inside the sealed relay message

export type TrackKind = "audio" | "video";

/** What a peer offers. Unknown `kind`s (rift's `port`, future kinds) parse and are ignored above. */
export interface ProvideInfo {
  /** For tracks: the MediaStream id. For files and channels: the data channel label. */
  readonly id: string;
  readonly kind: string;
  readonly trackKind?: TrackKind;
  readonly label?: string;
  /** Bytes; files only. A non-negative safe integer when present. */
  readonly size?: number;
  /** MIME type of a file (meshmeet extension, `mime`; keks-meet ignores it). */
  readonly mimeType?: string;
  /** Seconds; a watch-together share's running time (meshmeet extension, `duration`). */
  readonly durationS?: number;
}

/** The browser's RTCIceCandidateInit as keks-meet sends it. */
export interface IceCandidateInfo {
  readonly candidate: string;
  readonly sdpMid?: string | null;
  readonly sdpMLineIndex?: number | null;
  readonly usernameFragment?: string | null;
}

/** base64 of the 65-byte P-256 public key and of the 64-byte signature. */
export interface SessionClaimFields {
  readonly key: string;
  readonly proof: string;
}

/**
 * A meshmeet extension of identify (on the wire `identity_key`, `identity_fingerprints`,
 * `identity_proof`; keks-meet ignores them): our long-lived identity key, in every identify, and
 * — in the one sent to a peer when our connection with them is described — its signature over
 * the DTLS fingerprints of our side of that connection, the room hash and our client id
 * (common/crypto/identity-key.ts). The key alone proves nothing; the binding does.
 */
export interface IdentityFields {
  readonly key: string;
  readonly binding?: IdentityBindingFields;
}

export interface IdentityBindingFields {
  /** Normalised, sorted (common/wire/dtls-fingerprints.ts). */
  readonly fingerprints: readonly string[];
  readonly proof: string;
}

export type ChatContent = { readonly text: string } | { readonly image: string };

export type RelayMessage =
  /**
   * `claim` is a meshmeet extension (keks-meet ignores unknown fields; on the wire `session_key`
   * and `session_proof`): the page's session public key and its signature for the room and the
   * sender id (common/crypto/session-claim.ts). Peers recognise us by it when we come back under
   * a new client id after a relay reconnect, and keep the peer connection they have with us; a
   * copy sent from any other id proves nothing.
   */
  | { readonly type: "identify"; readonly username: string; readonly claim?: SessionClaimFields; readonly identity?: IdentityFields }
  | { readonly type: "chat"; readonly content: ChatContent }
  | { readonly type: "provide"; readonly info: ProvideInfo }
  | { readonly type: "provide_stop"; readonly id: string }
  /**
   * `offset` is a meshmeet extension (keks-meet ignores it): resume a file from this byte. Its
   * presence, even 0, also tells a meshmeet sender that the receiver understands the transfer
   * extensions (a header and a SHA-256 trailer on the channel, see engine/file-transfer).
   */
  | { readonly type: "request"; readonly id: string; readonly offset?: number }
  | { readonly type: "request_stop"; readonly id: string }
  /** Raw SDP string, not an RTCSessionDescriptionInit. */
  | { readonly type: "offer"; readonly sdp: string }
  | { readonly type: "answer"; readonly sdp: string }
  | { readonly type: "ice_candidate"; readonly candidate: IceCandidateInfo }
  | { readonly type: "preview"; readonly id: string; readonly data: string }
  /**
   * A meshmeet extension (key `display_size`; keks-meet's web client ignores unknown keys, and
   * we send it only to peers whose messages carry meshmeet's stamp, since keks-meet's native
   * clients stop at any key they do not know): how large, in device pixels, the receiver shows
   * the stream `id` that this peer sends it. The sender then encodes no larger for this receiver.
   */
  | { readonly type: "display_size"; readonly id: string; readonly width: number; readonly height: number };

/** Bounds of a `display_size` side, in device pixels: an 8K screen at 2× fits. */
export const MIN_DISPLAY_PIXELS = 1;
export const MAX_DISPLAY_PIXELS = 16_384;

export type RelayMessageType = RelayMessage["type"];

export const RELAY_MESSAGE_TYPES: readonly RelayMessageType[] = [
  "identify",
  "chat",
  "provide",
  "provide_stop",
  "request",
  "request_stop",
  "offer",
  "answer",
  "ice_candidate",
  "preview",
  "display_size",
];

/** The plaintext that is sealed: `{"sender": id, "inner": RelayMessage}`. */
/**
 * meshmeet's stamp inside the seal (keks-meet ignores the extra keys): a random id per relay
 * socket of the sender, a counter per message on it (from 1), and the recipient (null: everyone).
 * See common/engine/replay-guard.ts.
 */
export interface RelayOrder {
  readonly stream: string;
  readonly seq: number;
  readonly to: ClientId | null;
}

export interface RelayEnvelope {
  readonly sender: ClientId;
  /** Absent from keks-meet senders. */
  readonly order?: RelayOrder;
  /** One message per envelope when we send; a keks-meet web peer may put several keys in one. */
  readonly messages: readonly RelayMessage[];
  /** Keys we do not know, kept for logging; keks-meet ignores them too. */
  readonly unknownKeys: readonly string[];
}
