import { describe, expect, it } from "vitest";
import { isOwnScriptUrl } from "./trusted-types.js";

describe("the default Trusted Types policy's script URL check", () => {
  const page = "https://meet.example/room#secret";
  it("admits this origin's files and its blobs", () => {
    expect(isOwnScriptUrl("/assets/sha256-worker.js", page)).toBe(true);
    expect(isOwnScriptUrl("https://meet.example/download-worker.js", page)).toBe(true);
    expect(isOwnScriptUrl("blob:https://meet.example/5f1c-…", page)).toBe(true);
  });
  it("refuses every other origin, scheme and blob", () => {
    expect(isOwnScriptUrl("https://evil.example/x.js", page)).toBe(false);
    expect(isOwnScriptUrl("//evil.example/x.js", page)).toBe(false);
    expect(isOwnScriptUrl("data:text/javascript,alert(1)", page)).toBe(false);
    expect(isOwnScriptUrl("javascript:alert(1)", page)).toBe(false);
    expect(isOwnScriptUrl("blob:https://evil.example/5f1c", page)).toBe(false);
    expect(isOwnScriptUrl("http://meet.example/x.js", page)).toBe(false);
  });
});
