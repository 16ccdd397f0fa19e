// The running SHA-256 a transfer keeps over a file's bytes, as an interface so that where the
// hashing happens is the caller's choice. The default hashes in the calling thread
// (@noble/hashes): right for Node and tests. A browser page hands in a worker-backed one
// (client-web/files/sha256-worker-client.ts) because hashing at ~130 MB/s on the page's main
// thread competes with the data channel and the UI, and was measured to cost a third of the
// transfer rate (issue 4 bench).

import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "../../crypto/encoding.js";

export interface RunningSha256 {
  /** Feeds bytes in file order. The caller may reuse or send `bytes` afterwards. */
  update(bytes: Uint8Array): void;
  /** An independent copy of the state so far (a resume state holds one). */
  clone(): RunningSha256;
  /**
   * Lowercase hex over everything fed; the hasher is spent afterwards. Rejects only when the
   * hashing itself broke (e.g. its worker died) — the transfer then cannot be verified.
   */
  digest(): Promise<string>;
  /** Frees what it holds without a digest (cancel, failure, a resume state that is not used). */
  dispose(): void;
}

export type Sha256Factory = () => RunningSha256;

type NobleState = ReturnType<typeof sha256.create>;

function wrapNoble(state: NobleState): RunningSha256 {
  return {
    update: (bytes) => void state.update(bytes),
    clone: () => wrapNoble(state.clone()),
    digest: () => Promise.resolve(bytesToHex(state.digest())),
    dispose: () => undefined,
  };
}

/** Hashes in the calling thread. */
export const inThreadSha256: Sha256Factory = () => wrapNoble(sha256.create());
