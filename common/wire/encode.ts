// Typed packets → the exact JSON text keks-meet sends. One key per packet.

import type { ClientboundPacket, ClientId, RelayMessage, RelayOrder, ServerboundPacket } from "./packets.js";

export function encodeServerbound(packet: ServerboundPacket): string {
  switch (packet.type) {
    case "join":
      return JSON.stringify({ join: { hash: packet.hash } });
    case "ping":
      return '{"ping":null}';
    case "relay":
      // Broadcast omits `recipient`, as the keks-meet web client does; both forms are accepted.
      return JSON.stringify({
        relay: packet.recipient === null ? { message: packet.message } : { recipient: packet.recipient, message: packet.message },
      });
    case "watch_rooms":
      return JSON.stringify({ watch_rooms: packet.hashes });
  }
}

export function encodeClientbound(packet: ClientboundPacket): string {
  switch (packet.type) {
    case "init":
      return JSON.stringify({ init: { your_id: packet.yourId, version: packet.version } });
    case "client_join":
      return `{"client_join":{"id":${packet.id}}}`;
    case "client_leave":
      return packet.clean === undefined
        ? `{"client_leave":{"id":${packet.id}}}`
        : `{"client_leave":{"id":${packet.id},"clean":${packet.clean}}}`;
    case "message":
      return `{"message":{"sender":${packet.sender},"message":${JSON.stringify(packet.message)}}}`;
    case "room_info":
      return JSON.stringify({ room_info: { hash: packet.hash, user_count: packet.userCount } });
    case "error":
      return JSON.stringify({ error: { code: packet.code, message: packet.message } });
    case "turn_credentials":
      return JSON.stringify({
        turn_credentials: { urls: packet.urls, username: packet.username, credential: packet.credential, expires_at: packet.expiresAt },
      });
  }
}

function relayPayload(message: RelayMessage): [string, unknown] {
  switch (message.type) {
    case "identify":
      // The extensions' fields are left out when absent, so a plain identify is byte-identical to keks-meet's.
      return [
        "identify",
        {
          username: message.username,
          session_key: message.claim?.key,
          session_proof: message.claim?.proof,
          identity_key: message.identity?.key,
          identity_fingerprints: message.identity?.binding?.fingerprints,
          identity_proof: message.identity?.binding?.proof,
        },
      ];
    case "chat":
      return ["chat", message.content];
    case "provide": {
      const { id, kind, trackKind, label, size, mimeType, durationS } = message.info;
      // Absent optionals are left out (JSON.stringify drops undefined), as the web client does.
      return ["provide", { id, kind, track_kind: trackKind, label, size, mime: mimeType, duration: durationS }];
    }
    case "provide_stop":
    case "request_stop":
      return [message.type, { id: message.id }];
    case "request":
      return ["request", { id: message.id, offset: message.offset }];
    case "offer":
    case "answer":
      return [message.type, message.sdp];
    case "ice_candidate":
      return ["ice_candidate", message.candidate];
    case "preview":
      return ["preview", { id: message.id, data: message.data }];
    case "display_size":
      return ["display_size", { id: message.id, width: message.width, height: message.height }];
  }
}

/** The plaintext to seal: `{"inner":{<one key>},"sender":<id>}`. */
/** Without `order` the bytes are exactly keks-meet's (its test vectors hold). */
export function encodeEnvelope(sender: ClientId, message: RelayMessage, order?: RelayOrder): string {
  const [key, payload] = relayPayload(message);
  if (!order) return JSON.stringify({ inner: { [key]: payload }, sender });
  return JSON.stringify({ inner: { [key]: payload }, sender, stream: order.stream, seq: order.seq, to: order.to });
}
