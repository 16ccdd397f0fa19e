import { randomBytes } from "node:crypto";
import { createSocket, type Socket, type SocketType } from "node:dgram";
import { afterEach, describe, expect, it } from "vitest";
import { createCapturingLogger, createTagger } from "../log.js";
import {
  AttributeType,
  crc32,
  decodeXorMappedAddress,
  encodeBindingSuccess,
  parseIpAddress,
  readStunMessage,
  xorMappedAddressBytes,
  type TransportAddress,
} from "./message.js";
import { SourceBuckets, sourceKey, StunServer, type StunServerOptions } from "./stun-server.js";

/** Longest we wait for something that should come; it comes within milliseconds on loopback. */
const WAIT_MS = 1000;

function fakeClock(): { now: () => number; advance: (ms: number) => void } {
  let time = 1000;
  return { now: () => time, advance: (ms) => (time += ms) };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + WAIT_MS;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** A Binding request with transaction id `id`; `attributes` already padded. */
function bindingRequest(id: Buffer, options: { fingerprint?: boolean; attributes?: Buffer; type?: number; cookie?: number } = {}): Buffer {
  const attributes = options.attributes ?? Buffer.alloc(0);
  const fingerprintBytes = options.fingerprint === true ? 8 : 0;
  const message = Buffer.alloc(20 + attributes.length + fingerprintBytes);
  message.writeUInt16BE(options.type ?? 0x0001, 0);
  message.writeUInt16BE(attributes.length + fingerprintBytes, 2);
  message.writeUInt32BE(options.cookie ?? 0x2112a442, 4);
  id.copy(message, 8);
  attributes.copy(message, 20);
  if (options.fingerprint === true) {
    const at = message.length - 8;
    message.writeUInt16BE(0x8028, at);
    message.writeUInt16BE(4, at + 2);
    message.writeUInt32BE((crc32(message.subarray(0, at)) ^ 0x5354554e) >>> 0, at + 4);
  }
  return message;
}

/** A comprehension-optional attribute (ignored by the server) that pads a request to `total` bytes. */
function padding(total: number): Buffer {
  const attribute = Buffer.alloc(total - 20);
  attribute.writeUInt16BE(0x8022, 0);
  attribute.writeUInt16BE(attribute.length - 4, 2);
  return attribute;
}

class Client {
  readonly received: Buffer[] = [];

  private constructor(readonly socket: Socket) {
    socket.on("message", (datagram) => this.received.push(datagram));
  }

  static async open(type: SocketType, host: string): Promise<Client> {
    const socket = createSocket(type);
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.bind(0, host, () => resolve());
    });
    return new Client(socket);
  }

  /** Our own address, as the server should see it. */
  get mapped(): TransportAddress {
    const { address, port } = this.socket.address();
    const ip = parseIpAddress(address);
    if (ip === null) throw new Error(`client bound to a non-IP address ${address}`);
    return { ip, port };
  }

  send(datagram: Buffer, to: { address: string; port: number }): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.send(datagram, to.port, to.address, (error) => (error ? reject(error) : resolve()));
    });
  }

  /** Resolves with the response carrying transaction id `id`, and everything received so far. */
  async responseTo(id: Buffer): Promise<Buffer> {
    const find = (): Buffer | undefined => this.received.find((datagram) => datagram.subarray(8, 20).equals(id));
    await until(() => find() !== undefined, `the response to ${id.toString("hex")}`);
    return find() ?? Buffer.alloc(0);
  }

  transactionIds(): string[] {
    return this.received.map((datagram) => datagram.subarray(8, 20).toString("hex"));
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

interface Started {
  readonly server: StunServer;
  readonly address: { address: string; port: number };
}

async function startServer(options: Partial<StunServerOptions> = {}): Promise<Started> {
  const server = new StunServer({ host: "127.0.0.1", port: 0, ...options });
  cleanups.push(() => server.close());
  return { server, address: await server.listen() };
}

async function client(type: SocketType = "udp4", host = "127.0.0.1"): Promise<Client> {
  const opened = await Client.open(type, host);
  cleanups.push(() => opened.close());
  return opened;
}

async function canBind(type: SocketType, host: string): Promise<boolean> {
  try {
    const probe = await Client.open(type, host);
    await probe.close();
    return true;
  } catch {
    return false;
  }
}

/** Checks a response the way a browser would, and that it is no amplifier. */
function expectAnswer(response: Buffer, request: Buffer, mapped: TransportAddress): void {
  const read = readStunMessage(response);
  if (!read.ok) throw new Error(`unreadable response: ${read.reason}`);
  const { message } = read;
  expect(message.type).toBe(0x0101);
  expect(message.transactionId).toEqual(request.subarray(8, 20));
  const xorMapped = message.attributes.find((a) => a.type === AttributeType.xorMappedAddress);
  expect(xorMapped).toBeDefined();
  expect(decodeXorMappedAddress(xorMapped?.value ?? new Uint8Array(), message.transactionId)).toEqual(mapped);
  const sent = readStunMessage(request);
  expect(message.hasFingerprint).toBe(sent.ok && sent.message.hasFingerprint);
  expect(response.length).toBeLessThanOrEqual(request.length + xorMappedAddressBytes(mapped.ip.family));
}

describe("StunServer", () => {
  it("tells a client on 127.0.0.1 its own address and port, with and without FINGERPRINT", async () => {
    const { address } = await startServer();
    const you = await client();
    expect(address.address).toBe("127.0.0.1");
    expect(address.port).toBeGreaterThan(0);
    for (const request of [
      bindingRequest(randomBytes(12)),
      bindingRequest(randomBytes(12), { fingerprint: true }),
      // Exactly the largest datagram read.
      bindingRequest(randomBytes(12), { attributes: padding(548) }),
    ]) {
      await you.send(request, address);
      const response = await you.responseTo(request.subarray(8, 20));
      expectAnswer(response, request, you.mapped);
      expect(response.length).toBe(request.length < 548 ? request.length + 12 : 32);
    }
    expect(you.mapped.ip).toEqual({ family: 4, bytes: Uint8Array.from([127, 0, 0, 1]) });
  });

  it("tells a client on ::1 its IPv6 address (or, where ::1 is missing, the codec gives that answer)", async () => {
    const request = bindingRequest(randomBytes(12), { fingerprint: true });
    if (!(await canBind("udp6", "::1"))) {
      const mapped = { ip: parseIpAddress("::1") ?? { family: 6 as const, bytes: new Uint8Array(16) }, port: 40_000 };
      expectAnswer(encodeBindingSuccess(request.subarray(8, 20), mapped, true), request, mapped);
      return;
    }
    const { server, address } = await startServer({ host: "::1" });
    expect(address.address).toBe("::1");
    const you = await client("udp6", "::1");
    await you.send(request, address);
    const response = await you.responseTo(request.subarray(8, 20));
    expectAnswer(response, request, you.mapped);
    expect(you.mapped.ip.family).toBe(6);
    expect(response.length).toBe(request.length + 24);
    expect(server.stats().answered).toBe(1);
  });

  it("answers nothing but well-formed Binding requests", async () => {
    const { server, address } = await startServer();
    const you = await client();
    const id = randomBytes(12);
    const wrongCrc = bindingRequest(id, { fingerprint: true });
    wrongCrc.writeUInt32BE((wrongCrc.readUInt32BE(wrongCrc.length - 4) ^ 1) >>> 0, wrongCrc.length - 4);
    const wrongLength = bindingRequest(id);
    wrongLength.writeUInt16BE(4, 2);
    const overrun = bindingRequest(id, { attributes: padding(28) });
    overrun.writeUInt16BE(8, 22);
    const unknown = Buffer.from("0777000400000000", "hex");
    const garbage = [
      bindingRequest(id).subarray(0, 19),
      bindingRequest(id, { attributes: padding(552) }),
      bindingRequest(id, { cookie: 0x2112a443 }),
      Buffer.from("GET / HTTP/1.1\r\nHost: stun\r\n\r\n"),
      bindingRequest(id, { type: 0x0101 }),
      bindingRequest(id, { type: 0x0011 }),
      wrongCrc,
      wrongLength,
      overrun,
      bindingRequest(id, { attributes: unknown, fingerprint: true }),
    ];
    for (const datagram of garbage) await you.send(datagram, address);
    // Datagrams between two loopback sockets arrive and are answered in order: once the answer to
    // this request is in, any answer to the garbage before it would be in too.
    const sentinel = bindingRequest(randomBytes(12));
    await you.send(sentinel, address);
    await you.responseTo(sentinel.subarray(8, 20));
    expect(you.transactionIds()).toEqual([sentinel.subarray(8, 20).toString("hex")]);
    expect(server.stats()).toMatchObject({
      answered: 1,
      dropped: {
        too_short: 1,
        too_large: 1,
        not_stun: 2,
        not_binding_request: 2,
        bad_fingerprint: 1,
        bad_length: 1,
        bad_attribute: 1,
        unknown_attribute: 1,
        amplification: 0,
      },
      rateLimited: { source: 0, global: 0 },
    });
  });

  it("answers a flood from one source only up to the burst", async () => {
    const clock = fakeClock();
    const { server, address } = await startServer({ limits: { burst: 5, requestsPerSecond: 1 }, now: clock.now });
    const you = await client();
    const ids = Array.from({ length: 20 }, () => randomBytes(12));
    for (const id of ids) await you.send(bindingRequest(id), address);
    await until(() => server.stats().answered + server.stats().rateLimited.source === 20, "all 20 requests handled");
    expect(server.stats()).toMatchObject({ answered: 5, rateLimited: { source: 15, global: 0 }, sources: 1 });
    // One second refills one token: the next request is answered, and it comes after exactly 5.
    clock.advance(1000);
    const sentinel = randomBytes(12);
    await you.send(bindingRequest(sentinel), address);
    await you.responseTo(sentinel);
    expect(you.transactionIds()).toEqual([...ids.slice(0, 5), sentinel].map((id) => id.toString("hex")));
  });

  it("caps answers per second over all sources", async () => {
    const clock = fakeClock();
    const { server, address } = await startServer({ limits: { globalRequestsPerSecond: 3 }, now: clock.now });
    const you = await client();
    for (let i = 0; i < 10; i++) await you.send(bindingRequest(randomBytes(12)), address);
    await until(() => server.stats().answered + server.stats().rateLimited.global === 10, "all 10 requests handled");
    expect(server.stats()).toMatchObject({ answered: 3, rateLimited: { source: 0, global: 7 } });
    clock.advance(1000);
    const sentinel = randomBytes(12);
    await you.send(bindingRequest(sentinel), address);
    await you.responseTo(sentinel);
    expect(you.received).toHaveLength(4);
  });

  it("logs one warn line per reason per interval, with tagged addresses only", async () => {
    const clock = fakeClock();
    const logger = createCapturingLogger();
    const tag = createTagger(Buffer.alloc(32, 7));
    const { address } = await startServer({ logger, tag, now: clock.now, warnIntervalSeconds: 60,
      // Hardly any refill while the fake clock jumps a minute: the round trips spend the burst.
      limits: { burst: 4, requestsPerSecond: 0.001 },
    });
    const you = await client();
    const notStun = bindingRequest(randomBytes(12), { cookie: 0 });
    const roundTrip = async (): Promise<void> => {
      const sentinel = randomBytes(12);
      await you.send(bindingRequest(sentinel), address);
      await you.responseTo(sentinel);
    };

    for (let i = 0; i < 3; i++) await you.send(notStun, address);
    await you.send(bindingRequest(randomBytes(12), { type: 0x0111 }), address);
    await roundTrip();
    const drops = (): unknown[] => logger.entries.filter((entry) => entry.event === "stun_drop").map((entry) => entry.fields);
    expect(drops()).toEqual([
      { reason: "not_stun", address: tag("127.0.0.1"), suppressed: 0 },
      { reason: "not_binding_request", address: tag("127.0.0.1"), suppressed: 0 },
    ]);

    clock.advance(59_000);
    await you.send(notStun, address);
    await roundTrip();
    expect(drops()).toHaveLength(2);
    clock.advance(1000);
    await you.send(notStun, address);
    await roundTrip();
    expect(drops()).toHaveLength(3);
    expect(drops()[2]).toEqual({ reason: "not_stun", address: tag("127.0.0.1"), suppressed: 3 });

    // Three round trips spent three of the four tokens; the fifth request finds none.
    await you.send(bindingRequest(randomBytes(12)), address);
    await you.send(bindingRequest(randomBytes(12)), address);
    await until(() => logger.entries.some((entry) => entry.event === "limit"), "the rate-limit line");
    expect(logger.entries.filter((entry) => entry.event === "limit").map((entry) => entry.fields)).toEqual([
      { limit: "stun_source_rate", address: tag("127.0.0.1"), suppressed: 0 },
    ]);
    for (const entry of logger.entries) expect(JSON.stringify(entry.fields)).not.toContain("127.0.0.1");
    expect(logger.entries.every((entry) => entry.level === "warn")).toBe(true);
  });

  it("frees its port on close(), which is idempotent", async () => {
    const server = new StunServer({ host: "127.0.0.1", port: 0 });
    const { port } = await server.listen();
    await Promise.all([server.close(), server.close()]);
    await server.close();
    const sameport = createSocket("udp4");
    await new Promise<void>((resolve, reject) => {
      sameport.once("error", reject);
      sameport.bind(port, "127.0.0.1", () => resolve());
    });
    expect(sameport.address().port).toBe(port);
    await new Promise<void>((resolve) => sameport.close(() => resolve()));
    await expect(server.listen()).rejects.toThrow(/closed/);
  });

  it("refuses to listen after close(), and close() before listen() is fine", async () => {
    const server = new StunServer({ host: "127.0.0.1", port: 0 });
    await server.close();
    await expect(server.listen()).rejects.toThrow(/closed/);
  });

  it("fails listen() on a port in use, without crashing, and still closes", async () => {
    const { address } = await startServer();
    const second = new StunServer({ host: "127.0.0.1", port: address.port });
    await expect(second.listen()).rejects.toThrow(/EADDRINUSE/);
    await expect(second.close()).resolves.toBeUndefined();
  });

  it("rejects limits that would answer nothing", () => {
    expect(() => new StunServer({ host: "127.0.0.1", port: 0, limits: { burst: 0 } })).toThrow(/limits\.burst/);
    expect(() => new StunServer({ host: "127.0.0.1", port: 0, limits: { maxDatagramBytes: 19 } })).toThrow(/maxDatagramBytes/);
  });
});

describe("SourceBuckets", () => {
  it("limits each source on its own", () => {
    const clock = fakeClock();
    const buckets = new SourceBuckets({ burst: 2, requestsPerSecond: 1, maxSources: 10 }, clock.now);
    expect([buckets.tryTake("a"), buckets.tryTake("a"), buckets.tryTake("a"), buckets.tryTake("b")]).toEqual([true, true, false, true]);
    clock.advance(1000);
    expect([buckets.tryTake("a"), buckets.tryTake("a")]).toEqual([true, false]);
  });

  it("never tracks more than maxSources, forgetting the least recently seen", () => {
    const clock = fakeClock();
    const buckets = new SourceBuckets({ burst: 1, requestsPerSecond: 1, maxSources: 3 }, clock.now);
    for (const source of ["a", "b", "c"]) expect(buckets.tryTake(source)).toBe(true);
    // "a" is seen again (refused), so "b" is now the most idle and goes when "d" arrives.
    expect(buckets.tryTake("a")).toBe(false);
    expect(buckets.tryTake("d")).toBe(true);
    expect(buckets.size).toBe(3);
    expect(buckets.tryTake("a")).toBe(false);
    expect(buckets.tryTake("c")).toBe(false);
    // "b" was forgotten: it starts again with a full bucket.
    expect(buckets.tryTake("b")).toBe(true);
    expect(buckets.size).toBe(3);
  });
});

describe("sourceKey", () => {
  it("is the address for IPv4 and the /64 for IPv6", () => {
    const key = (text: string): string => sourceKey(parseIpAddress(text) ?? { family: 4, bytes: new Uint8Array(4) });
    expect(key("192.0.2.1")).toBe("192.0.2.1");
    expect(key("::ffff:192.0.2.1")).toBe("192.0.2.1");
    expect(key("2001:db8:1:2::1")).toBe(key("2001:db8:1:2:ffff::9"));
    expect(key("2001:db8:1:2::1")).not.toBe(key("2001:db8:1:3::1"));
  });
});
