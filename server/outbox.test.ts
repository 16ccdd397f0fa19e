import { describe, expect, it } from "vitest";
import { Outbox, type FrameSink } from "./outbox.js";

class FakeSink implements FrameSink {
  readyState = 1;
  bufferedAmount = 0;
  readonly sent: Buffer[] = [];
  send(frame: Buffer, options: { binary: boolean }): void {
    expect(options.binary).toBe(false);
    this.sent.push(frame);
    this.bufferedAmount += frame.length;
  }
}

describe("Outbox", () => {
  it("sends while under the limit, then reports the overflow once and sends nothing more", () => {
    const sink = new FakeSink();
    const overflows: number[] = [];
    const outbox = new Outbox(sink, 10, (buffered) => overflows.push(buffered));
    outbox.send(Buffer.from("1234"));
    outbox.send(Buffer.from("123456"));
    outbox.send(Buffer.from("x"));
    sink.bufferedAmount = 0;
    outbox.send(Buffer.from("y"));
    expect(sink.sent.map(String)).toEqual(["1234", "123456"]);
    expect(overflows).toEqual([10]);
  });

  it("drops frames for a socket that is not open, or after stop()", () => {
    const sink = new FakeSink();
    const outbox = new Outbox(sink, 100, () => {
      throw new Error("no overflow expected");
    });
    sink.readyState = 2;
    outbox.send(Buffer.from("a"));
    sink.readyState = 1;
    outbox.stop();
    outbox.send(Buffer.from("b"));
    expect(sink.sent).toEqual([]);
  });

  it("coalesces the frames of one event-loop turn into one write", async () => {
    const sink = new FakeSink();
    const calls: string[] = [];
    const outbox = new Outbox(sink, 100, () => {}, { cork: () => calls.push("cork"), uncork: () => calls.push("uncork") });
    outbox.send(Buffer.from("a"));
    outbox.send(Buffer.from("b"));
    outbox.send(Buffer.from("c"));
    expect(calls).toEqual(["cork"]);
    expect(sink.sent.map(String)).toEqual(["a", "b", "c"]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toEqual(["cork", "uncork"]);
    outbox.send(Buffer.from("d"));
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toEqual(["cork", "uncork", "cork", "uncork"]);
  });
});
