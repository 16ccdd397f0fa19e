// Relay messages as they travel: a RelayMessage wrapped in `{sender, inner}` and sealed with the
// room key. Opening checks, in order: base64, AES-GCM, UTF-8, JSON shape, and that
// the sealed sender equals the id the relay stamped on the packet — the relay cannot re-attribute
// a message because it cannot forge the inner id.

import { err, ok, type Result } from "../result.js";
import { encodeEnvelope } from "../wire/encode.js";
import type { ClientId, RelayEnvelope, RelayMessage, RelayOrder } from "../wire/packets.js";
import { parseEnvelope, type WireErrorCode } from "../wire/parse.js";
import { open, seal, type OpenErrorCode } from "./room-crypto.js";

export type OpenRelayErrorCode = OpenErrorCode | WireErrorCode | "sender_mismatch";

export interface OpenRelayError {
  readonly code: OpenRelayErrorCode;
  readonly message: string;
}

/** `order`: meshmeet's replay stamp (common/engine/replay-guard.ts); left out, the bytes are keks-meet's. */
export function sealRelayMessage(key: CryptoKey, sender: ClientId, message: RelayMessage, order?: RelayOrder): Promise<string> {
  return seal(key, encodeEnvelope(sender, message, order));
}

export async function openRelayMessage(
  key: CryptoKey,
  outerSender: ClientId,
  sealed: string,
): Promise<Result<RelayEnvelope, OpenRelayError>> {
  const plain = await open(key, sealed);
  if (!plain.ok) return plain;
  const envelope = parseEnvelope(plain.value);
  if (!envelope.ok) return envelope;
  if (envelope.value.sender !== outerSender) {
    return err({
      code: "sender_mismatch",
      message: `sealed sender ${envelope.value.sender} differs from relay-stated sender ${outerSender}`,
    });
  }
  return ok(envelope.value);
}
