import { describe, expect, it } from "vitest";
import { formatRoomFragment, parseRoomFragment, randomRoomSecret, safeDecode } from "./fragment.js";

describe("parseRoomFragment", () => {
  it("reads secret and params as keks-meet links mean them", () => {
    expect(parseRoomFragment("#My%20Room#abc?username=ana&rnnoise=false")).toEqual({
      ok: true,
      value: { secret: "My Room#abc", params: [["username", "ana"], ["rnnoise", "false"]] },
    });
    expect(parseRoomFragment("hunter2")).toEqual({ ok: true, value: { secret: "hunter2", params: [] } });
  });

  it("keeps a literal % that keks-meet would crash on", () => {
    expect(parseRoomFragment("#50%off#abc")).toMatchObject({ ok: true, value: { secret: "50%off#abc" } });
    expect(parseRoomFragment("#a%ffb")).toMatchObject({ ok: true, value: { secret: "a%ffb" } });
  });

  it("keeps an encoded ? and # inside the secret", () => {
    expect(parseRoomFragment("#why%3F%23now?username=x")).toMatchObject({
      ok: true,
      value: { secret: "why?#now", params: [["username", "x"]] },
    });
  });

  it("refuses an empty secret with a clear message", () => {
    for (const hash of ["", "#", "#?username=x"]) {
      const result = parseRoomFragment(hash);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.error.code).toBe("empty_secret");
    }
  });

  it("round-trips any secret and params through formatRoomFragment", () => {
    const secrets = ["plain", "50%off", "why?#now", "spaces and ünïcödé", "a&b=c", "%25", "#lead", "trail?"];
    for (const secret of secrets) {
      const params: [string, string][] = [["username", "ana & bo?"], ["x", "%"]];
      expect(parseRoomFragment(formatRoomFragment(secret, params))).toEqual({ ok: true, value: { secret, params } });
    }
  });

  it("makes new secrets of 128 bits, URL-safe and different each time", () => {
    const a = randomRoomSecret();
    expect(a).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(randomRoomSecret()).not.toBe(a);
    expect(safeDecode(a)).toBe(a);
  });
});
