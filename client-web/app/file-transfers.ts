// Files on the page: sharing ours (each a LocalResource whose channel feeds a FileSender) and
// downloading theirs (a download sink from client-web/files, fed by a FileReceiver), with the
// bookkeeping the interface shows: progress, rate, outcome, cancel, retry, and automatic resume
// when a connection drops mid-transfer.

import { FileReceiver, type ResumeState } from "../../common/engine/file-transfer/file-receiver.js";
import { FileSender } from "../../common/engine/file-transfer/file-sender.js";
import { safeFileName } from "../../common/engine/file-transfer/file-name.js";
import { inThreadSha256, type Sha256Factory } from "../../common/engine/file-transfer/sha256.js";
import type { LocalResource, PeerKey, Room } from "../../common/engine/room.js";
import { openDownload, type DownloadSink } from "../files/download-sink.js";
import { fileSource } from "../files/file-source.js";
import type { TransferPhase, TransferView } from "../files/transfer-view.js";

/** Resume attempts after a dropped connection before the transfer counts as failed. */
const MAX_RESUMES = 5;
const RESUME_DELAY_MS = 1_000;
/** Rate is averaged over this window: short enough to follow changes, long enough to be steady. */
const RATE_WINDOW_MS = 3_000;
/** An upload whose channel dropped waits this long for the receiver to resume before it fails. */
const SENDER_RESUME_WAIT_MS = 30_000;
/**
 * Progress repaints at most this often: chunks arrive ~100 times a second, and each repaint
 * renders the whole room page and composites a frame; on a loaded 2-core machine that competes
 * with the transfer itself (the Chromium threads that carry it were measured at 1.5–1.8 cores).
 * Four a second still reads as smooth progress.
 */
const PROGRESS_REPAINT_MS = 250;
/** Used until the SCTP transport is up and says its real maximum (werift's default is this). */
const FALLBACK_MAX_MESSAGE_BYTES = 65_536;

interface Transfer {
  view: TransferView;
  readonly samples: Array<{ at: number; bytes: number }>;
  sender?: FileSender;
  receiver?: FileReceiver;
  sink?: DownloadSink;
  resume?: ResumeState;
  resumes: number;
  cancelledByUs: boolean;
  lastRepaint: number;
}

export class FileTransfers {
  private readonly shared = new Map<string, { file: File; resource: LocalResource }>();
  private readonly transfers = new Map<string, Transfer>();
  /** SHA-256 of each file we sent completely once: a later resume at its very end costs nothing. */
  private readonly digests = new WeakMap<File, string>();
  private readonly offs: Array<() => void> = [];

  constructor(
    private readonly room: Room,
    private readonly nameOf: (key: PeerKey) => string,
    private readonly onChange: () => void,
    /** Where transfers hash their bytes (a worker in the page); default: this thread. */
    private readonly sha256: Sha256Factory = inThreadSha256,
  ) {
    this.offs.push(room.events.on("channel", ({ key, id, channel }) => this.handleIncomingChannel(key, id, channel)));
    this.offs.push(
      room.events.on("resource-withdrawn", ({ key, id }) => {
        for (const t of this.incomingFor(key, id)) this.fail(t, "the sender stopped sharing the file");
      }),
    );
    this.offs.push(
      room.events.on("peer-left", ({ key }) => {
        for (const t of this.transfers.values()) {
          if (t.view.peer === key && isActive(t.view.phase)) this.fail(t, "the other person left");
        }
      }),
    );
  }

  get resources(): LocalResource[] {
    return [...this.shared.values()].map((s) => s.resource);
  }

  has(id: string): boolean {
    return this.shared.has(id);
  }

  views(): TransferView[] {
    return [...this.transfers.values()].map((t) => t.view);
  }

  share(files: readonly File[]): void {
    for (const file of files) {
      const id = crypto.randomUUID();
      const resource: LocalResource = {
        info: { id, kind: "file", label: file.name, size: file.size, ...(file.type ? { mimeType: file.type } : {}) },
        openChannel: (channel, peer, request) => this.send(file, id, channel, peer, request.offset),
      };
      this.shared.set(id, { file, resource });
      this.room.provide(resource);
    }
    this.onChange();
  }

  stopSharing(id: string): void {
    if (!this.shared.delete(id)) return;
    this.room.stopProviding(id); // closes every channel serving it
    for (const t of this.transfers.values()) {
      if (t.view.direction === "out" && t.view.resourceId === id && isActive(t.view.phase)) {
        t.sender?.cancel();
        this.update(t, { phase: "cancelled", message: "You stopped sharing the file." });
      }
    }
    this.onChange();
  }

  async download(key: PeerKey, id: string): Promise<void> {
    const info = this.room.peer(key)?.resources.get(id)?.info;
    if (!info || info.size === undefined) return;
    const name = safeFileName(info.label);
    const transfer = this.track({
      id: crypto.randomUUID(),
      direction: "in",
      peer: key,
      resourceId: id,
      name,
      size: info.size,
      bytes: 0,
      phase: "opening",
      rate: undefined,
      verified: undefined,
      message: undefined,
    });
    const sink = await openDownload({ name, size: info.size, mimeType: info.mimeType ?? "application/octet-stream" });
    if (!sink.ok) {
      this.update(transfer, { phase: "failed", message: sink.error.message });
      return;
    }
    transfer.sink = sink.value;
    if (transfer.view.phase !== "opening") {
      void sink.value.abort("cancelled before it started");
      return;
    }
    // offset 0 tells a meshmeet sender we understand its checksum and resume extensions.
    this.room.request(key, id, { offset: 0 });
  }

  cancel(transferId: string): void {
    const t = this.transfers.get(transferId);
    if (!t || !isActive(t.view.phase)) return;
    t.cancelledByUs = true;
    if (t.view.direction === "out") {
      t.sender?.cancel();
    } else {
      if (t.receiver) t.receiver.cancel();
      else void t.sink?.abort("cancelled");
      this.room.requestStop(t.view.peer, t.view.resourceId);
    }
    this.update(t, { phase: "cancelled", message: "You cancelled it." });
  }

  retry(transferId: string): void {
    const t = this.transfers.get(transferId);
    if (!t || t.view.direction !== "in" || isActive(t.view.phase)) return;
    void this.download(t.view.peer, t.view.resourceId);
  }

  close(): void {
    for (const off of this.offs.splice(0)) off();
    for (const t of this.transfers.values()) {
      if (!isActive(t.view.phase)) continue;
      t.sender?.cancel();
      t.receiver?.cancel();
    }
  }

  // ---- sending ----------------------------------------------------------------------------------

  private send(file: File, id: string, channel: RTCDataChannel, peer: PeerKey, offset: number | undefined): void {
    // A resume continues the upload the user already sees, rather than starting a second row.
    const resumed =
      offset !== undefined && offset > 0
        ? [...this.transfers.values()].find(
            (t) => t.view.direction === "out" && t.view.peer === peer && t.view.resourceId === id && t.view.phase === "interrupted",
          )
        : undefined;
    const transfer = resumed ?? this.track({
      id: crypto.randomUUID(),
      direction: "out",
      peer,
      resourceId: id,
      name: safeFileName(file.name),
      size: file.size,
      bytes: offset ?? 0,
      phase: "opening",
      rate: undefined,
      verified: undefined,
      message: undefined,
    });
    const start = () => {
      // The remote's limit is known once SCTP is up, which it is when the channel opens.
      const maxMessageSize = this.room.connectionOf(peer)?.sctp?.maxMessageSize || FALLBACK_MAX_MESSAGE_BYTES;
      const sender = new FileSender({
        channel,
        source: fileSource(file),
        request: offset === undefined ? {} : { offset },
        maxMessageSize,
        sha256: this.sha256,
        knownDigest: this.digests.get(file),
      });
      transfer.sender = sender;
      this.update(transfer, { phase: "transferring" });
      sender.events.on("progress", ({ bytesAcked }) => this.progress(transfer, bytesAcked));
      sender.events.on("done", ({ sha256 }) => {
        if (sha256 !== undefined) this.digests.set(file, sha256);
        this.update(transfer, { phase: "done", bytes: file.size, rate: undefined });
      });
      sender.events.on("failed", ({ code, message }) => {
        if (transfer.cancelledByUs) return;
        if (code === "receiver_cancelled") {
          this.update(transfer, { phase: "cancelled", message: `${this.nameOf(peer)} cancelled it.`, rate: undefined });
        } else if (code === "channel_closed") {
          // The receiver may resume (it asks again with an offset); give it time before failing.
          this.update(transfer, { phase: "interrupted", rate: undefined });
          setTimeout(() => {
            if (transfer.view.phase === "interrupted" && transfer.sender === sender) this.update(transfer, { phase: "failed", message: "the connection was lost" });
          }, SENDER_RESUME_WAIT_MS);
        } else {
          this.update(transfer, { phase: "failed", message, rate: undefined });
        }
      });
    };
    if (channel.readyState === "open") start();
    else channel.addEventListener("open", start, { once: true });
  }

  // ---- receiving --------------------------------------------------------------------------------

  private incomingFor(key: PeerKey, id: string): Transfer[] {
    return [...this.transfers.values()].filter(
      (t) => t.view.direction === "in" && t.view.peer === key && t.view.resourceId === id && isActive(t.view.phase),
    );
  }

  private handleIncomingChannel(key: PeerKey, id: string, channel: RTCDataChannel): void {
    if (this.room.peer(key)?.resources.get(id)?.info.kind !== "file") return; // another feature's channel
    const transfer = this.incomingFor(key, id).find((t) => !t.receiver && t.sink);
    if (!transfer || !transfer.sink) {
      channel.close(); // a channel nobody is waiting for (a stale or unasked one)
      return;
    }
    const download = transfer.sink;
    const receiver = new FileReceiver({
      channel,
      size: transfer.view.size,
      // The receiver hands each chunk over (a received message nobody else holds): no copy.
      sink: {
        write: (chunk) => download.write(chunk, { handOver: true }),
        close: () => download.close(),
        abort: (reason) => download.abort(reason),
      },
      sha256: this.sha256,
      ...(transfer.resume ? { resume: transfer.resume } : {}),
    });
    transfer.receiver = receiver;
    this.update(transfer, { phase: "transferring" });
    receiver.events.on("progress", ({ bytesReceived }) => this.progress(transfer, bytesReceived));
    receiver.events.on("done", ({ verified }) => {
      this.update(transfer, { phase: "done", bytes: transfer.view.size, verified, rate: undefined });
      // keks-meet's receiver says it is finished with the resource the same way.
      this.room.requestStop(key, id);
    });
    receiver.events.on("failed", ({ code, message }) => {
      if (transfer.cancelledByUs) return;
      if (code === "sender_cancelled") {
        this.update(transfer, { phase: "cancelled", message: `${this.nameOf(key)} cancelled it. The partial file was discarded.`, rate: undefined });
        this.room.requestStop(key, id);
        return;
      }
      this.fail(transfer, message);
    });
    receiver.events.on("interrupted", () => this.resumeLater(transfer, receiver));
  }

  private resumeLater(transfer: Transfer, receiver: FileReceiver): void {
    if (transfer.cancelledByUs) return;
    if (transfer.resumes >= MAX_RESUMES) {
      this.fail(transfer, "the connection kept dropping");
      return;
    }
    transfer.resumes++;
    // The previous state's hash was cloned by the receiver that has just been interrupted.
    transfer.resume?.hash.dispose();
    transfer.resume = receiver.resumeState();
    transfer.receiver = undefined;
    this.update(transfer, { phase: "interrupted", rate: undefined });
    setTimeout(() => {
      if (transfer.view.phase !== "interrupted" || transfer.cancelledByUs) return;
      this.room.request(transfer.view.peer, transfer.view.resourceId, { offset: transfer.resume?.bytesWritten ?? 0 });
    }, RESUME_DELAY_MS);
  }

  private fail(transfer: Transfer, message: string): void {
    if (!isActive(transfer.view.phase)) return;
    transfer.receiver?.cancel();
    if (!transfer.receiver) void transfer.sink?.abort(message);
    this.update(transfer, { phase: "failed", message, rate: undefined });
  }

  // ---- bookkeeping ------------------------------------------------------------------------------

  private track(view: TransferView): Transfer {
    const transfer: Transfer = { view, samples: [], resumes: 0, cancelledByUs: false, lastRepaint: 0 };
    this.transfers.set(view.id, transfer);
    this.onChange();
    return transfer;
  }

  private update(transfer: Transfer, change: Partial<Omit<TransferView, "id">>): void {
    transfer.view = { ...transfer.view, ...change };
    if (!isActive(transfer.view.phase) && transfer.resume) {
      transfer.resume.hash.dispose(); // nothing will resume from it now
      delete transfer.resume;
    }
    this.onChange();
  }

  private progress(transfer: Transfer, bytes: number): void {
    const now = performance.now();
    transfer.samples.push({ at: now, bytes });
    while (transfer.samples.length > 2 && (transfer.samples[0]?.at ?? now) < now - RATE_WINDOW_MS) transfer.samples.shift();
    const first = transfer.samples[0];
    const rate = first && now - first.at > 250 ? ((bytes - first.bytes) * 1000) / (now - first.at) : transfer.view.rate;
    transfer.view = { ...transfer.view, bytes, rate };
    if (now - transfer.lastRepaint < PROGRESS_REPAINT_MS) return;
    transfer.lastRepaint = now;
    this.onChange();
  }

  /** Name of the peer a transfer is with, for labels. */
  peerName(key: PeerKey): string {
    return this.nameOf(key);
  }
}

function isActive(phase: TransferPhase): boolean {
  return phase === "opening" || phase === "transferring" || phase === "interrupted";
}
