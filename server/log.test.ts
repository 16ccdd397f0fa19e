import { describe, expect, it } from "vitest";
import { createJsonLogger, createTagger } from "./log.js";

describe("createJsonLogger", () => {
  it("writes one JSON object per line with time, level, event and fields", () => {
    const lines: string[] = [];
    const log = createJsonLogger((line) => lines.push(line), { now: () => new Date(0) });
    log.info("join", { id: 5, room: "abc" });
    log.debug("hidden");
    expect(lines).toEqual(['{"time":"1970-01-01T00:00:00.000Z","level":"info","event":"join","id":5,"room":"abc"}\n']);
  });
});

describe("createTagger", () => {
  it("is stable within a key, differs across keys, and does not contain the value", () => {
    const hash = "ab".repeat(32);
    const a = createTagger(Buffer.alloc(32, 1));
    const b = createTagger(Buffer.alloc(32, 2));
    expect(a(hash)).toBe(a(hash));
    expect(a(hash)).toMatch(/^[0-9a-f]{12}$/);
    expect(a(hash)).not.toBe(b(hash));
    expect(hash).not.toContain(a(hash));
    expect(createTagger()(hash)).not.toBe(createTagger()(hash));
  });

  it("gives the same tags after its recent tags were forgotten", () => {
    const tag = createTagger(Buffer.alloc(32, 3), 2);
    const first = ["a", "b", "c"].map(tag);
    expect(["c", "b", "a"].map(tag)).toEqual([...first].reverse());
  });
});
