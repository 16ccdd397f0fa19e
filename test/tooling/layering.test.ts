// Keeps the layering of the tree true: client-web → common ← server,
// common is DOM-free and Node-free so it runs unchanged in browsers and in Node, and inside
// common the wire and crypto layers never reach up into the engine.

import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(path.join(ROOT, dir))) {
    const rel = path.join(dir, name);
    if (statSync(path.join(ROOT, rel)).isDirectory()) out.push(...sourceFiles(rel));
    else if (rel.endsWith(".ts") && !rel.endsWith(".test.ts")) out.push(rel);
  }
  return out;
}

function imports(file: string): string[] {
  const text = readFileSync(path.join(ROOT, file), "utf8");
  return [...text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+["']([^"']+)["']/gm)].map((m) => m[1] ?? "");
}

function resolved(file: string, specifier: string): string {
  return specifier.startsWith(".") ? path.normalize(path.join(path.dirname(file), specifier)) : specifier;
}

/** [file, import] pairs that break `rule`. */
function violations(dir: string, rule: (target: string, file: string) => boolean): string[] {
  return sourceFiles(dir).flatMap((file) =>
    imports(file)
      .map((spec) => resolved(file, spec))
      .filter((target) => rule(target, file))
      .map((target) => `${file} → ${target}`),
  );
}

/**
 * The only npm modules common may import. @noble/hashes' SHA-256: file transfers need a streaming
 * hash that can be cloned to resume (WebCrypto's digest is one-shot), it is pure JS with no
 * dependencies, so it runs unchanged in browsers and Node, and it is audited. Exactly this
 * module path, not the whole package.
 */
const COMMON_NPM_ALLOWLIST = new Set(["@noble/hashes/sha2.js"]);

describe("layering", () => {
  it("common imports nothing from server, client-web, Node or npm packages (except the allowlist)", () => {
    expect(violations("common", (target) => !target.startsWith("common/") && !COMMON_NPM_ALLOWLIST.has(target))).toEqual([]);
  });

  it("common does not touch the DOM or Node globals", () => {
    const code = (file: string) =>
      readFileSync(path.join(ROOT, file), "utf8")
        .replace(/\/\*[\s\S]*?\*\//g, "")
        .replace(/(^|[^:])\/\/.*$/gm, "$1");
    const offenders = sourceFiles("common").filter((file) =>
      /\b(document|window|localStorage|navigator|process|Buffer|require)\s*[.(]/.test(code(file)),
    );
    expect(offenders).toEqual([]);
  });

  it("wire and crypto never import the engine", () => {
    const upward = (target: string) => target.startsWith("common/engine/");
    expect([...violations("common/wire", upward), ...violations("common/crypto", upward)]).toEqual([]);
  });

  it("server and client-web never import each other", () => {
    expect(violations("server", (target) => target.startsWith("client-web/"))).toEqual([]);
    expect(violations("client-web", (target) => target.startsWith("server/"))).toEqual([]);
  });

  it("finds imports at all (the checks above would pass vacuously otherwise)", () => {
    expect(imports("common/crypto/sealed-relay.ts")).toContain("../wire/parse.js");
    expect(violations("client-web", (target) => target.startsWith("common/")).length).toBeGreaterThan(0);
  });
});
