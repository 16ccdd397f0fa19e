import { describe, expect, it } from "vitest";
import { loadConfig } from "./config.js";
import { clientConfig, overridesCss } from "./public-config.js";

describe("clientConfig", () => {
  it("has keks-meet's webrtc fields, RTCIceServer objects and the colours, and nothing of [server]", () => {
    const config = loadConfig(`
      [webrtc]
      stun = ["stun:a.example:3478", "stun:b.example:3478"]
      turn = ["turn:t.example:3478"]
      turn_user = "user"
      turn_cred = "cred"
    `);
    const json = clientConfig(config);
    expect(json.webrtc).toEqual({
      stun: "stun:a.example:3478",
      turn: "turn:t.example:3478",
      turn_user: "user",
      turn_cred: "cred",
      ice_servers: [
        { urls: ["stun:a.example:3478", "stun:b.example:3478"] },
        { urls: ["turn:t.example:3478"], username: "user", credential: "cred" },
      ],
    });
    expect(Object.keys(json).sort()).toEqual(["appearance", "jellyfin", "webrtc"]);
    expect(JSON.stringify(json)).not.toContain("8080");
  });

  it("gives nulls and no ICE servers by default", () => {
    expect(clientConfig(loadConfig()).webrtc).toEqual({ stun: null, turn: null, turn_user: null, turn_cred: null, ice_servers: [] });
  });

  it("omits TURN credentials that are not configured", () => {
    const json = clientConfig(loadConfig('[webrtc]\nturn = "turn:t.example:3478"\n'));
    expect(json.webrtc.ice_servers).toEqual([{ urls: ["turn:t.example:3478"] }]);
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
