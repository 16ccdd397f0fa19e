// The room page's first load stays small: what a join needs is in the initial files, and the
// panels and features that load on first use are not. Builds the room client as scripts/build.ts
// does (in memory) and reads esbuild's metafile.

import { build, type Metafile } from "esbuild";
import { beforeAll, describe, expect, it } from "vitest";
import { initialChunks } from "../../scripts/initial-chunks.js";
import { ROOM_BOOT, ROOM_CLIENT, roomBuild } from "../../scripts/build.js";

let metafile: Metafile;
let initial: string[];
/** Every source module in the initial files. */
let initialInputs: Set<string>;

beforeAll(async () => {
  const result = await build({ ...roomBuild, outdir: "/virtual/assets", write: false });
  metafile = result.metafile;
  initial = initialChunks(metafile, ROOM_BOOT, [ROOM_CLIENT]);
  initialInputs = new Set(initial.flatMap((file) => Object.keys(metafile.outputs[file]?.inputs ?? {})));
}, 60_000);

describe("the room page's initial files", () => {
  it("start with the boot script and include the client it imports at once", () => {
    expect(metafile.outputs[initial[0] ?? ""]?.entryPoint).toBe(ROOM_BOOT);
    for (const needed of [ROOM_CLIENT, "client-web/app/mm-app.ts", "common/engine/room.ts", "client-web/components/mm-peer-tile.ts", "client-web/components/mm-controls.ts", "client-web/components/mm-chat.ts"]) {
      expect(initialInputs, needed).toContain(needed);
    }
  });

  it.each([
    "client-web/components/mm-settings.ts",
    "client-web/components/mm-help.ts",
    "client-web/components/mm-watches.ts",
    "client-web/components/mm-jellyfin.ts",
    "client-web/jellyfin/client.ts",
    "client-web/app/watch-together.ts",
    "client-web/components/mm-watching.ts",
    "client-web/app/file-transfers.ts",
    "client-web/files/download-sink.ts",
    "common/engine/file-transfer/file-sender.ts",
    "client-web/components/mm-transfer.ts",
    "client-web/audio/microphone.ts",
    "client-web/chat/encode-image.ts",
    "node_modules/@sapphi-red/web-noise-suppressor/dist/index.js",
  ])("leave out %s, which loads on first use", (lazy) => {
    expect(Object.values(metafile.outputs).some((output) => lazy in output.inputs), `${lazy} is not in the build at all`).toBe(true);
    expect(initialInputs.has(lazy)).toBe(false);
  });
});
