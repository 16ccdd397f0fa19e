// Starts bench/relay-server-child.ts as a child process and talks to it: waits for its port line,
// asks it for memory and CPU figures over IPC. The child is registered with children.ts, so it
// dies with the bench process whatever way that ends.

import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { track } from "./children.js";
import type { ListeningLine, MeasureReply, MeasureRequest, ServerMode } from "./relay-server-child.js";

const CHILD_SCRIPT = fileURLToPath(new URL("./relay-server-child.ts", import.meta.url));
const START_TIMEOUT_MS = 20_000;
const MEASURE_TIMEOUT_MS = 10_000;

export interface ServerChild {
  readonly mode: ServerMode;
  readonly process: ChildProcess;
  readonly port: number;
  /** Memory and CPU of the child; `gc` runs a full GC first. */
  measure(gc: boolean): Promise<MeasureReply>;
}

function isMeasureReply(message: unknown): message is MeasureReply {
  return typeof message === "object" && message !== null && (message as { type?: unknown }).type === "measure";
}

/** The first stdout line of the child: where it listens. */
function readListeningLine(child: ChildProcess, mode: ServerMode): Promise<ListeningLine> {
  const stdout = child.stdout;
  if (stdout === null) return Promise.reject(new Error("relay child: no stdout pipe"));
  return new Promise<ListeningLine>((resolve, reject) => {
    let buffered = "";
    const timer = setTimeout(() => fail(new Error(`relay child (${mode}) did not report its port within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
    const onExit = (code: number | null, signal: string | null): void =>
      fail(new Error(`relay child (${mode}) exited before listening (code ${code}, signal ${signal})`));
    const onData = (chunk: Buffer): void => {
      buffered += chunk.toString("utf8");
      const newline = buffered.indexOf("\n");
      if (newline < 0) return;
      cleanup();
      try {
        resolve(JSON.parse(buffered.slice(0, newline)) as ListeningLine);
      } catch (error) {
        reject(new Error(`relay child (${mode}) printed no JSON port line: ${buffered.slice(0, 200)}`, { cause: error }));
      }
    };
    function cleanup(): void {
      clearTimeout(timer);
      stdout?.off("data", onData);
      child.off("exit", onExit);
    }
    function fail(error: Error): void {
      cleanup();
      reject(error);
    }
    stdout.on("data", onData);
    child.once("exit", onExit);
  });
}

export async function startServer(mode: ServerMode, extraExecArgv: readonly string[] = []): Promise<ServerChild> {
  const child = track(
    fork(CHILD_SCRIPT, [mode], {
      execArgv: ["--import", "tsx", "--expose-gc", ...extraExecArgv],
      stdio: ["ignore", "pipe", "inherit", "ipc"],
    }),
  );
  const line = await readListeningLine(child, mode);
  if (line.address !== "127.0.0.1") throw new Error(`relay child (${mode}) listens on ${line.address}, not 127.0.0.1`);

  const measure = (gc: boolean): Promise<MeasureReply> =>
    new Promise<MeasureReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.off("message", onMessage);
        reject(new Error(`relay child (${mode}) did not answer a measure request within ${MEASURE_TIMEOUT_MS / 1000} s`));
      }, MEASURE_TIMEOUT_MS);
      const onMessage = (message: unknown): void => {
        if (!isMeasureReply(message)) return;
        clearTimeout(timer);
        child.off("message", onMessage);
        resolve(message);
      };
      child.on("message", onMessage);
      const request: MeasureRequest = { type: "measure", gc };
      child.send(request);
    });

  return { mode, process: child, port: line.port, measure };
}
