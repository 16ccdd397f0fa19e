// Control and sync messages of a relay-mode share, on their own data channel
// so they never wait behind a segment on the media channel. JSON text, one message each:
//
//   sharer → viewer   meta    {share, title, durationS, master, epoch}  what is playing (again on item change)
//   sharer → viewer   state   {epoch, seq, playing, buffering, pos, rate, at}  on every change and 1 s heartbeat
//   viewer → sharer   ping    {t0}             clock-offset probe (viewer clock, ms)
//   sharer → viewer   pong    {t0, t1, t2}     t1 receipt and t2 send time on the sharer clock
//   viewer → sharer   vstate  {epoch, pos, ahead, stalled}  the viewer's buffer, every 2 s
//   viewer → sharer   req     {action, pos?}   play/pause/seek/next wish; the sharer may ignore it
//   sharer → viewer   end     {}               the share is over
//
// Each side parses with the same strict parser, which never throws and never echoes peer data.
// Unknown fields are ignored so a newer peer can add some; an unknown `t` is an error.

import { err, ok, type Result } from "../result.js";
import {
  isBoundedString,
  isCount,
  isFiniteNumber,
  isNonNegativeFinite,
  isOpaqueMediaUrl,
  parseJsonObject,
  type JsonObject,
} from "./json-message.js";

/** The largest message (meta with a 300-character title) is under 1 KiB; refuse junk early. */
export const MAX_SYNC_MESSAGE_BYTES = 16 * 1024;

/** Jellyfin titles are short; 300 fits "Series – S01E01 – Episode title" with room to spare. */
export const MAX_TITLE_CHARS = 300;

/** Share ids are UUIDs (36 characters); 128 allows other id schemes without allowing junk. */
export const MAX_SHARE_ID_CHARS = 128;

/** Browsers clamp playbackRate to [0.0625, 16] (Chromium, WebKit); beyond that is junk. */
export const MAX_PLAYBACK_RATE = 16;

export type SyncAction = "play" | "pause" | "seek" | "next";

export type SyncMessage =
  | {
      readonly t: "meta";
      readonly share: string;
      readonly title: string;
      readonly durationS: number;
      /** Opaque `jfp2p://` URL of the rewritten master playlist. */
      readonly master: string;
      readonly epoch: number;
    }
  | {
      readonly t: "state";
      readonly epoch: number;
      readonly seq: number;
      readonly playing: boolean;
      readonly buffering: boolean;
      /** Media time in seconds at `at`. */
      readonly pos: number;
      readonly rate: number;
      /** Sharer clock, ms. */
      readonly at: number;
      /** Viewers may ask to play, pause, seek and skip (the sharer's setting). Absent: no. */
      readonly control?: boolean;
      /** How many viewers are waiting for the video (stalled), so everyone can see it. */
      readonly waiting?: number;
    }
  | { readonly t: "ping"; readonly t0: number }
  | { readonly t: "pong"; readonly t0: number; readonly t1: number; readonly t2: number }
  | { readonly t: "vstate"; readonly epoch: number; readonly pos: number; readonly ahead: number; readonly stalled: boolean }
  | { readonly t: "req"; readonly action: SyncAction; readonly pos?: number }
  | { readonly t: "end" };

export type SyncMessageType = SyncMessage["t"];

export interface SyncProtocolError {
  readonly code: "too_large" | "not_json" | "bad_message";
  /** Names the message type and field; never contains peer data. */
  readonly message: string;
}

/**
 * One encoder for every type. Fields are copied by name, so extra properties of the argument
 * (a caller's richer object) never go on the wire.
 */
export function encodeSyncMessage(message: SyncMessage): string {
  switch (message.t) {
    case "meta": {
      const { share, title, durationS, master, epoch } = message;
      return JSON.stringify({ t: "meta", share, title, durationS, master, epoch });
    }
    case "state": {
      const { epoch, seq, playing, buffering, pos, rate, at, control, waiting } = message;
      return JSON.stringify({ t: "state", epoch, seq, playing, buffering, pos, rate, at, control, waiting });
    }
    case "ping":
      return JSON.stringify({ t: "ping", t0: message.t0 });
    case "pong":
      return JSON.stringify({ t: "pong", t0: message.t0, t1: message.t1, t2: message.t2 });
    case "vstate": {
      const { epoch, pos, ahead, stalled } = message;
      return JSON.stringify({ t: "vstate", epoch, pos, ahead, stalled });
    }
    case "req":
      return JSON.stringify(message.pos === undefined ? { t: "req", action: message.action } : { t: "req", action: message.action, pos: message.pos });
    case "end":
      return JSON.stringify({ t: "end" });
  }
}

type Check = (value: unknown) => boolean;

const isBoolean: Check = (value) => typeof value === "boolean";
const isRate: Check = (value) => isFiniteNumber(value) && value >= 0 && value <= MAX_PLAYBACK_RATE;
const isShareId: Check = (value) => isBoundedString(value, MAX_SHARE_ID_CHARS) && value.length > 0;
const isTitle: Check = (value) => isBoundedString(value, MAX_TITLE_CHARS);
const isAction: Check = (value) => value === "play" || value === "pause" || value === "seek" || value === "next";

/** Field checks per type; order is the order of the error messages. */
const FIELDS: { readonly [T in SyncMessageType]: ReadonlyArray<readonly [string, Check, string]> } = {
  meta: [
    ["share", isShareId, `a non-empty string of at most ${MAX_SHARE_ID_CHARS} characters`],
    ["title", isTitle, `a string of at most ${MAX_TITLE_CHARS} characters`],
    ["durationS", isNonNegativeFinite, "a finite number ≥ 0"],
    ["master", isOpaqueMediaUrl, "a jfp2p:// URL of at most 512 characters"],
    ["epoch", isCount, "an integer ≥ 0"],
  ],
  state: [
    ["epoch", isCount, "an integer ≥ 0"],
    ["seq", isCount, "an integer ≥ 0"],
    ["playing", isBoolean, "a boolean"],
    ["buffering", isBoolean, "a boolean"],
    ["pos", isNonNegativeFinite, "a finite number ≥ 0"],
    ["rate", isRate, `a number in [0, ${MAX_PLAYBACK_RATE}]`],
    ["at", isFiniteNumber, "a finite number"],
  ],
  ping: [["t0", isFiniteNumber, "a finite number"]],
  pong: [
    ["t0", isFiniteNumber, "a finite number"],
    ["t1", isFiniteNumber, "a finite number"],
    ["t2", isFiniteNumber, "a finite number"],
  ],
  vstate: [
    ["epoch", isCount, "an integer ≥ 0"],
    ["pos", isNonNegativeFinite, "a finite number ≥ 0"],
    ["ahead", isNonNegativeFinite, "a finite number ≥ 0"],
    ["stalled", isBoolean, "a boolean"],
  ],
  req: [["action", isAction, `"play", "pause", "seek" or "next"`]],
  end: [],
};

function isSyncMessageType(value: unknown): value is SyncMessageType {
  return typeof value === "string" && Object.prototype.hasOwnProperty.call(FIELDS, value);
}

export function parseSyncMessage(text: string): Result<SyncMessage, SyncProtocolError> {
  const parsed = parseJsonObject(text, MAX_SYNC_MESSAGE_BYTES);
  if (!parsed.ok) {
    return parsed.error === "too_large"
      ? err({ code: "too_large", message: `sync message over ${MAX_SYNC_MESSAGE_BYTES} bytes` })
      : err({ code: "not_json", message: "sync message is not a JSON object" });
  }
  const m = parsed.value;
  const t = m["t"];
  if (!isSyncMessageType(t)) return err({ code: "bad_message", message: "unknown sync message type" });
  for (const [field, check, expected] of FIELDS[t]) {
    if (!check(m[field])) return err({ code: "bad_message", message: `${t}.${field} must be ${expected}` });
  }
  if (t === "state" && m["control"] !== undefined && typeof m["control"] !== "boolean") {
    return err({ code: "bad_message", message: "state.control must be a boolean when present" });
  }
  if (t === "state" && m["waiting"] !== undefined && !(Number.isSafeInteger(m["waiting"]) && (m["waiting"] as number) >= 0 && (m["waiting"] as number) <= 1000)) {
    return err({ code: "bad_message", message: "state.waiting must be a small non-negative integer when present" });
  }
  if (t === "req" && m["pos"] !== undefined && !isNonNegativeFinite(m["pos"])) {
    return err({ code: "bad_message", message: "req.pos must be a finite number ≥ 0 when present" });
  }
  return ok(pick(t, m));
}

/** Builds the typed message from fields `FIELDS` has checked, dropping unknown ones. */
function pick(t: SyncMessageType, m: JsonObject): SyncMessage {
  // The casts are sound: parseSyncMessage checked every field named here.
  const n = (field: string): number => m[field] as number;
  const b = (field: string): boolean => m[field] as boolean;
  const s = (field: string): string => m[field] as string;
  switch (t) {
    case "meta":
      return { t, share: s("share"), title: s("title"), durationS: n("durationS"), master: s("master"), epoch: n("epoch") };
    case "state":
      return {
        t,
        epoch: n("epoch"),
        seq: n("seq"),
        playing: b("playing"),
        buffering: b("buffering"),
        pos: n("pos"),
        rate: n("rate"),
        at: n("at"),
        ...(typeof m["control"] === "boolean" ? { control: m["control"] } : {}),
        ...(typeof m["waiting"] === "number" ? { waiting: m["waiting"] } : {}),
      };
    case "ping":
      return { t, t0: n("t0") };
    case "pong":
      return { t, t0: n("t0"), t1: n("t1"), t2: n("t2") };
    case "vstate":
      return { t, epoch: n("epoch"), pos: n("pos"), ahead: n("ahead"), stalled: b("stalled") };
    case "req": {
      const action = s("action") as SyncAction;
      return m["pos"] === undefined ? { t, action } : { t, action, pos: n("pos") };
    }
    case "end":
      return { t };
  }
}
