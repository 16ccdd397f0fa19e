// The steps of a join, as they happen, for owning each millisecond of it: the web client turns
// them into performance marks (visible in the browser's performance panel and read by the
// join-latency benchmark); other hosts may log them or ignore them. Only the first occurrence of
// each step counts: a join happens once, reconnects and renegotiations are another story.

export type JoinMilestone =
  /** The relay's init arrived: the socket is open and we have an id. */
  | "relay-ready"
  /** Our join (the room hash) went out. */
  | "join-sent"
  /** The relay confirmed we are in the room. */
  | "joined"
  /** The first other member became known. */
  | "first-peer"
  | "offer-sent"
  | "offer-received"
  | "answer-sent"
  | "answer-received"
  /** A peer connection reached "connected". */
  | "ice-connected"
  /** The first remote track of a stream we asked for arrived. */
  | "first-track";

export type MilestoneSink = (step: JoinMilestone) => void;

/** A sink that passes on only the first occurrence of each step (and nothing without `sink`). */
export function firstOfEach(sink: MilestoneSink | undefined): MilestoneSink {
  if (!sink) return () => {};
  const seen = new Set<JoinMilestone>();
  return (step) => {
    if (seen.has(step)) return;
    seen.add(step);
    sink(step);
  };
}
