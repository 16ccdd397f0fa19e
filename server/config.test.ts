import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ConfigError, DEFAULT_CONFIG_TOML, loadConfig, parseBind, stunBindAddress, withBindOverride } from "./config.js";

describe("loadConfig", () => {
  it("embeds config/default.toml as the default", () => {
    expect(DEFAULT_CONFIG_TOML).toBe(readFileSync(new URL("../config/default.toml", import.meta.url), "utf8"));
  });

  it("reads the documented defaults", () => {
    const config = loadConfig();
    expect(config.server).toEqual({ bind: "127.0.0.1:8080", allowedOrigins: [], trustForwardedFor: false });
    expect(config.limits).toEqual({
      maxFrameBytes: 8 * 1024 * 1024,
      messagesPerSecond: 20,
      messageBurst: 600,
      bytesPerSecond: 1024 * 1024,
      byteBurst: 16 * 1024 * 1024,
      errorBurst: 20,
      errorsPerSecond: 0.2,
      maxSockets: 10_000,
      maxSocketsPerIp: 64,
      maxRoomMembers: 16,
      maxWatchedRooms: 64,
      idleTimeoutSeconds: 75,
      pingIntervalSeconds: 30,
      maxSendBufferBytes: 16 * 1024 * 1024,
    });
    expect(config.webrtc).toEqual({ stun: [], turn: [], turnUser: null, turnCred: null });
    expect(Object.values(config.appearance).every((colour) => /^#[0-9a-f]{6}$/.test(colour))).toBe(true);
  });

  it("lays a partial file over the defaults", () => {
    const config = loadConfig(`
      [limits]
      max_room_members = 4
      idle_timeout_seconds = 0.5
      [webrtc]
      stun = "stun:stun.example.org:3478"
      turn = ["turn:turn.example.org:3478", "turns:turn.example.org:5349"]
      turn_user = "u"
      turn_cred = "p"
    `);
    expect(config.limits.maxRoomMembers).toBe(4);
    expect(config.limits.idleTimeoutSeconds).toBe(0.5);
    expect(config.limits.maxFrameBytes).toBe(8 * 1024 * 1024);
    expect(config.server.bind).toBe("127.0.0.1:8080");
    expect(config.webrtc).toEqual({
      stun: ["stun:stun.example.org:3478"],
      turn: ["turn:turn.example.org:3478", "turns:turn.example.org:5349"],
      turnUser: "u",
      turnCred: "p",
    });
  });

  it("names unknown keys and sections", () => {
    expect(() => loadConfig("[limits]\nmax_frame = 5\n")).toThrow(/unknown key limits\.max_frame .*max_frame_bytes/);
    expect(() => loadConfig("[features]\nroom_watches = true\n")).toThrow(/unknown section \[features\]/);
    expect(() => loadConfig("bind = 1\n")).toThrow(/unknown section \[bind\]/);
    expect(() => loadConfig("[limits]\nmax_frame = 5\n")).toThrow(ConfigError);
  });

  it("names wrong types and bad values", () => {
    expect(() => loadConfig('[limits]\nmax_frame_bytes = "big"\n')).toThrow(/limits\.max_frame_bytes must be a positive integer, got a string/);
    expect(() => loadConfig("[limits]\nmax_room_members = 2.5\n")).toThrow(/limits\.max_room_members must be a positive integer/);
    expect(() => loadConfig("[limits]\nmessages_per_second = 0\n")).toThrow(/limits\.messages_per_second must be a positive number/);
    expect(() => loadConfig("[server]\ntrust_forwarded_for = 1\n")).toThrow(/server\.trust_forwarded_for must be true or false/);
    expect(() => loadConfig("[webrtc]\nstun = [1]\n")).toThrow(/webrtc\.stun must be a list of strings/);
    expect(() => loadConfig('[webrtc]\nstun = ["turn:x"]\n')).toThrow(/webrtc\.stun entries must start with stun: or stuns:/);
    expect(() => loadConfig('[appearance]\naccent = "red"\n')).toThrow(/appearance\.accent must be a colour as #rrggbb/);
    expect(() => loadConfig('[server]\nallowed_origins = ["https://x.org/"]\n')).toThrow(/allowed_origins entries must be origins/);
    expect(() => loadConfig('[server]\nbind = "localhost"\n')).toThrow(/server\.bind must be host:port/);
    expect(() => loadConfig("[limits\n")).toThrow(/invalid TOML/);
    expect(() => loadConfig("limits = 3\n")).toThrow(/limits must be a \[limits\] table/);
  });

  it("refuses limits that contradict each other", () => {
    expect(() => loadConfig("[limits]\nbyte_burst = 1000\n")).toThrow(/byte_burst must be at least limits\.max_frame_bytes/);
    expect(() => loadConfig("[limits]\nmax_send_buffer_bytes = 8388608\n")).toThrow(/max_send_buffer_bytes must be at least/);
  });

  it("accepts allowed origins", () => {
    const config = loadConfig('[server]\nallowed_origins = ["https://meet.example.org", "http://localhost:8080"]\n');
    expect(config.server.allowedOrigins).toEqual(["https://meet.example.org", "http://localhost:8080"]);
  });
});

describe("[stun] and [turn]", () => {
  it("serves STUN by default, next to server.bind on 3478, and on a free port when server.bind asks for one", () => {
    const config = loadConfig();
    expect(config.stun).toEqual({ enabled: true, bind: null, publicHost: null, requestsPerSecond: 20, requestBurst: 200 });
    expect(stunBindAddress(config)).toEqual({ host: "127.0.0.1", port: 3478 });
    expect(stunBindAddress(withBindOverride(config, "[::]:443"))).toEqual({ host: "::", port: 3478 });
    expect(stunBindAddress(loadConfig('[server]\nbind = "127.0.0.1:0"\n'))).toEqual({ host: "127.0.0.1", port: 0 });
    expect(stunBindAddress(loadConfig('[stun]\nbind = "0.0.0.0:3479"\n'))).toEqual({ host: "0.0.0.0", port: 3479 });
  });

  it("checks STUN's keys", () => {
    expect(() => loadConfig('[stun]\nbind = "3478"\n')).toThrow(/stun\.bind must be host:port/);
    expect(() => loadConfig('[stun]\npublic_host = "https://x.org"\n')).toThrow(/stun\.public_host must be a host name/);
    expect(loadConfig('[stun]\npublic_host = "stun.example.org"\n').stun.publicHost).toBe("stun.example.org");
    expect(() => loadConfig("[stun]\nenabled = false\n")).toThrow(/set webrtc\.stun/);
  });

  it("has no TURN by default, and needs URLs and a long secret together", () => {
    expect(loadConfig().turn).toEqual({ urls: [], secret: null, credentialLifetimeSeconds: 3600 });
    const secret = "0123456789abcdef";
    expect(loadConfig(`[turn]\nurls = ["turn:t.example:3478"]\nsecret = "${secret}"\n`).turn).toEqual({
      urls: ["turn:t.example:3478"],
      secret,
      credentialLifetimeSeconds: 3600,
    });
    expect(() => loadConfig(`[turn]\nsecret = "${secret}"\n`)).toThrow(/turn\.urls is empty/);
    expect(() => loadConfig('[turn]\nurls = ["turn:t.example:3478"]\n')).toThrow(/turn\.secret must be at least 16/);
    expect(() => loadConfig('[turn]\nurls = ["stun:t.example:3478"]\nsecret = "0123456789abcdef"\n')).toThrow(/turn\.urls entries must start with turn/);
    expect(() => loadConfig(`[turn]\nurls = ["turn:t.example:3478"]\nsecret = "${secret}"\ncredential_lifetime_seconds = 60\n`)).toThrow(/at least 120/);
  });
});

describe("BIND", () => {
  it("overrides server.bind when set, and is validated", () => {
    const config = loadConfig();
    expect(withBindOverride(config, "0.0.0.0:9000").server.bind).toBe("0.0.0.0:9000");
    expect(withBindOverride(config, undefined)).toBe(config);
    expect(withBindOverride(config, "")).toBe(config);
    expect(() => withBindOverride(config, "9000")).toThrow(/BIND must be host:port/);
  });

  it("parses host:port and [ipv6]:port", () => {
    expect(parseBind("127.0.0.1:0")).toEqual({ host: "127.0.0.1", port: 0 });
    expect(parseBind("[::1]:8080")).toEqual({ host: "::1", port: 8080 });
    expect(parseBind("example.org:443")).toEqual({ host: "example.org", port: 443 });
    expect(() => parseBind("::1:8080")).toThrow(ConfigError);
    expect(() => parseBind("127.0.0.1:65536")).toThrow(ConfigError);
  });
});
