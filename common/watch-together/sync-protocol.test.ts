import { describe, expect, it } from "vitest";
import { encodeSyncMessage, MAX_SYNC_MESSAGE_BYTES, MAX_TITLE_CHARS, parseSyncMessage, type SyncMessage } from "./sync-protocol.js";

const MASTER = "jfp2p://3f1c2a9e-0d5b-4a8e-9d8b-1f2e3d4c5b6a/0";

const VALID: SyncMessage[] = [
  { t: "meta", share: "3f1c2a9e-0d5b-4a8e-9d8b-1f2e3d4c5b6a", title: "Fixture Movie (2024)", durationS: 10, master: MASTER, epoch: 1 },
  { t: "meta", share: "s", title: "", durationS: 0, master: MASTER, epoch: 0 },
  { t: "state", epoch: 2, seq: 41, playing: true, buffering: false, pos: 12.345, rate: 1, at: 1_760_000_000_123.5 },
  { t: "state", epoch: 2, seq: 42, playing: false, buffering: true, pos: 0, rate: 0.5, at: 0 },
  { t: "ping", t0: 1_760_000_000_000.25 },
  { t: "pong", t0: 1, t1: 1235.5, t2: 1236 },
  { t: "vstate", epoch: 2, pos: 3.5, ahead: 12.25, stalled: false },
  { t: "req", action: "play" },
  { t: "req", action: "pause" },
  { t: "req", action: "seek", pos: 61.5 },
  { t: "req", action: "next" },
  { t: "end" },
];

function code(text: string): string | undefined {
  const result = parseSyncMessage(text);
  return result.ok ? undefined : result.error.code;
}

describe("sync messages", () => {
  it.each(VALID.map((m) => [m.t, m] as const))("round-trip %s", (_t, message) => {
    expect(parseSyncMessage(encodeSyncMessage(message))).toEqual({ ok: true, value: message });
  });

  it("encoders put only the protocol's fields on the wire", () => {
    const richer = { t: "meta", share: "s", title: "T", durationS: 1, master: MASTER, epoch: 1, itemId: "abc", token: "secret-token" } as const;
    const text = encodeSyncMessage(richer);
    expect(text).not.toContain("secret-token");
    expect(text).not.toContain("itemId");
  });

  it("drops unknown fields when parsing", () => {
    expect(parseSyncMessage(`{"t":"end","x":1}`)).toEqual({ ok: true, value: { t: "end" } });
    expect(parseSyncMessage(`{"t":"ping","t0":5,"t1":6}`)).toEqual({ ok: true, value: { t: "ping", t0: 5 } });
  });

  it.each([
    ["not JSON", "{", "not_json"],
    ["an array", `[{"t":"end"}]`, "not_json"],
    ["a number", "1", "not_json"],
    ["no type", `{}`, "bad_message"],
    ["unknown type", `{"t":"stop"}`, "bad_message"],
    ["prototype key as type", `{"t":"toString"}`, "bad_message"],
    ["__proto__ type", `{"t":"__proto__"}`, "bad_message"],
    ["meta without master", JSON.stringify({ t: "meta", share: "s", title: "T", durationS: 1, epoch: 1 }), "bad_message"],
    ["meta with http master", JSON.stringify({ t: "meta", share: "s", title: "T", durationS: 1, master: "https://jf.example/master.m3u8", epoch: 1 }), "bad_message"],
    ["meta with long title", JSON.stringify({ t: "meta", share: "s", title: "x".repeat(MAX_TITLE_CHARS + 1), durationS: 1, master: MASTER, epoch: 1 }), "bad_message"],
    ["meta with empty share", JSON.stringify({ t: "meta", share: "", title: "T", durationS: 1, master: MASTER, epoch: 1 }), "bad_message"],
    ["meta with long share", JSON.stringify({ t: "meta", share: "s".repeat(129), title: "T", durationS: 1, master: MASTER, epoch: 1 }), "bad_message"],
    ["meta with negative duration", JSON.stringify({ t: "meta", share: "s", title: "T", durationS: -1, master: MASTER, epoch: 1 }), "bad_message"],
    ["meta with fractional epoch", JSON.stringify({ t: "meta", share: "s", title: "T", durationS: 1, master: MASTER, epoch: 1.5 }), "bad_message"],
    ["state with string pos", `{"t":"state","epoch":1,"seq":1,"playing":true,"buffering":false,"pos":"1","rate":1,"at":0}`, "bad_message"],
    ["state with infinite pos", `{"t":"state","epoch":1,"seq":1,"playing":true,"buffering":false,"pos":1e999,"rate":1,"at":0}`, "bad_message"],
    ["state with negative pos", `{"t":"state","epoch":1,"seq":1,"playing":true,"buffering":false,"pos":-0.5,"rate":1,"at":0}`, "bad_message"],
    ["state with null at", `{"t":"state","epoch":1,"seq":1,"playing":true,"buffering":false,"pos":1,"rate":1,"at":null}`, "bad_message"],
    ["state with rate 100", `{"t":"state","epoch":1,"seq":1,"playing":true,"buffering":false,"pos":1,"rate":100,"at":0}`, "bad_message"],
    ["state with negative rate", `{"t":"state","epoch":1,"seq":1,"playing":true,"buffering":false,"pos":1,"rate":-1,"at":0}`, "bad_message"],
    ["state with number playing", `{"t":"state","epoch":1,"seq":1,"playing":1,"buffering":false,"pos":1,"rate":1,"at":0}`, "bad_message"],
    ["state with negative seq", `{"t":"state","epoch":1,"seq":-1,"playing":true,"buffering":false,"pos":1,"rate":1,"at":0}`, "bad_message"],
    ["ping without t0", `{"t":"ping"}`, "bad_message"],
    ["pong with missing t2", `{"t":"pong","t0":1,"t1":2}`, "bad_message"],
    ["vstate with negative ahead", `{"t":"vstate","epoch":1,"pos":1,"ahead":-1,"stalled":false}`, "bad_message"],
    ["req with unknown action", `{"t":"req","action":"rewind"}`, "bad_message"],
    ["req with string pos", `{"t":"req","action":"seek","pos":"5"}`, "bad_message"],
    ["req with null pos", `{"t":"req","action":"seek","pos":null}`, "bad_message"],
    ["too large", JSON.stringify({ t: "end", pad: "x".repeat(MAX_SYNC_MESSAGE_BYTES) }), "too_large"],
  ])("rejects %s", (_name, text, expected) => {
    expect(code(text)).toBe(expected);
  });

  it("error messages name the field, not its value", () => {
    const result = parseSyncMessage(JSON.stringify({ t: "meta", share: "s", title: "T", durationS: 1, master: "https://secret-token/", epoch: 1 }));
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.message).toContain("meta.master");
      expect(result.error.message).not.toContain("secret-token");
    }
  });
});

describe("state extensions: control and waiting", () => {
  const base = { t: "state", epoch: 1, seq: 2, playing: true, buffering: false, pos: 3, rate: 1, at: 4 } as const;
  it("round-trips them and leaves them out when absent", () => {
    const full = { ...base, control: true, waiting: 2 };
    expect(parseSyncMessage(encodeSyncMessage(full))).toEqual({ ok: true, value: full });
    expect(parseSyncMessage(encodeSyncMessage(base))).toEqual({ ok: true, value: base });
  });
  it("refuses wrong types", () => {
    expect(parseSyncMessage(JSON.stringify({ ...base, control: "yes" })).ok).toBe(false);
    expect(parseSyncMessage(JSON.stringify({ ...base, waiting: -1 })).ok).toBe(false);
    expect(parseSyncMessage(JSON.stringify({ ...base, waiting: 1.5 })).ok).toBe(false);
  });
});
