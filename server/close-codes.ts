// WebSocket close codes the relay uses, with the reason texts it sends (each ≤ 123 bytes, the
// limit of a close frame). Standard codes (RFC 6455 §7.4.1, IANA registry) where one fits;
// 4000–4999 ("private use") for the two cases no standard code describes.

export const CloseCode = {
  /** The relay is shutting down. */
  normal: 1000,
  goingAway: 1001,
  /** The error budget is spent: the client keeps sending what the relay rejects. */
  policyViolation: 1008,
  /** A frame over limits.max_frame_bytes (sent by ws itself; create-relay.ts adds the reason). */
  messageTooBig: 1009,
  /** A bug in the relay while handling this socket; only this socket is closed. */
  internalError: 1011,
  /** Too many sockets, in total or from this address. */
  tryAgainLater: 1013,
  /** No message within limits.idle_timeout_seconds. */
  idleTimeout: 4000,
  /** The client does not read: its send buffer passed limits.max_send_buffer_bytes. */
  slowReader: 4001,
} as const;

export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

export const CloseReason = {
  shuttingDown: "server shutting down",
  errorBudget: "too many rejected messages",
  internalError: "internal error",
  relayFull: "relay is full",
  addressFull: "too many connections from this address",
  idleTimeout: "idle timeout",
  slowReader: "send buffer full: client is not reading",
} as const;
