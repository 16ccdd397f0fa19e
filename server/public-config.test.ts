import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config.js";
import { clientConfig, overridesCss, requestHost } from "./public-config.js";

const BUILT_IN = { port: 3478, fallbackHost: "localhost" };

describe("clientConfig", () => {
  it("names the built-in STUN server at the page's host, as keks-meet's string field and as an RTCIceServer", () => {
    const json = clientConfig(loadConfig(), BUILT_IN, "meet.example.org");
    expect(json.webrtc).toEqual({
      stun: "stun:meet.example.org:3478",
      turn: null,
      turn_user: null,
      turn_cred: null,
      ice_servers: [{ urls: ["stun:meet.example.org:3478"] }],
    });
    expect(Object.keys(json).sort()).toEqual(["appearance", "jellyfin", "webrtc"]);
    expect(JSON.stringify(json)).not.toContain("8080");
  });

  it("brackets IPv6 hosts, prefers stun.public_host, and falls back when the request names no usable host", () => {
    expect(clientConfig(loadConfig(), BUILT_IN, "2001:db8::1").webrtc.stun).toBe("stun:[2001:db8::1]:3478");
    expect(clientConfig(loadConfig('[stun]\npublic_host = "stun.example.org"\n'), BUILT_IN, "meet.example.org").webrtc.stun).toBe(
      "stun:stun.example.org:3478",
    );
    expect(clientConfig(loadConfig(), { port: 40000, fallbackHost: "192.0.2.7" }, null).webrtc.stun).toBe("stun:192.0.2.7:40000");
  });

  it("lists extra STUN servers after the built-in one and keeps fixed TURN credentials for keks-meet", () => {
    const config = loadConfig(`
      [webrtc]
      stun = ["stun:a.example:3478", "stun:b.example:3478"]
      turn = ["turn:t.example:3478"]
      turn_user = "user"
      turn_cred = "cred"
    `);
    const json = clientConfig(config, BUILT_IN, "meet.example.org");
    expect(json.webrtc).toEqual({
      stun: "stun:meet.example.org:3478",
      turn: "turn:t.example:3478",
      turn_user: "user",
      turn_cred: "cred",
      ice_servers: [
        { urls: ["stun:meet.example.org:3478", "stun:a.example:3478", "stun:b.example:3478"] },
        { urls: ["turn:t.example:3478"], username: "user", credential: "cred" },
      ],
    });
  });

  it("uses webrtc.stun when the built-in server is off, and refuses a config with no STUN at all", () => {
    const config = loadConfig('[stun]\nenabled = false\n[webrtc]\nstun = "stun:stun.example.org:3478"\n');
    expect(clientConfig(config, null, "meet.example.org").webrtc.stun).toBe("stun:stun.example.org:3478");
    expect(() => loadConfig("[stun]\nenabled = false\n")).toThrow(ConfigError);
  });

  it("never carries the TURN secret or minted TURN URLs", () => {
    const config = loadConfig('[turn]\nurls = ["turn:turn.example.org:3478"]\nsecret = "0123456789abcdef-secret"\n');
    const text = JSON.stringify(clientConfig(config, BUILT_IN, "meet.example.org"));
    expect(text).not.toContain("0123456789abcdef-secret");
    expect(text).not.toContain("turn.example.org");
  });

  it("omits TURN credentials that are not configured", () => {
    const json = clientConfig(loadConfig('[webrtc]\nturn = "turn:t.example:3478"\n'), BUILT_IN, "h.example");
    expect(json.webrtc.ice_servers).toEqual([{ urls: ["stun:h.example:3478"] }, { urls: ["turn:t.example:3478"] }]);
  });
});

describe("requestHost", () => {
  it("takes the host of a Host header and refuses what would not fit a stun: URL", () => {
    expect(requestHost("meet.example.org")).toBe("meet.example.org");
    expect(requestHost("meet.example.org:8443")).toBe("meet.example.org");
    expect(requestHost("127.0.0.1:8080")).toBe("127.0.0.1");
    expect(requestHost("[::1]:8080")).toBe("::1");
    expect(requestHost(undefined)).toBeNull();
    expect(requestHost("")).toBeNull();
    expect(requestHost("evil.example/x")).toBeNull();
    expect(requestHost('a"b')).toBeNull();
    expect(requestHost("a b")).toBeNull();
  });
});

describe("overridesCss", () => {
  it("sets keks-meet's variables, --ac-dark-transparent with alpha c9", () => {
    const css = overridesCss({
      accent: "#111111",
      accentLight: "#222222",
      accentDark: "#333333",
      background: "#444444",
      backgroundDark: "#555555",
      backgroundLight: "#666666",
    });
    expect(css).toBe(
      ":root{--bg:#444444;--bg-dark:#555555;--bg-light:#666666;--ac:#111111;--ac-dark:#333333;--ac-dark-transparent:#333333c9;--ac-light:#222222}\n",
    );
  });
});
