import { describe, expect, it } from "vitest";
import { checkPrefValue, isOptionalPref, parsePrefText, resolvePrefs, type PrefWarning } from "./resolve.js";
import { PREF_KEYS, PREFS, defaultPrefs } from "./schema.js";

function warningOf(result: { ok: boolean; error?: PrefWarning }): PrefWarning {
  if (result.ok || !result.error) throw new Error(`expected a warning, got ${JSON.stringify(result)}`);
  return result.error;
}

describe("parsePrefText", () => {
  it("reads booleans in every spelling, any case", () => {
    for (const text of ["1", "true", "TRUE", "yes", "Yes", "on", "ON"]) expect(parsePrefText("rnnoise", text)).toEqual({ ok: true, value: true });
    for (const text of ["0", "false", "False", "no", "NO", "off", "Off"]) expect(parsePrefText("rnnoise", text)).toEqual({ ok: true, value: false });
  });

  it("refuses other boolean text, including empty for a pref that cannot be unset", () => {
    for (const text of ["", "2", "maybe", "truee", "y"]) expect(warningOf(parsePrefText("rnnoise", text)).code).toBe("bad_value");
  });

  it("reads decimal numbers without parseInt truncation", () => {
    expect(parsePrefText("microphone_gain", "1.5")).toEqual({ ok: true, value: 1.5 });
    expect(parsePrefText("microphone_gain", ".5")).toEqual({ ok: true, value: 0.5 });
    expect(parsePrefText("microphone_gain", "2.")).toEqual({ ok: true, value: 2 });
    expect(parsePrefText("audio_activity_threshold", "3e-3")).toEqual({ ok: true, value: 0.003 });
    expect(parsePrefText("video_fps", "+30")).toEqual({ ok: true, value: 30 });
    expect(parsePrefText("microphone_gain", "-0")).toEqual({ ok: true, value: 0 });
    expect(Object.is((parsePrefText("microphone_gain", "-0") as { value: number }).value, 0)).toBe(true);
  });

  it("refuses what Number() or parseInt would have let through", () => {
    for (const text of ["", " ", "12abc", "0x10", "Infinity", "NaN", "1,5", "1.2.3", "--1", "e5"]) {
      expect(warningOf(parsePrefText("microphone_gain", text)).code, text).toBe("bad_value");
    }
    expect(warningOf(parsePrefText("microphone_gain", "1e999")).code).toBe("bad_value");
  });

  it("checks ranges and whole numbers", () => {
    expect(warningOf(parsePrefText("microphone_gain", "10.5")).code).toBe("out_of_range");
    expect(warningOf(parsePrefText("microphone_gain", "-1")).code).toBe("out_of_range");
    expect(parsePrefText("microphone_gain", "10")).toEqual({ ok: true, value: 10 });
    expect(parsePrefText("microphone_gain", "0")).toEqual({ ok: true, value: 0 });
    const fractional = warningOf(parsePrefText("preview_resolution", "100.5"));
    expect(fractional.code).toBe("bad_value");
    expect(fractional.message).toMatch(/whole number/);
    expect(warningOf(parsePrefText("preview_resolution", "8")).message).toBe("“preview_resolution” must be from 16 to 512, not “8”.");
  });

  it("checks allowed values and length of strings", () => {
    expect(parsePrefText("language", "de-DE")).toEqual({ ok: true, value: "de-DE" });
    const bad = warningOf(parsePrefText("language", "klingon"));
    expect(bad.code).toBe("not_allowed_value");
    expect(bad.message).toContain("system, en, en-US");
    expect(warningOf(parsePrefText("language", "")).code).toBe("not_allowed_value");
    expect(parsePrefText("username", "Ana María ?&=#")).toEqual({ ok: true, value: "Ana María ?&=#" });
    expect(parsePrefText("username", "x".repeat(100))).toMatchObject({ ok: true });
    expect(warningOf(parsePrefText("username", "x".repeat(101))).code).toBe("out_of_range");
    // Length counts characters, not UTF-16 units: 100 emoji are 100 characters.
    expect(parsePrefText("username", "🙂".repeat(100))).toMatchObject({ ok: true });
  });

  it("unsets an optional pref with an empty value", () => {
    expect(parsePrefText("video_fps", "")).toEqual({ ok: true, value: undefined });
    expect(parsePrefText("echo_cancellation", "")).toEqual({ ok: true, value: undefined });
    expect(parsePrefText("camera_facing_mode", "")).toEqual({ ok: true, value: undefined });
    expect(parsePrefText("audio_activity_threshold", "")).toEqual({ ok: true, value: undefined });
  });

  it("quotes at most 40 characters of the input, with control and bidi characters neutralised", () => {
    const long = "A".repeat(500);
    const message = warningOf(parsePrefText("microphone_gain", long)).message;
    expect(message).not.toContain("A".repeat(41));
    expect(message).toContain(`“${"A".repeat(39)}…”`);
    const sneaky = warningOf(parsePrefText("rnnoise", "x\u202Eevil\n")).message;
    expect(sneaky).not.toMatch(/[\u202E\n]/);
  });
});

describe("checkPrefValue", () => {
  it("accepts values of the declared type within range", () => {
    expect(checkPrefValue("rnnoise", false)).toEqual({ ok: true, value: false });
    expect(checkPrefValue("preview_rate", 2.5)).toEqual({ ok: true, value: 2.5 });
    expect(checkPrefValue("camera_facing_mode", "user")).toEqual({ ok: true, value: "user" });
    expect(checkPrefValue("room_watches", "[]")).toEqual({ ok: true, value: "[]" });
  });

  it("refuses wrong types without coercion", () => {
    expect(warningOf(checkPrefValue("rnnoise", "true")).code).toBe("bad_value");
    expect(warningOf(checkPrefValue("rnnoise", 1)).code).toBe("bad_value");
    expect(warningOf(checkPrefValue("microphone_gain", "2")).code).toBe("bad_value");
    expect(warningOf(checkPrefValue("microphone_gain", Number.NaN)).code).toBe("bad_value");
    expect(warningOf(checkPrefValue("microphone_gain", Number.POSITIVE_INFINITY)).code).toBe("bad_value");
    expect(warningOf(checkPrefValue("username", 42)).code).toBe("bad_value");
    expect(warningOf(checkPrefValue("username", { toString: () => "x" })).message).toContain("type object");
    expect(warningOf(checkPrefValue("username", ["a"])).message).toContain("a list");
  });

  it("enforces ranges and allowed values on stored and programmatic values too", () => {
    expect(warningOf(checkPrefValue("preview_encoding_quality", 101)).code).toBe("out_of_range");
    expect(warningOf(checkPrefValue("preview_encoding_quality", 50.5)).code).toBe("bad_value");
    expect(warningOf(checkPrefValue("language", "xx")).code).toBe("not_allowed_value");
  });

  it("treats null and undefined as unset, allowed only for optional prefs", () => {
    expect(checkPrefValue("video_resolution", null)).toEqual({ ok: true, value: undefined });
    expect(checkPrefValue("auto_gain_control", undefined)).toEqual({ ok: true, value: undefined });
    expect(warningOf(checkPrefValue("rnnoise", null)).code).toBe("bad_value");
    expect(warningOf(checkPrefValue("username", undefined)).message).toBe("“username” cannot be unset.");
  });

  it("accepts every default in the schema (the table is consistent with its own rules)", () => {
    for (const key of PREF_KEYS) {
      const fallback = PREFS[key].default;
      if (fallback === undefined) continue;
      expect(checkPrefValue(key, fallback), key).toEqual({ ok: true, value: fallback });
    }
    expect(isOptionalPref("video_fps")).toBe(true);
    expect(isOptionalPref("rnnoise")).toBe(false);
  });
});

describe("resolvePrefs", () => {
  it("gives the defaults with no input", () => {
    const resolved = resolvePrefs({ url: [], stored: {} });
    expect(resolved.values).toEqual(defaultPrefs());
    expect(new Set(Object.values(resolved.sources))).toEqual(new Set(["default"]));
    expect(Object.keys(resolved.sources).sort()).toEqual([...PREF_KEYS].sort());
    expect(resolved.warnings).toEqual([]);
  });

  it("lets the link win over storage and storage over defaults", () => {
    const resolved = resolvePrefs({
      url: [["rnnoise", "off"], ["username", "ana"]],
      stored: { rnnoise: true, username: "bob", microphone_gain: 2 },
    });
    expect(resolved.values).toMatchObject({ rnnoise: false, username: "ana", microphone_gain: 2, notify_chat: true });
    expect(resolved.sources).toMatchObject({ rnnoise: "url", username: "url", microphone_gain: "stored", notify_chat: "default" });
    expect(resolved.warnings).toEqual([]);
  });

  it("allows every pref from the link, unlike keks-meet's allow_url list", () => {
    const resolved = resolvePrefs({ url: [["microphone_enabled", "yes"], ["preview_rate", "2.5"]], stored: {} });
    expect(resolved.values).toMatchObject({ microphone_enabled: true, preview_rate: 2.5 });
    expect(resolved.warnings).toEqual([]);
  });

  it("falls back to the stored value, then the default, when a value is bad", () => {
    const resolved = resolvePrefs({
      url: [["microphone_gain", "99"], ["preview_rate", "fast"]],
      stored: { microphone_gain: 3, preview_rate: "8" },
    });
    expect(resolved.values.microphone_gain).toBe(3);
    expect(resolved.sources.microphone_gain).toBe("stored");
    expect(resolved.values.preview_rate).toBe(8);
    expect(resolved.sources.preview_rate).toBe("default");
    expect(resolved.warnings.map((w) => [w.key, w.code])).toEqual([
      ["preview_rate", "bad_value"],
      ["microphone_gain", "out_of_range"],
      ["preview_rate", "bad_value"],
    ]);
    expect(resolved.warnings[0]?.message).toMatch(/saved value was not used/);
    expect(resolved.warnings[1]?.message).toMatch(/from the link was not used/);
  });

  it("unsets optional prefs from the link and from a stored null", () => {
    const resolved = resolvePrefs({ url: [["audio_activity_threshold", ""]], stored: { video_fps: null, echo_cancellation: false } });
    expect(resolved.values.audio_activity_threshold).toBeUndefined();
    expect(resolved.sources.audio_activity_threshold).toBe("url");
    expect(resolved.values.video_fps).toBeUndefined();
    expect(resolved.sources.video_fps).toBe("stored");
    expect(resolved.values.echo_cancellation).toBe(false);
  });

  it("treats an undefined stored entry as not stored", () => {
    const resolved = resolvePrefs({ url: [], stored: { rnnoise: undefined } });
    expect(resolved.sources.rnnoise).toBe("default");
    expect(resolved.warnings).toEqual([]);
  });

  it("warns about unknown keys, ignores `prototype` silently, and never touches Object.prototype", () => {
    const resolved = resolvePrefs({
      url: [["prototype", "1"], ["__proto__", "x"], ["constructor", "1"], ["toString", "1"], ["colour", "red"]],
      stored: {},
    });
    expect(resolved.warnings.map((w) => [w.key, w.code])).toEqual([
      ["__proto__", "unknown_key"],
      ["constructor", "unknown_key"],
      ["toString", "unknown_key"],
      ["colour", "unknown_key"],
    ]);
    expect(resolved.warnings[3]?.message).toBe("The link sets “colour”, which is not a setting; it was ignored.");
    expect(resolved.values).toEqual(defaultPrefs());
    expect(({} as Record<string, unknown>)["x"]).toBeUndefined();
  });

  it("uses the last good value when the link repeats a key", () => {
    const resolved = resolvePrefs({ url: [["video_fps", "15"], ["video_fps", "30"], ["video_fps", "oops"]], stored: {} });
    expect(resolved.values.video_fps).toBe(30);
    expect(resolved.warnings).toHaveLength(1);
  });

  it("clips long unknown keys in warnings", () => {
    const resolved = resolvePrefs({ url: [["k".repeat(300), "v"]], stored: {} });
    expect(resolved.warnings[0]?.key.length).toBeLessThanOrEqual(40);
    expect(resolved.warnings[0]?.message.length).toBeLessThan(120);
  });
  it("ignores, with a warning, what only this browser may set when a link sets it", () => {
    const resolved = resolvePrefs({ stored: { room_watches: '["mine"]' }, url: [["room_watches", '["a-stranger-s-room"]'], ["username", "ana"]] });
    expect(resolved.values.room_watches).toBe('["mine"]');
    expect(resolved.sources.room_watches).toBe("stored");
    expect(resolved.values.username).toBe("ana");
    expect(resolved.warnings).toEqual([{ key: "room_watches", code: "not_from_link", message: expect.stringContaining("only this browser may set") }]);
  });
});
