// What the host environment supplies to the engine. The engine never reaches for `window`,
// `document` or Node modules: browsers pass their own WebSocket, Node passes `ws`'s, tests pass
// fakes — the same engine code runs in all three.

/** The subset of the W3C WebSocket that the engine uses; browser WebSocket and `ws` both fit. */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: "open", listener: () => void): void;
  addEventListener(type: "error", listener: () => void): void;
  addEventListener(type: "close", listener: (event: { readonly code: number; readonly reason: string }) => void): void;
  addEventListener(type: "message", listener: (event: { readonly data: unknown }) => void): void;
}

export type SocketFactory = (url: string) => SocketLike;

/** WebSocket.OPEN in every implementation. */
export const SOCKET_OPEN = 1;

export type LogLevel = "debug" | "info" | "warn" | "error";

/** Structured log sink: a scope (`signaling`, `peer`…), a message, optional fields. Never peer plaintext. */
export type Logger = (level: LogLevel, scope: string, message: string, fields?: Readonly<Record<string, unknown>>) => void;

export const silentLogger: Logger = () => {};

/** Default socket factory: the environment's global WebSocket (browsers, Node ≥ 22). */
export function globalSocketFactory(): SocketFactory {
  const Ctor = (globalThis as { WebSocket?: new (url: string) => SocketLike }).WebSocket;
  if (!Ctor) throw new Error("no global WebSocket in this environment: pass a socket factory (e.g. from the ws package)");
  return (url) => new Ctor(url);
}
