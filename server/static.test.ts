import { describe, expect, it } from "vitest";
import { mimeTypeOf, safeSegments } from "./static.js";

describe("safeSegments", () => {
  it("decodes ordinary segments", () => {
    expect(safeSegments(["icons", "a%20b.svg"])).toEqual(["icons", "a b.svg"]);
  });

  it.each([
    [[".."]],
    [["%2e%2e", "etc"]],
    [["..%2f..%2fetc%2fpasswd"]],
    [["a%5c..%5csecret"]],
    [["a%00.js"]],
    [[""]],
    [["x", ""]],
    [[".hidden"]],
    [["%E0%A4%A"]],
  ])("refuses %j", (segments) => {
    expect(safeSegments(segments)).toBeNull();
  });
});

describe("mimeTypeOf", () => {
  it("maps extensions, case-insensitively, with a safe fallback", () => {
    expect(mimeTypeOf("a.WASM")).toBe("application/wasm");
    expect(mimeTypeOf("favicon.ico")).toBe("image/x-icon");
    expect(mimeTypeOf("noext")).toBe("application/octet-stream");
  });
});
