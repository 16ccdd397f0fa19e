// A hostile file sender for files-hostile.e2e.test.ts: joins a room through the real engine and
// offers files whose transfers lie — a flipped byte under a correct-looking digest, more bytes
// than announced, a name with path separators. Test code only.

import "../../../client-web/trusted-types.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "../../../common/crypto/encoding.js";
import { encodeDigest, encodeHeader, END_MESSAGE } from "../../../common/engine/file-transfer/protocol.js";
import { Room } from "../../../common/engine/room.js";

type Lie = "flipped-byte" | "too-many-bytes" | "offer-only";

declare global {
  interface Window {
    hostile: { join(secret: string): Promise<void>; offer(id: string, label: string, size: number, lie: Lie): void };
  }
}

let room: Room | undefined;
const CHUNK = 64 * 1024;

function randomBytes(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i += 65536) crypto.getRandomValues(bytes.subarray(i, Math.min(size, i + 65536)));
  return bytes;
}

window.hostile = {
  async join(secret) {
    room = new Room({
      secret,
      username: "mallory",
      signalingUrl: `ws://${location.host}/signaling`,
      createPeerConnection: (configuration) => new RTCPeerConnection(configuration),
    });
    await room.events.once("relay-status");
  },
  offer(id, label, size, lie) {
    if (lie === "offer-only") {
      room?.provide({ info: { id, kind: "file", label, size }, openChannel: (channel) => channel.close() });
      return;
    }
    const bytes = randomBytes(size);
    const digest = bytesToHex(sha256(bytes));
    room?.provide({
      info: { id, kind: "file", label, size },
      openChannel: (channel) => {
        channel.binaryType = "arraybuffer";
        channel.addEventListener("open", () => {
          channel.send(encodeHeader({ offset: 0, size }));
          const sent = lie === "flipped-byte" ? bytes.slice() : new Uint8Array(size + CHUNK);
          if (lie === "flipped-byte") sent[Math.floor(size / 2)] = (sent[Math.floor(size / 2)] ?? 0) ^ 0xff;
          else sent.set(bytes);
          for (let offset = 0; offset < sent.length; offset += CHUNK) channel.send(sent.subarray(offset, offset + CHUNK));
          channel.send(encodeDigest(digest));
          channel.send(END_MESSAGE);
        });
      },
    });
  },
};
