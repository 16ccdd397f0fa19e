import { describe, expect, it } from "vitest";
import { Outbox, WriteCoalescer, type Corkable, type FrameSink } from "./outbox.js";

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
    const outbox = new Outbox(sink, { maxBufferedBytes: 10, coalescer: null });
    expect(outbox.send(Buffer.from("1234"))).toBe("sent");
    expect(outbox.send(Buffer.from("123456"))).toBe("sent");
    expect(outbox.bufferedBytes).toBe(10);
    expect(outbox.send(Buffer.from("x"))).toBe("overflow");
    sink.bufferedAmount = 0;
    expect(outbox.send(Buffer.from("y"))).toBe("dropped");
    expect(sink.sent.map(String)).toEqual(["1234", "123456"]);
  });

  it("drops frames for a socket that is not open, or after stop()", () => {
    const sink = new FakeSink();
    const outbox = new Outbox(sink, { maxBufferedBytes: 100, coalescer: null });
    sink.readyState = 2;
    expect(outbox.send(Buffer.from("a"))).toBe("dropped");
    sink.readyState = 1;
    outbox.stop();
    expect(outbox.send(Buffer.from("b"))).toBe("dropped");
    expect(sink.sent).toEqual([]);
  });

  it("coalesces the frames of one event-loop turn into one write", async () => {
    const sink = new FakeSink();
    const calls: string[] = [];
    const outbox = new Outbox(sink, { maxBufferedBytes: 100, coalescer: new WriteCoalescer() }, { cork: () => calls.push("cork"), uncork: () => calls.push("uncork") });
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

  it("uncorks every socket of a turn at its end, once each, with one coalescer for all", async () => {
    const coalescer = new WriteCoalescer();
    const calls: string[] = [];
    const transport = (name: string): Corkable => ({ cork: () => calls.push(`cork ${name}`), uncork: () => calls.push(`uncork ${name}`) });
    const a = new Outbox(new FakeSink(), { maxBufferedBytes: 100, coalescer }, transport("a"));
    const b = new Outbox(new FakeSink(), { maxBufferedBytes: 100, coalescer }, transport("b"));
    a.send(Buffer.from("1"));
    b.send(Buffer.from("2"));
    a.send(Buffer.from("3"));
    expect(calls).toEqual(["cork a", "cork b"]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toEqual(["cork a", "cork b", "uncork a", "uncork b"]);
    b.send(Buffer.from("4"));
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls.slice(4)).toEqual(["cork b", "uncork b"]);
  });
});
