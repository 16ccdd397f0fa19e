// The SHA-256 worker: keeps the running hashes of a page's file transfers off its main thread.
// hash-wasm (WebAssembly, ~230 MB/s here against ~130 MB/s for @noble/hashes in JS) does the
// work; where WebAssembly cannot be compiled (a stricter CSP, an old engine) @noble/hashes does,
// so a transfer is slower but still verified.

import { sha256 } from "@noble/hashes/sha2.js";
import { createSHA256, type IHasher } from "hash-wasm";
import { bytesToHex } from "../../common/crypto/encoding.js";
import type { HashReady, HashRecycle, HashReply, HashRequest } from "./protocol.js";

interface Running {
  update(bytes: Uint8Array): void;
  clone(): Promise<Running>;
  hex(): string;
}

function wasmRunning(hasher: IHasher): Running {
  return {
    update: (bytes) => void hasher.update(bytes),
    clone: async () => {
      const copy = await createSHA256();
      copy.load(hasher.save());
      return wasmRunning(copy);
    },
    hex: () => hasher.digest("hex"),
  };
}

function jsRunning(state: ReturnType<typeof sha256.create>): Running {
  return {
    update: (bytes) => void state.update(bytes),
    clone: () => Promise.resolve(jsRunning(state.clone())),
    hex: () => bytesToHex(state.digest()),
  };
}

/** Tries WebAssembly once; every later hash uses whatever worked. */
async function chooseFactory(): Promise<{ kind: HashReady["ready"]; create: () => Promise<Running> }> {
  try {
    const probe = await createSHA256();
    probe.init();
    return { kind: "wasm", create: async () => wasmRunning((await createSHA256()).init()) };
  } catch {
    return { kind: "js", create: () => Promise.resolve(jsRunning(sha256.create())) };
  }
}

interface Port {
  postMessage(message: HashReply | HashReady | HashRecycle, transfer?: Transferable[]): void;
  addEventListener(type: "message", listener: (event: MessageEvent<HashRequest>) => void): void;
}

function serve(port: Port): void {
  const hashes = new Map<number, Running>();
  const factory = chooseFactory();
  void factory.then(({ kind }) => port.postMessage({ ready: kind }));

  async function handle(request: HashRequest): Promise<void> {
    const { create } = await factory;
    switch (request.op) {
      case "create":
        hashes.set(request.id, await create());
        return;
      case "update": {
        hashes.get(request.id)?.update(request.bytes);
        // Back to the page, which copies the next bytes into it instead of into fresh memory.
        const buffer = request.bytes.buffer;
        if (buffer instanceof ArrayBuffer) port.postMessage({ recycle: buffer }, [buffer]);
        return;
      }
      case "clone": {
        const from = hashes.get(request.from);
        if (from) hashes.set(request.id, await from.clone());
        return;
      }
      case "digest": {
        const running = hashes.get(request.id);
        hashes.delete(request.id);
        port.postMessage(running ? { id: request.id, hex: running.hex() } : { id: request.id, error: "no such hash (dropped or never created)" });
        return;
      }
      case "drop":
        hashes.delete(request.id);
        return;
    }
  }

  // Strictly in order: some steps (create, clone) are asynchronous, and a later update must not
  // overtake them.
  let chain = Promise.resolve();
  port.addEventListener("message", ({ data }) => {
    chain = chain.then(() => handle(data)).catch((error: unknown) => {
      // Nothing here should throw; if it does, the page hears it as a failed digest.
      if (data.op === "digest") port.postMessage({ id: data.id, error: error instanceof Error ? error.message : String(error) });
    });
  });
}

serve(self as unknown as Port);
