// Browser side of download-sink.e2e.test.ts: the real openDownload()/fileSource() modules on a
// page served by the relay, driven by the test through `window.downloadSinkTest`. The file to
// send comes from an <input type=file> the test fills (a disk-backed File, as a sender's would be).

import "../../../client-web/trusted-types.js";
import { DownloadSinkError, isDownloadNavigation, openDownload, type DownloadSink } from "../../../client-web/files/download-sink.js";
import { fileSource } from "../../../client-web/files/file-source.js";

export type OpenOutcome =
  | { readonly ok: true; readonly kind: DownloadSink["kind"]; readonly ms: number }
  | { readonly ok: false; readonly code: string; readonly message: string };

export type StepOutcome = { readonly ok: true } | { readonly ok: false; readonly code: string; readonly message: string };

export interface DownloadSinkTestApi {
  open(request: { name: string; size?: number; mimeType: string }): Promise<OpenOutcome>;
  /** Writes bytes [from, to) of the picked file to the open sink, `chunkBytes` per write, each awaited. */
  writeFile(from: number, to: number, chunkBytes: number): Promise<StepOutcome>;
  /** Writes `bytes` (given as a string of char codes < 256, to keep the call small) to the open sink. */
  writeText(text: string): Promise<StepOutcome>;
  close(): Promise<StepOutcome>;
  abort(reason: string): Promise<void>;
  /** The sink's `signal`: whether the browser side ended the download, and why. */
  signal(): { readonly aborted: boolean; readonly code: string | undefined };
  /** `fetch(path).status` from this page (through the service worker, if it controls the page). */
  status(path: string): Promise<number>;
  controlled(): boolean;
  /** Asks "leave?" on beforeunload like the room does while sharing, except for download navigations. */
  guardUnload(): void;
  /** Milliseconds this page has been running its timers: proves it did not unload. */
  uptimeTicks(): number;
  /** Opens `count` downloads at once (sizes known), writes `text` + index to each, closes them all. */
  parallel(count: number, text: string): Promise<ReadonlyArray<OpenOutcome | StepOutcome>>;
}

declare global {
  interface Window {
    downloadSinkTest?: DownloadSinkTestApi;
  }
}

const input = document.createElement("input");
input.type = "file";
input.id = "file";
input.setAttribute("aria-label", "File to send");
document.querySelector("main")?.append(input);

let sink: DownloadSink | undefined;
let ticks = 0;
setInterval(() => ticks++, 50);

function failure(error: unknown): StepOutcome {
  if (error instanceof DownloadSinkError) return { ok: false, code: error.error.code, message: error.message };
  return { ok: false, code: "exception", message: error instanceof Error ? error.message : String(error) };
}

function openSink(): DownloadSink {
  if (!sink) throw new Error("no open sink");
  return sink;
}

window.downloadSinkTest = {
  async open(request) {
    const started = performance.now();
    const result = await openDownload(request);
    if (!result.ok) return { ok: false, code: result.error.code, message: result.error.message };
    sink = result.value;
    return { ok: true, kind: sink.kind, ms: performance.now() - started };
  },

  async writeFile(from, to, chunkBytes) {
    const file = input.files?.[0];
    if (!file) return { ok: false, code: "exception", message: "no file picked" };
    const source = fileSource(file);
    const target = openSink();
    try {
      for (let offset = from; offset < to; offset += chunkBytes) {
        await target.write(await source.read(offset, Math.min(chunkBytes, to - offset)));
      }
      return { ok: true };
    } catch (error) {
      return failure(error);
    }
  },

  async writeText(text) {
    try {
      await openSink().write(Uint8Array.from(text, (c) => c.charCodeAt(0)));
      return { ok: true };
    } catch (error) {
      return failure(error);
    }
  },

  async close() {
    try {
      await openSink().close();
      return { ok: true };
    } catch (error) {
      return failure(error);
    }
  },

  async abort(reason) {
    await openSink().abort(reason);
  },

  signal() {
    const signal = openSink().signal;
    const reason: unknown = signal.reason;
    return { aborted: signal.aborted, code: reason instanceof DownloadSinkError ? reason.error.code : undefined };
  },

  async status(path) {
    return (await fetch(path)).status;
  },

  controlled() {
    return navigator.serviceWorker.controller !== null;
  },

  guardUnload() {
    window.addEventListener("beforeunload", (event) => {
      if (isDownloadNavigation()) return;
      event.preventDefault();
    });
  },

  uptimeTicks() {
    return ticks;
  },

  async parallel(count, text) {
    const indexes = Array.from({ length: count }, (_, i) => i);
    const opened = await Promise.all(
      indexes.map((i) => openDownload({ name: `parallel-${i}.txt`, size: text.length + String(i).length, mimeType: "text/plain" })),
    );
    return Promise.all(
      opened.map(async (result, i): Promise<OpenOutcome | StepOutcome> => {
        if (!result.ok) return { ok: false, code: result.error.code, message: result.error.message };
        try {
          await result.value.write(new TextEncoder().encode(`${text}${i}`));
          await result.value.close();
          return { ok: true };
        } catch (error) {
          return failure(error);
        }
      }),
    );
  },
};
