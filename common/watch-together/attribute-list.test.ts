import { describe, expect, it } from "vitest";
import { attributeMap, MAX_ATTRIBUTES, parseAttributeList, serializeAttributeList } from "./attribute-list.js";

describe("parseAttributeList", () => {
  it("keeps commas inside quoted strings", () => {
    const parsed = parseAttributeList(`BANDWIDTH=345400,CODECS="avc1.4d400c,mp4a.40.2",RESOLUTION=320x180,FRAME-RATE=25,SUBTITLES="subs"`);
    expect(parsed).toEqual({
      ok: true,
      value: [
        { name: "BANDWIDTH", value: "345400", quoted: false },
        { name: "CODECS", value: "avc1.4d400c,mp4a.40.2", quoted: true },
        { name: "RESOLUTION", value: "320x180", quoted: false },
        { name: "FRAME-RATE", value: "25", quoted: false },
        { name: "SUBTITLES", value: "subs", quoted: true },
      ],
    });
  });

  it("reads '=' and spaces inside quotes, an empty quoted string, and spaces after commas", () => {
    const parsed = parseAttributeList(`URI="main.m3u8?a=1&b=2",  NAME="Director's cut, English", GROUP-ID=""`);
    expect(parsed.ok && attributeMap(parsed.value)).toEqual(
      new Map([
        ["URI", "main.m3u8?a=1&b=2"],
        ["NAME", "Director's cut, English"],
        ["GROUP-ID", ""],
      ]),
    );
  });

  it("accepts an empty list", () => {
    expect(parseAttributeList("")).toEqual({ ok: true, value: [] });
  });

  it.each([
    ["no '='", "BANDWIDTH"],
    ["a second value without a name", "BANDWIDTH=1,2"],
    ["an unterminated quote", `URI="main.m3u8`],
    ["text after a quoted string", `URI="a"b,BANDWIDTH=1`],
    ["a quote inside an unquoted value", `TYPE=SUB"TITLES"`],
    ["an empty unquoted value", "BANDWIDTH=,TYPE=AUDIO"],
    ["a space inside an unquoted value", "TYPE=SUB TITLES"],
    ["a trailing comma", "BANDWIDTH=1,"],
    ["two commas", "BANDWIDTH=1,,TYPE=AUDIO"],
    ["a lowercase name", "bandwidth=1"],
    ["an empty name", "=1"],
    ["a duplicate name", "BANDWIDTH=1,BANDWIDTH=2"],
    ["too many attributes", Array.from({ length: MAX_ATTRIBUTES + 1 }, (_, i) => `A${i}=1`).join(",")],
  ])("refuses %s", (_name, text) => {
    const parsed = parseAttributeList(text);
    expect(parsed.ok).toBe(false);
  });

  it("errors say where, not what", () => {
    const parsed = parseAttributeList(`URI="https://jf.example/?ApiKey=secret-token`);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.error.offset).toBe(4);
      expect(parsed.error.message).not.toContain("secret-token");
    }
  });
});

describe("serializeAttributeList", () => {
  it("quotes exactly the string attributes", () => {
    const list = serializeAttributeList([
      ["TYPE", "SUBTITLES"],
      ["GROUP-ID", "subs"],
      ["NAME", "English"],
      ["LANGUAGE", "eng"],
      ["DEFAULT", "YES"],
      ["AUTOSELECT", "YES"],
      ["FORCED", "NO"],
      ["URI", "jfp2p://s/1"],
      ["BANDWIDTH", "345400"],
      ["CODECS", "avc1.4d400c,mp4a.40.2"],
      ["RESOLUTION", "320x180"],
      ["FRAME-RATE", "25.000"],
      ["SUBTITLES", "subs"],
    ]);
    expect(list).toEqual({
      ok: true,
      value:
        `TYPE=SUBTITLES,GROUP-ID="subs",NAME="English",LANGUAGE="eng",DEFAULT=YES,AUTOSELECT=YES,FORCED=NO,URI="jfp2p://s/1",` +
        `BANDWIDTH=345400,CODECS="avc1.4d400c,mp4a.40.2",RESOLUTION=320x180,FRAME-RATE=25.000,SUBTITLES="subs"`,
    });
  });

  it("round-trips through the parser", () => {
    const attributes = [
      ["BANDWIDTH", "1"],
      ["CODECS", "a,b"],
      ["NAME", "x=y, z"],
    ] as const;
    const text = serializeAttributeList(attributes);
    const parsed = text.ok ? parseAttributeList(text.value) : text;
    expect(parsed.ok && parsed.value.map((a) => [a.name, a.value])).toEqual(attributes.map(([n, v]) => [n, v]));
  });

  it.each([
    ["a quote in a quoted value", [["NAME", 'say "hi"']]],
    ["a line break in a quoted value", [["URI", "a\nb"]]],
    ["a comma in an unquoted value", [["BANDWIDTH", "1,2"]]],
    ["an empty unquoted value", [["DEFAULT", ""]]],
    ["a bad name", [["na me", "1"]]],
  ] as const)("refuses %s", (_name, attributes) => {
    expect(serializeAttributeList(attributes).ok).toBe(false);
  });
});
