import { describe, expect, it } from "vitest";
import { EarlySocket } from "./early-socket.js";

type Handler = (event: Event) => void;

/** A socket whose events the test fires by hand. */
function fakeSocket() {
  const handlers = new Map<string, Handler[]>();
  const sent: string[] = [];
  const raw = {
    readyState: 0,
    send: (data: string) => void sent.push(data),
    close: () => undefined,
    addEventListener: (type: string, handler: Handler) => handlers.set(type, [...(handlers.get(type) ?? []), handler]),
  };
  const fire = (type: string, fields: object = {}) => {
    if (type === "open") raw.readyState = 1;
    for (const handler of handlers.get(type) ?? []) handler(fields as Event);
  };
  return { raw, fire, sent };
}

const RELAY_URL = "ws://relay.test/signaling?turn_credentials=1";

describe("EarlySocket", () => {
  it("hands what happened before anyone listened to the first listeners, in order, then passes events straight on", async () => {
    const { raw, fire } = fakeSocket();
    const socket = new EarlySocket(RELAY_URL, raw);
    fire("open");
    fire("message", { data: "init" });
    fire("message", { data: "second" });
    const seen: string[] = [];
    socket.addEventListener("open", () => seen.push("open"));
    socket.addEventListener("message", ({ data }) => seen.push(`message ${String(data)}`));
    socket.addEventListener("close", ({ code }) => seen.push(`close ${code}`));
    expect(seen).toEqual([]); // not while the engine is still adding its listeners
    await Promise.resolve();
    expect(seen).toEqual(["open", "message init", "message second"]);
    fire("message", { data: "live" });
    fire("close", { code: 1006, reason: "" });
    expect(seen).toEqual(["open", "message init", "message second", "message live", "close 1006"]);
    expect(socket.readyState).toBe(1);
  });

  it("keeps a close that came first, so the engine reconnects as from any lost socket", async () => {
    const { raw, fire } = fakeSocket();
    const socket = new EarlySocket(RELAY_URL, raw);
    fire("error");
    fire("close", { code: 1006, reason: "refused" });
    const seen: string[] = [];
    socket.addEventListener("error", () => seen.push("error"));
    socket.addEventListener("close", ({ code, reason }) => seen.push(`close ${code} ${reason}`));
    await Promise.resolve();
    expect(seen).toEqual(["error", "close 1006 refused"]);
  });

  it("is claimed once, for its own RELAY_URL only; sends go to the real socket", () => {
    const { raw, sent } = fakeSocket();
    const socket = new EarlySocket(RELAY_URL, raw);
    expect(socket.claim("ws://elsewhere.test/signaling")).toBeUndefined();
    expect(socket.claim(RELAY_URL)).toBe(socket);
    expect(socket.claim(RELAY_URL)).toBeUndefined();
    socket.send("join");
    expect(sent).toEqual(["join"]);
  });
});
