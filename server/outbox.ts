// Bounded sending to one socket. The relay never waits for a reader: a frame that would push the
// socket's unsent bytes past the limit is not sent, and the owner is told to close that socket.
// Waiting instead is how one slow reader stalled every room in keks-meet.

/** What the outbox needs of a socket; ws's WebSocket has it. */
export interface FrameSink {
  readonly readyState: number;
  /** Bytes handed to the socket and not yet written to the network. */
  readonly bufferedAmount: number;
  send(frame: Buffer, options: { binary: boolean }): void;
}

/** The TCP stream under the WebSocket (node:net), which can hold writes back and flush them together. */
export interface Corkable {
  cork(): void;
  uncork(): void;
}

/** ws's WebSocket.OPEN. */
const OPEN = 1;

/**
 * What `send` did with a frame: "dropped" (the outbox is stopped or the socket is not open), or
 * "overflow" (not sent, and the outbox stopped: the socket is over its limit and must be closed).
 */
export type Sent = "sent" | "dropped" | "overflow";

/**
 * Holds the streams written to in one event-loop turn corked, and uncorks them all at the end
 * of the turn, so every frame a socket gets within a turn goes out in one write: ws writes each
 * frame with its own system call, and writev per frame per recipient was 72 % of the relay's busy
 * time under load (bench/relay-load.ts). One per relay; one setImmediate per busy turn, not one
 * per socket.
 */
export class WriteCoalescer {
  /**
   * Numbers the turns with held streams (1 … 2^30, then 1 again: it stays a small integer). An
   * outbox remembers the turn it last held its stream in, so it holds it once a turn without a
   * flag of its own to reset.
   */
  turn = 1;
  private readonly corked: Corkable[] = [];
  private readonly flush = (): void => {
    const corked = this.corked;
    this.turn = this.turn >= 0x3fffffff ? 1 : this.turn + 1;
    // uncork() writes; a write error is reported later on the socket (ws's "error"/"close").
    for (let at = 0; at < corked.length; at++) corked[at]?.uncork();
    corked.length = 0;
  };

  /** Corks `transport` until the end of this turn; call once per transport and turn. */
  hold(transport: Corkable): void {
    transport.cork();
    if (this.corked.push(transport) === 1) setImmediate(this.flush);
  }
}

export interface OutboxPolicy {
  readonly maxBufferedBytes: number;
  /** Null: every frame is written on its own. */
  readonly coalescer: WriteCoalescer | null;
}

export class Outbox {
  private isStopped = false;
  /** The coalescer's turn in which this outbox last held its transport (0: never). */
  private heldInTurn = 0;

  /** The policy is shared by every socket of a relay. */
  constructor(
    private readonly sink: FrameSink,
    private readonly policy: OutboxPolicy,
    private readonly transport?: Corkable,
  ) {}

  /**
   * Sends `frame` as a text frame, or drops it if the socket is not open or already over its
   * limit. The same Buffer may go to many outboxes: fan-out encodes once.
   */
  send(frame: Buffer): Sent {
    if (this.isStopped || this.sink.readyState !== OPEN) return "dropped";
    if (this.sink.bufferedAmount + frame.length > this.policy.maxBufferedBytes) {
      this.isStopped = true;
      return "overflow";
    }
    const { coalescer } = this.policy;
    if (coalescer !== null && this.transport !== undefined && this.heldInTurn !== coalescer.turn) {
      this.heldInTurn = coalescer.turn;
      coalescer.hold(this.transport);
    }
    this.sink.send(frame, { binary: false });
    return "sent";
  }

  /** Bytes waiting to be written (for the overflow's log line). */
  get bufferedBytes(): number {
    return this.sink.bufferedAmount;
  }

  /** Nothing more is sent after this (the socket is closing). */
  stop(): void {
    this.isStopped = true;
  }
}
