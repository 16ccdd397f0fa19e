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

export class Outbox {
  private isStopped = false;
  private isCorked = false;

  /**
   * With `transport`, every frame sent to this socket within one event-loop turn goes out in one
   * write: ws writes each frame with its own system call, and writev per frame per recipient was
   * 72 % of the relay's busy time under load (bench/relay-load.ts). Frames wait at most until the
   * end of the current turn.
   */
  constructor(
    private readonly sink: FrameSink,
    private readonly maxBufferedBytes: number,
    private readonly onOverflow: (bufferedBytes: number) => void,
    private readonly transport?: Corkable,
  ) {}

  /**
   * Sends `frame` as a text frame, or drops it if the socket is not open or already over its
   * limit. The same Buffer may go to many outboxes: fan-out encodes once.
   */
  send(frame: Buffer): void {
    if (this.isStopped || this.sink.readyState !== OPEN) return;
    const buffered = this.sink.bufferedAmount;
    if (buffered + frame.length > this.maxBufferedBytes) {
      this.isStopped = true;
      this.onOverflow(buffered);
      return;
    }
    if (this.transport && !this.isCorked) {
      this.isCorked = true;
      this.transport.cork();
      setImmediate(() => {
        this.isCorked = false;
        this.transport?.uncork();
      });
    }
    this.sink.send(frame, { binary: false });
  }

  /** Nothing more is sent after this (the socket is closing). */
  stop(): void {
    this.isStopped = true;
  }
}
