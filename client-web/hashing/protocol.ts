// Messages between a page and its SHA-256 worker (worker.ts). Each running hash has an id the
// page chose; the worker handles messages strictly in order, so an update sent before a clone or
// a digest is always included in it.

export type HashRequest =
  | { readonly op: "create"; readonly id: number }
  /** `bytes` views the start of a transferred buffer, which comes back as a HashRecycle. */
  | { readonly op: "update"; readonly id: number; readonly bytes: Uint8Array }
  | { readonly op: "clone"; readonly id: number; readonly from: number }
  | { readonly op: "digest"; readonly id: number }
  | { readonly op: "drop"; readonly id: number };

/** The answer to a `digest` (the only request that gets one). */
export type HashReply =
  | { readonly id: number; readonly hex: string }
  | { readonly id: number; readonly error: string };

/** Posted once, before any reply: which implementation the worker ended up with. */
export interface HashReady {
  readonly ready: "wasm" | "js";
}

/** An update's buffer, hashed and transferred back for the page to fill again. */
export interface HashRecycle {
  readonly recycle: ArrayBuffer;
}
