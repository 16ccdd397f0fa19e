// The text of config/default.toml, the relay's built-in configuration.
//
// Two ways to get it, one per way the relay runs: from source (tsx, vitest) the file sits at
// ../config/default.toml and is read from disk; in the bundle (dist/server/main.js) that path
// does not exist and esbuild's text loader has inlined the file behind the dynamic import.
// The import is tried only when the file is missing: vite (vitest) would otherwise load the
// TOML as a JavaScript module.

import { readFileSync } from "node:fs";

async function loadDefaultConfigToml(): Promise<string> {
  const url = new URL("../config/default.toml", import.meta.url);
  try {
    return readFileSync(url, "utf8");
  } catch (error) {
    if (!isMissingFile(error)) throw error;
  }
  try {
    const bundled = await import("../config/default.toml");
    return bundled.default;
  } catch (cause) {
    throw new Error(`config/default.toml is neither at ${url.href} nor bundled in`, { cause });
  }
}

function isMissingFile(error: unknown): boolean {
  return error instanceof Error && "code" in error && error.code === "ENOENT";
}

export const DEFAULT_CONFIG_TOML: string = await loadDefaultConfigToml();
