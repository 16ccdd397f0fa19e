import { describe, expect, it } from "vitest";
import { FALLBACK_FILE_NAME, MAX_FILE_NAME_BYTES, safeFileName } from "./file-name.js";

const utf8Length = (text: string) => new TextEncoder().encode(text).length;

describe("safeFileName", () => {
  const cases: [string, string | undefined, string][] = [
    ["keeps an ordinary name", "report 2024.pdf", "report 2024.pdf"],
    ["keeps non-Latin names and emoji", "Übersicht – 日本語 👩‍👩‍👧.txt", "Übersicht – 日本語 👩‍👩‍👧.txt"],
    ["falls back when there is no label", undefined, FALLBACK_FILE_NAME],
    ["falls back for an empty label", "", FALLBACK_FILE_NAME],
    ["falls back for dots only", "..", FALLBACK_FILE_NAME],
    ["falls back for whitespace and controls only", " \t\u0000\u202e ", FALLBACK_FILE_NAME],
    ["replaces slashes", "a/b\\c.txt", "a_b_c.txt"],
    ["defuses traversal", "../../etc/passwd", "_.._etc_passwd"],
    ["defuses Windows traversal", "..\\..\\boot.ini", "_.._boot.ini"],
    ["replaces Windows-reserved characters", 'a<b>c:d"e|f?g*h.txt', "a_b_c_d_e_f_g_h.txt"],
    ["drops control characters", "a\u0000b\nc\u007fd\u0085e.txt", "abcde.txt"],
    ["drops bidi overrides that disguise the extension", "invoice\u202Etxt.exe", "invoicetxt.exe"],
    ["drops bidi isolates and marks", "a\u2066b\u2069c\u200fd.txt", "abcd.txt"],
    ["drops zero-width spaces and BOM", "\ufeffa\u200bb.txt", "ab.txt"],
    ["drops leading dots (no hidden files)", ".bashrc", "bashrc"],
    ["drops trailing dots and spaces (Windows strips them)", "virus.exe. . ", "virus.exe"],
    ["trims whitespace", "  name.txt  ", "name.txt"],
    ["prefixes Windows device names", "CON", "_CON"],
    ["prefixes device names with an extension", "nul.tar.gz", "_nul.tar.gz"],
    ["prefixes device names with superscript digits", "com¹.txt", "_com¹.txt"],
    ["prefixes device names before a spaced extension", "aux .txt", "_aux .txt"],
    ["leaves names that only start like a device", "console.log", "console.log"],
    ["replaces lone surrogates", "a\ud800b.txt", "a\ufffdb.txt"],
    ["normalizes to NFC", "e\u0301.txt", "\u00e9.txt"],
  ];
  for (const [name, label, expected] of cases) {
    it(name, () => expect(safeFileName(label)).toBe(expected));
  }

  it(`cuts to ${MAX_FILE_NAME_BYTES} UTF-8 bytes, keeping the extension`, () => {
    const name = safeFileName(`${"a".repeat(300)}.pdf`);
    expect(utf8Length(name)).toBe(MAX_FILE_NAME_BYTES);
    expect(name.endsWith(".pdf")).toBe(true);
  });

  it("cuts between code points, never inside a multi-byte character or surrogate pair", () => {
    const name = safeFileName(`${"日".repeat(100)}😀😀.jpeg`);
    expect(utf8Length(name)).toBeLessThanOrEqual(MAX_FILE_NAME_BYTES);
    expect(name.endsWith(".jpeg")).toBe(true);
    expect(name).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
    const emoji = safeFileName("😀".repeat(100));
    expect(utf8Length(emoji)).toBe(MAX_FILE_NAME_BYTES);
    expect([...emoji].every((char) => char === "😀")).toBe(true);
  });

  it("does not keep an 'extension' that is really most of the name", () => {
    const name = safeFileName(`a.${"b".repeat(300)}`);
    expect(utf8Length(name)).toBe(MAX_FILE_NAME_BYTES);
    expect(name.startsWith("a.bbb")).toBe(true);
  });

  it("does not end a cut name in a dot or space", () => {
    const name = safeFileName(`${"a".repeat(195)}    ${"b".repeat(50)}.txt`);
    expect(name).toBe(`${"a".repeat(195)}.txt`);
  });
});
