// The relay socket, opened by the boot script at its first line rather than by the engine once
// the client has loaded: the connection and the relay's `init` are then ready by the time the
// keys are, instead of after them. What happens before the engine listens (open, the first
// messages, a close) is kept and handed to its listeners when they are added, in order, so the
// engine sees the same sequence of events as on a socket it opened itself.

import type { SocketLike } from "../../common/engine/platform.js";

type EventType = "open" | "error" | "close" | "message";
type Listener = (event: never) => void;

/** The parts of a browser WebSocket this needs (a test passes a fake). */
interface RawSocket {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: EventType, listener: (event: Event) => void): void;
}

export class EarlySocket implements SocketLike {
  private readonly listeners = new Map<EventType, Listener[]>();
  /** Events that came before anyone listened, in arrival order; undefined once handed over. */
  private pending: Array<{ readonly type: EventType; readonly event: unknown }> | undefined = [];
  private attaching = false;
  private claimed = false;

  constructor(
    readonly url: string,
    private readonly socket: RawSocket = new WebSocket(url),
  ) {
    for (const type of ["open", "error", "close", "message"] as const) {
      socket.addEventListener(type, (event) => this.deliver(type, eventFields(type, event)));
    }
  }

  /** This socket, the first time the engine asks for `url`; later connections are new sockets. */
  claim(url: string): EarlySocket | undefined {
    if (this.claimed || url !== this.url) return undefined;
    this.claimed = true;
    return this;
  }

  get readyState(): number {
    return this.socket.readyState;
  }

  send(data: string): void {
    this.socket.send(data);
  }

  close(code?: number, reason?: string): void {
    this.socket.close(code, reason);
  }

  addEventListener(type: "open", listener: () => void): void;
  addEventListener(type: "error", listener: () => void): void;
  addEventListener(type: "close", listener: (event: { readonly code: number; readonly reason: string }) => void): void;
  addEventListener(type: "message", listener: (event: { readonly data: unknown }) => void): void;
  addEventListener(type: EventType, listener: Listener): void {
    const list = this.listeners.get(type) ?? [];
    list.push(listener);
    this.listeners.set(type, list);
    // The engine adds all its listeners in one go; what was kept is handed over right after.
    if (!this.attaching) {
      this.attaching = true;
      queueMicrotask(() => this.flush());
    }
  }

  private deliver(type: EventType, event: unknown): void {
    if (this.pending) this.pending.push({ type, event });
    else this.dispatch(type, event);
  }

  private dispatch(type: EventType, event: unknown): void {
    for (const listener of this.listeners.get(type) ?? []) (listener as (event: unknown) => void)(event);
  }

  /** Hands over, in order, what happened before anyone listened; from now on events go straight through. */
  private flush(): void {
    const kept = this.pending ?? [];
    this.pending = undefined;
    for (const { type, event } of kept) this.dispatch(type, event);
  }
}

function eventFields(type: EventType, event: Event): unknown {
  if (type === "message") return { data: (event as MessageEvent).data };
  if (type === "close") return { code: (event as CloseEvent).code, reason: (event as CloseEvent).reason };
  return {};
}
