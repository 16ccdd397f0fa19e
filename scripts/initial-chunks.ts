// Which of a code-split build's files a page loads before anything is used: its entry, every
// file the entry imports statically, and the files of the dynamic imports the boot makes at once
// (`eagerEntries`, e.g. the room client the boot script imports while keys are derived), with
// their static imports. Everything else (panels, features loaded on first use) is left out.
// The build uses it for <link rel="modulepreload">, the bundle benchmark and a test to size it.

import type { Metafile } from "esbuild";

/** Output paths (as in the metafile, relative to the build's working directory), entry first. */
export function initialChunks(metafile: Metafile, entryPoint: string, eagerEntries: readonly string[]): string[] {
  const outputs = metafile.outputs;
  const outputOf = (source: string): string => {
    const found = Object.entries(outputs).find(([, output]) => output.entryPoint === source);
    if (!found) throw new Error(`no output has the entry point ${source}`);
    return found[0];
  };
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const output = outputs[file];
    if (!output) throw new Error(`the metafile lists no output ${file}`);
    for (const imported of output.imports) if (imported.kind === "import-statement" && !imported.external) visit(imported.path);
  };
  visit(outputOf(entryPoint));
  for (const eager of eagerEntries) visit(outputOf(eager));
  return [...seen];
}
