// The relay benchmark's clients: N `ws` sockets in rooms, the sealed-message payload with its
// timestamp trailer, closed-loop pumping (throughput) and single sends (fixed-rate latency).
// One RelayClients per server under test; all of it runs in the load-generator process.

import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { WebSocket, type RawData } from "ws";
import { parseClientbound } from "../common/wire/parse.js";

// --- payload --------------------------------------------------------------------------------------

// The sealed message ends with a trailer of digits (valid base64 characters): the sender's index
// in this process, then the send time in µs of performance.now(). The trailer sits at the *end*
// because both forms a receiver can get end the same way after it:
//   bare:     {"relay":{"message":"<payload>"}}
//   meshmeet: {"message":{"sender":N,"message":"<payload>"}}
// so it is found at a fixed offset from the end of the frame, without parsing.
const SENDER_DIGITS = 6;
const TIME_DIGITS = 12;
const TRAILER_DIGITS = SENDER_DIGITS + TIME_DIGITS;
const FRAME_SUFFIX = '"}}';
const QUOTE = 0x22;
const BRACE = 0x7d;
const CHAR_M = 0x6d;
const CHAR_R = 0x72;
const CHAR_E = 0x65;
const DIGIT_0 = 0x30;

/** `{"relay":{"message":"<payloadChars of base64>"}}`; the trailer is written into its end. */
function makeTemplate(payloadChars: number): Buffer {
  if (payloadChars < TRAILER_DIGITS + 4) throw new Error(`payloadChars must be at least ${TRAILER_DIGITS + 4}`);
  const base64 = randomBytes(Math.ceil(payloadChars * 0.75) + 3)
    .toString("base64")
    .replace(/=+$/, "")
    .slice(0, payloadChars);
  return Buffer.from(`{"relay":{"message":"${base64}${FRAME_SUFFIX}`, "utf8");
}

function writeDigits(buffer: Buffer, end: number, width: number, value: number): void {
  let rest = value;
  for (let at = end - 1; at >= end - width; at--) {
    buffer[at] = DIGIT_0 + (rest % 10);
    rest = Math.floor(rest / 10);
  }
}

function readDigits(buffer: Buffer, start: number, width: number): number {
  let value = 0;
  for (let at = start; at < start + width; at++) value = value * 10 + ((buffer[at] ?? DIGIT_0) - DIGIT_0);
  return value;
}

interface Trailer {
  sender: number;
  sentAtMs: number;
}

/** Reads the trailer of a relayed frame into `out`; false if the frame is not a relayed message. */
function readTrailer(frame: Buffer, out: Trailer): boolean {
  const length = frame.length;
  const isRelayed =
    (frame[2] === CHAR_M || frame[2] === CHAR_R) &&
    frame[3] === CHAR_E &&
    frame[length - 1] === BRACE &&
    frame[length - 2] === BRACE &&
    frame[length - 3] === QUOTE;
  if (!isRelayed) return false;
  const start = length - FRAME_SUFFIX.length - TRAILER_DIGITS;
  out.sender = readDigits(frame, start, SENDER_DIGITS);
  out.sentAtMs = readDigits(frame, start + SENDER_DIGITS, TIME_DIGITS) / 1000;
  return true;
}

/** The trailer from a relayed message string (the slow path, for frames in another shape). */
function readTrailerFromText(message: string, out: Trailer): void {
  const tail = Buffer.from(message.slice(-TRAILER_DIGITS), "latin1");
  out.sender = readDigits(tail, 0, SENDER_DIGITS);
  out.sentAtMs = readDigits(tail, SENDER_DIGITS, TIME_DIGITS) / 1000;
}

// --- clients --------------------------------------------------------------------------------------

export interface ClientsOptions {
  readonly sockets: number;
  readonly roomSize: number;
  readonly payloadChars: number;
  /** Throughput: messages per socket sent but not yet delivered to every other member. */
  readonly window: number;
  /** Index of the first room (several RelayClients on one server keep apart rooms). */
  readonly firstRoom?: number;
}

/** A slice's measured window: [from, until) and the counters where it began and ended (NaN: not yet). */
export interface MeasureWindow {
  from: number;
  until: number;
  startAt: number;
  startDelivered: number;
  startSent: number;
  endAt: number;
  endDelivered: number;
  endSent: number;
}

function newWindow(from: number, until: number): MeasureWindow {
  return { from, until, startAt: Number.NaN, startDelivered: 0, startSent: 0, endAt: Number.NaN, endDelivered: 0, endSent: 0 };
}

/** What a delivered message does: nothing (idle), top up its sender, or give a latency sample. */
export type ClientsPhase = "idle" | "throughput" | "latency";

/** A 64-hex room hash; the bench's rooms differ only by their index. */
function roomHash(room: number): string {
  return room.toString(16).padStart(64, "0");
}

const zeroMask = (mask: Buffer): void => {
  // All-zero masks make `ws` skip the XOR pass: less CPU in the load generator, the same work for
  // the server (which unmasks every frame whatever the mask is).
  mask.fill(0);
};

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class RelayClients {
  readonly fanOut: number;
  phase: ClientsPhase = "idle";
  /** Relayed messages received, all phases. */
  delivered = 0;
  sentTotal = 0;
  /** `error` packets from the relay (rate limiting would show here). */
  errorPackets = 0;
  /** Sockets the server closed. */
  unexpectedCloses = 0;
  /** Latency samples (ms) of messages sent inside [sampleFrom, sampleUntil). */
  samples: Float64Array = new Float64Array(0);
  sampleCount = 0;
  sampleFrom = Infinity;
  sampleUntil = -Infinity;
  /** Throughput: no top-ups after this time. */
  pumpUntil = Infinity;
  /**
   * The measured window of a slice and the counters at its ends, taken by the first delivery at
   * or after each end. At full load this process can spend a second in I/O callbacks before a
   * timer runs (libuv keeps polling while sockets are readable), so timers alone would put both
   * ends of a window at the same moment.
   */
  readonly window: MeasureWindow = newWindow(Infinity, Infinity);
  private readonly sockets: WebSocket[] = [];
  /** Per sender index: messages sent, deliveries of its messages received. */
  private readonly sent: Float64Array;
  private readonly deliveredFrom: Float64Array;
  private readonly template: Buffer;
  private readonly payloadEnd: number;
  private readonly trailer: Trailer = { sender: 0, sentAtMs: 0 };
  private isClosing = false;

  constructor(
    readonly options: ClientsOptions,
    /** For error messages. */
    readonly label: string,
  ) {
    if (options.sockets % options.roomSize !== 0) throw new Error("sockets must be a multiple of roomSize");
    this.fanOut = options.roomSize - 1;
    this.sent = new Float64Array(options.sockets);
    this.deliveredFrom = new Float64Array(options.sockets);
    this.template = makeTemplate(options.payloadChars);
    this.payloadEnd = this.template.length - FRAME_SUFFIX.length;
  }

  /** Connects and joins sockets [from, to); `concurrency` handshakes at a time. */
  async connect(port: number, from: number, to: number, concurrency = 100): Promise<void> {
    const url = `ws://127.0.0.1:${port}/signaling`;
    let next = from;
    const worker = async (): Promise<void> => {
      while (next < to) {
        const index = next++;
        this.sockets[index] = await this.connectOne(url, index);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  }

  /** Resolves once the socket has its own client_join, i.e. is in its room. */
  private connectOne(url: string, index: number): Promise<WebSocket> {
    return new Promise<WebSocket>((resolve, reject) => {
      const socket = new WebSocket(url, { perMessageDeflate: false, skipUTF8Validation: true, generateMask: zeroMask });
      let yourId = -1;
      const timer = setTimeout(() => reject(new Error(`${this.label}: socket ${index} did not join within 15 s`)), 15_000);
      socket.on("error", (error) => {
        clearTimeout(timer);
        reject(new Error(`${this.label}: socket ${index}: ${error.message}`, { cause: error }));
      });
      socket.on("close", (code) => {
        clearTimeout(timer);
        if (this.isClosing) return;
        this.unexpectedCloses++;
        reject(new Error(`${this.label}: socket ${index} closed by the server (code ${code})`));
      });
      socket.on("message", (data: RawData, isBinary: boolean) => {
        if (isBinary || !Buffer.isBuffer(data)) return;
        if (readTrailer(data, this.trailer)) {
          this.handleRelayed(this.trailer);
          return;
        }
        const packet = parseClientbound(data.toString("utf8"));
        if (!packet.ok) return;
        const value = packet.value;
        if (value.type === "init") {
          yourId = value.yourId;
          socket.send(JSON.stringify({ join: { hash: roomHash((this.options.firstRoom ?? 0) + Math.floor(index / this.options.roomSize)) } }));
        } else if (value.type === "client_join" && value.id === yourId) {
          clearTimeout(timer);
          resolve(socket);
        } else if (value.type === "error") {
          this.errorPackets++;
        } else if (value.type === "message") {
          readTrailerFromText(value.message, this.trailer);
          this.handleRelayed(this.trailer);
        }
      });
    });
  }

  /** Starts a new measured window [from, until) (performance.now() times). */
  openWindow(from: number, until: number): void {
    Object.assign(this.window, newWindow(from, until));
  }

  /** Closes the window's open ends at `now` with the counters as they are (no delivery crossed them). */
  closeWindow(now: number): MeasureWindow {
    this.markWindow(now);
    const window = this.window;
    if (Number.isNaN(window.startAt)) this.markStart(now);
    if (Number.isNaN(window.endAt)) this.markEnd(now);
    return window;
  }

  private markWindow(now: number): void {
    const window = this.window;
    if (now >= window.from && Number.isNaN(window.startAt)) this.markStart(now);
    if (now >= window.until && Number.isNaN(window.endAt)) this.markEnd(now);
  }

  private markStart(now: number): void {
    this.window.startAt = now;
    this.window.startDelivered = this.delivered;
    this.window.startSent = this.sentTotal;
  }

  private markEnd(now: number): void {
    this.window.endAt = now;
    this.window.endDelivered = this.delivered;
    this.window.endSent = this.sentTotal;
  }

  private handleRelayed(trailer: Trailer): void {
    if (this.phase === "idle") {
      this.countDelivery(trailer.sender);
      return;
    }
    const now = performance.now();
    this.markWindow(now);
    this.countDelivery(trailer.sender);
    if (this.phase === "throughput") {
      if (now < this.pumpUntil) this.pump(trailer.sender);
    } else if (trailer.sentAtMs >= this.sampleFrom && trailer.sentAtMs < this.sampleUntil && this.sampleCount < this.samples.length) {
      this.samples[this.sampleCount++] = now - trailer.sentAtMs;
    }
  }

  private countDelivery(sender: number): void {
    this.delivered++;
    this.deliveredFrom[sender] = (this.deliveredFrom[sender] ?? 0) + 1;
  }

  /** One broadcast from socket `index`, stamped with the time now. */
  send(index: number): void {
    const socket = this.sockets[index];
    if (socket === undefined) return;
    const frame = Buffer.allocUnsafe(this.template.length);
    this.template.copy(frame);
    writeDigits(frame, this.payloadEnd - TIME_DIGITS, SENDER_DIGITS, index);
    writeDigits(frame, this.payloadEnd, TIME_DIGITS, Math.round(performance.now() * 1000));
    socket.send(frame, { binary: false });
    this.sent[index] = (this.sent[index] ?? 0) + 1;
    this.sentTotal++;
  }

  /** Throughput: sends from `index` until it has `window` messages in flight. */
  pump(index: number): void {
    // Room for one more while the outstanding deliveries fill at most window − 1 messages.
    const limit = (this.options.window - 1) * this.fanOut;
    while ((this.sent[index] ?? 0) * this.fanOut - (this.deliveredFrom[index] ?? 0) <= limit) this.send(index);
  }

  pumpAll(): void {
    for (let index = 0; index < this.sockets.length; index++) this.pump(index);
  }

  /** Deliveries still owed for everything sent so far. */
  missing(): number {
    return this.sentTotal * this.fanOut - this.delivered;
  }

  /** Waits until every sent message has been delivered, or `timeoutMs`. */
  async drain(timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (this.missing() > 0 && performance.now() < deadline) await sleep(10);
  }

  close(): void {
    this.isClosing = true;
    this.phase = "idle";
    for (const socket of this.sockets) socket.terminate();
  }
}
