// Running SHA-256 hashes computed in a dedicated worker (worker.ts), for the page's file
// transfers: the page only copies bytes into messages (~0.03 ms per MiB) instead of hashing them
// (~8 ms per MiB) on the thread that also feeds the data channels and draws the interface.
//
// The copies go into STAGE_BYTES buffers that the worker hands back once hashed, not into fresh
// memory: a fresh buffer costs a page fault per 4 KiB the first time it is written, measured at
// 3.8 ms per MiB in a VM (against 0.03 ms for copying into memory already in use) — more than the
// hashing itself, on the thread the transfer needs. Staging also turns a data channel's 64 KiB
// messages into one post per MiB.
//
// One worker serves every transfer of the page. It starts with the first hash and stops once no
// hash is left for IDLE_STOP_MS (a resume state keeps its hash alive, so the worker stays while
// a dropped transfer may still resume).

import type { RunningSha256, Sha256Factory } from "../../common/engine/file-transfer/sha256.js";
import type { HashReady, HashRecycle, HashReply, HashRequest } from "./protocol.js";

/** Long enough that back-to-back transfers share one worker, short enough to give memory back. */
const IDLE_STOP_MS = 10_000;
/** Bytes gathered per update message. */
const STAGE_BYTES = 1024 * 1024;
/**
 * Hashed buffers kept for reuse. A transfer has one in the worker and one filling, and a few more
 * while the worker catches up; beyond that a returned buffer is dropped, so idle memory is bounded.
 */
const POOL_LIMIT = 8;

interface Pending {
  resolve(hex: string): void;
  reject(error: Error): void;
}

export class WorkerSha256 {
  private worker: Worker | undefined;
  private nextId = 1;
  /** Hashes created and not yet digested or dropped. */
  private readonly live = new Set<number>();
  private readonly pending = new Map<number, Pending>();
  /** Hashes that lived in a worker that died, with the reason: their digests reject. */
  private readonly lost = new Map<number, string>();
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  /** Hashed STAGE_BYTES buffers back from the worker, ready to be filled again. */
  private readonly pool: ArrayBuffer[] = [];
  /** Which implementation the worker chose (for diagnostics and tests); undefined until it says. */
  implementation: HashReady["ready"] | undefined;

  constructor(private readonly scriptUrl: string | URL) {}

  readonly create: Sha256Factory = () => this.open(undefined);

  /** Stops the worker now; digests still pending reject. */
  close(): void {
    this.fail("the hashing worker was stopped");
  }

  private open(from: number | undefined): RunningSha256 {
    const id = this.nextId++;
    this.live.add(id);
    const lostReason = from === undefined ? undefined : this.lost.get(from);
    if (lostReason !== undefined) this.lost.set(id, lostReason);
    else this.post(from === undefined ? { op: "create", id } : { op: "clone", id, from });
    let spent = false;
    /** Bytes copied here and not yet posted: the first `staged` bytes of `stage`. */
    let stage: Uint8Array<ArrayBuffer> | undefined;
    let staged = 0;
    const flush = (): void => {
      if (!stage || staged === 0) return;
      if (this.lost.has(id)) this.recycle(stage.buffer);
      else this.post({ op: "update", id, bytes: stage.subarray(0, staged) }, [stage.buffer]);
      stage = undefined;
      staged = 0;
    };
    const unstage = (): void => {
      if (stage) this.recycle(stage.buffer);
      stage = undefined;
      staged = 0;
    };
    const finish = (): boolean => {
      if (spent) return false;
      spent = true;
      this.live.delete(id);
      this.lost.delete(id);
      return true;
    };
    return {
      update: (bytes) => {
        if (spent || this.lost.has(id)) return;
        // Copied, so the caller keeps sending or writing its own bytes; see STAGE_BYTES.
        for (let at = 0; at < bytes.length; ) {
          stage ??= new Uint8Array(this.pool.pop() ?? new ArrayBuffer(STAGE_BYTES));
          const length = Math.min(stage.length - staged, bytes.length - at);
          stage.set(bytes.subarray(at, at + length), staged);
          staged += length;
          at += length;
          if (staged === stage.length) flush();
        }
      },
      clone: () => {
        if (spent) throw new Error("clone of a finished hash");
        flush();
        return this.open(id);
      },
      digest: () => {
        if (!spent) flush();
        unstage();
        const lostReason = this.lost.get(id);
        if (!finish()) return Promise.reject(new Error("digest of a finished hash"));
        if (lostReason !== undefined) return Promise.reject(new Error(lostReason));
        const answer = new Promise<string>((resolve, reject) => this.pending.set(id, { resolve, reject }));
        this.post({ op: "digest", id });
        return answer;
      },
      dispose: () => {
        unstage();
        const wasLost = this.lost.has(id);
        if (!finish()) return;
        if (!wasLost) this.post({ op: "drop", id });
        this.scheduleIdleStop();
      },
    };
  }

  private post(request: HashRequest, transfer: Transferable[] = []): void {
    this.ensureWorker().postMessage(request, transfer);
  }

  private ensureWorker(): Worker {
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    if (this.worker) return this.worker;
    const worker = new Worker(this.scriptUrl, { type: "module", name: "meshmeet sha-256" });
    worker.addEventListener("message", ({ data }: MessageEvent<HashReply | HashReady | HashRecycle>) => {
      if ("recycle" in data) {
        this.recycle(data.recycle);
        return;
      }
      if ("ready" in data) {
        this.implementation = data.ready;
        return;
      }
      const waiter = this.pending.get(data.id);
      this.pending.delete(data.id);
      if ("hex" in data) waiter?.resolve(data.hex);
      else waiter?.reject(new Error(data.error));
      this.scheduleIdleStop();
    });
    // A script that fails to load or throws at the top level arrives here; so does a crash.
    worker.addEventListener("error", (event) => {
      event.preventDefault();
      this.fail(`the hashing worker failed: ${event.message || "it could not be loaded"}`);
    });
    worker.addEventListener("messageerror", () => this.fail("the hashing worker got a message it could not read"));
    this.worker = worker;
    return worker;
  }

  /**
   * Every hash of this worker is lost: their digests reject, so their transfers report that they
   * could not be verified. A later transfer starts a new worker.
   */
  private fail(reason: string): void {
    for (const id of this.live) this.lost.set(id, reason);
    this.stopWorker(reason);
  }

  private rejectAll(reason: string): void {
    for (const waiter of this.pending.values()) waiter.reject(new Error(reason));
    this.pending.clear();
  }

  private scheduleIdleStop(): void {
    if (!this.worker || this.live.size > 0 || this.pending.size > 0 || this.idleTimer !== undefined) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      if (this.live.size === 0 && this.pending.size === 0) this.stopWorker(undefined);
    }, IDLE_STOP_MS);
  }

  private recycle(buffer: ArrayBuffer): void {
    if (this.worker && buffer.byteLength === STAGE_BYTES && this.pool.length < POOL_LIMIT) this.pool.push(buffer);
  }

  private stopWorker(reason: string | undefined): void {
    this.pool.length = 0; // memory goes back with the worker; a later transfer fills new buffers
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    if (reason !== undefined) this.rejectAll(reason);
    this.worker?.terminate();
    this.worker = undefined;
  }
}
