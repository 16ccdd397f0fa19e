// Turns preference input into typed values: text from the room link, values read back from
// storage or passed in by code. Owns validation and the precedence link > stored > default;
// knows nothing of where values are kept (client-web/prefs) or how they are shown. DOM-free.
//
// Unlike keks-meet, numbers are not parseInt-truncated (`1.5` is not 1 and `12abc`
// is not 12), ranges are enforced on every path, and a bad value never reaches the app: it
// yields a warning and the next source is used.

import { err, ok, type Result } from "../result.js";
import { PREF_KEYS, PREFS, defaultPrefs, isPrefKey, type PrefDecl, type PrefKey, type PrefValues } from "./schema.js";

export type PrefWarningCode = "unknown_key" | "bad_value" | "out_of_range" | "not_allowed_value" | "not_from_link";

/** Something the user gave us that was not used; `message` is plain English for the user. */
export interface PrefWarning {
  readonly key: string;
  readonly code: PrefWarningCode;
  readonly message: string;
}

export type PrefSource = "url" | "stored" | "default";

export interface ResolvedPrefs {
  readonly values: PrefValues;
  readonly sources: Record<PrefKey, PrefSource>;
  readonly warnings: PrefWarning[];
}

export interface PrefInput {
  /** `key=value` pairs from the link, in order (RoomFragment.params). */
  readonly url: ReadonlyArray<readonly [string, string]>;
  /** Values read back from storage. A missing key or `undefined` means "not stored"; `null` is a stored "unset". */
  readonly stored: Partial<Record<PrefKey, unknown>>;
}

/** Longest piece of user input quoted back in a message: enough to recognise, too short to abuse. */
const MAX_ECHO_CHARS = 40;

const TRUE_WORDS = new Set(["1", "true", "yes", "on"]);
const FALSE_WORDS = new Set(["0", "false", "no", "off"]);
/** Plain decimal notation (exponent allowed). Excludes what `Number()` also accepts: "", " ", "0x1f", "Infinity". */
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** True when the pref may be unset (keks-meet's "optional" prefs). */
export function isOptionalPref(key: PrefKey): boolean {
  const decl: PrefDecl = PREFS[key];
  return decl.optional === true;
}

/**
 * Parses the text of one link parameter. An empty value unsets an optional pref; for any
 * other pref an empty value is only valid as an (empty) string.
 */
export function parsePrefText<K extends PrefKey>(key: K, text: string): Result<PrefValues[K], PrefWarning> {
  const decl: PrefDecl = PREFS[key];
  if (text === "" && decl.optional === true) return ok(undefined);
  switch (decl.type) {
    case "boolean": {
      const word = text.trim().toLowerCase();
      if (TRUE_WORDS.has(word)) return typed<K>(true);
      if (FALSE_WORDS.has(word)) return typed<K>(false);
      return warn(key, "bad_value", `“${key}” must be on or off (1/0, true/false, yes/no, on/off), not ${quote(text)}.`);
    }
    case "number": {
      const trimmed = text.trim();
      if (!DECIMAL.test(trimmed)) return warn(key, "bad_value", `“${key}” must be a number, not ${quote(text)}.`);
      return checkNumber(key, decl, Number(trimmed), quote(text));
    }
    case "string":
      return checkString(key, decl, text);
  }
}

/**
 * Checks a value that did not come from text: read back from storage, passed to
 * `change_pref`, or emitted by the settings panel. `null` and `undefined` mean "unset".
 */
export function checkPrefValue<K extends PrefKey>(key: K, value: unknown): Result<PrefValues[K], PrefWarning> {
  const decl: PrefDecl = PREFS[key];
  if (value === undefined || value === null) {
    return decl.optional === true ? ok(undefined) : warn(key, "bad_value", `“${key}” cannot be unset.`);
  }
  switch (decl.type) {
    case "boolean":
      return typeof value === "boolean"
        ? typed<K>(value)
        : warn(key, "bad_value", `“${key}” must be true or false, not ${describe(value)}.`);
    case "number":
      return typeof value === "number"
        ? checkNumber(key, decl, value, describe(value))
        : warn(key, "bad_value", `“${key}” must be a number, not ${describe(value)}.`);
    case "string":
      return typeof value === "string"
        ? checkString(key, decl, value)
        : warn(key, "bad_value", `“${key}” must be text, not ${describe(value)}.`);
  }
}

/** Link values win over stored ones, stored over defaults; each bad value falls through to the next source. */
export function resolvePrefs(input: PrefInput): ResolvedPrefs {
  const values: Record<PrefKey, unknown> = defaultPrefs();
  const sources = Object.fromEntries(PREF_KEYS.map((key) => [key, "default"])) as Record<PrefKey, PrefSource>;
  const warnings: PrefWarning[] = [];

  for (const key of PREF_KEYS) {
    if (!Object.prototype.hasOwnProperty.call(input.stored, key)) continue;
    const raw = input.stored[key];
    if (raw === undefined) continue;
    const checked = checkPrefValue(key, raw);
    if (checked.ok) {
      values[key] = checked.value;
      sources[key] = "stored";
    } else {
      warnings.push(withContext(checked.error, "The saved value was not used."));
    }
  }

  for (const [key, text] of input.url) {
    // keks-meet skips this key without a word; links made for it may carry it.
    if (key === "prototype") continue;
    if (!isPrefKey(key)) {
      warnings.push({ key: clip(key), code: "unknown_key", message: `The link sets ${quote(key)}, which is not a setting; it was ignored.` });
      continue;
    }
    if ((PREFS[key] as PrefDecl).notFromLink === true) {
      warnings.push({ key, code: "not_from_link", message: `The link sets ${quote(key)}, which only this browser may set; it was ignored.` });
      continue;
    }
    const parsed = parsePrefText(key, text);
    if (parsed.ok) {
      values[key] = parsed.value;
      sources[key] = "url";
    } else {
      warnings.push(withContext(parsed.error, "The value from the link was not used."));
    }
  }

  // Every entry was either a default or passed the check for its own key.
  return { values: values as PrefValues, sources, warnings };
}

function checkNumber<K extends PrefKey>(
  key: K,
  decl: { readonly min?: number; readonly max?: number; readonly integer?: boolean },
  value: number,
  shown: string,
): Result<PrefValues[K], PrefWarning> {
  if (!Number.isFinite(value)) return warn(key, "bad_value", `“${key}” must be a finite number, not ${shown}.`);
  if (decl.integer === true && !Number.isInteger(value)) {
    return warn(key, "bad_value", `“${key}” must be a whole number, not ${shown}.`);
  }
  const { min, max } = decl;
  if ((min !== undefined && value < min) || (max !== undefined && value > max)) {
    return warn(key, "out_of_range", `“${key}” must be ${rangeText(min, max)}, not ${shown}.`);
  }
  // -0 would print as "0" yet fail Object.is(…, 0) comparisons downstream.
  return typed<K>(value === 0 ? 0 : value);
}

function checkString<K extends PrefKey>(
  key: K,
  decl: { readonly values?: readonly string[]; readonly maxLength?: number },
  value: string,
): Result<PrefValues[K], PrefWarning> {
  if (decl.values !== undefined && !decl.values.includes(value)) {
    return warn(key, "not_allowed_value", `“${key}” must be one of ${decl.values.join(", ")}, not ${quote(value)}.`);
  }
  if (decl.maxLength !== undefined && [...value].length > decl.maxLength) {
    return warn(key, "out_of_range", `“${key}” must be at most ${decl.maxLength} characters long.`);
  }
  return typed<K>(value);
}

function rangeText(min: number | undefined, max: number | undefined): string {
  if (min !== undefined && max !== undefined) return `from ${min} to ${max}`;
  if (min !== undefined) return `at least ${min}`;
  return `at most ${String(max)}`;
}

/**
 * The callers checked `value` against PREFS[key].type; TypeScript cannot follow a generic key
 * through the table's `type` tag, so the one unchecked step is here.
 */
function typed<K extends PrefKey>(value: string | number | boolean): Result<PrefValues[K], PrefWarning> {
  return ok(value as PrefValues[K]);
}

function warn(key: string, code: PrefWarningCode, message: string): Result<never, PrefWarning> {
  return err({ key, code, message });
}

function withContext(warning: PrefWarning, context: string): PrefWarning {
  return { ...warning, message: `${warning.message} ${context}` };
}

/** A short, printable rendering of a value that is not text. */
function describe(value: unknown): string {
  if (typeof value === "string") return `the text ${quote(value)}`;
  if (typeof value === "number" || typeof value === "boolean") return quote(String(value));
  if (Array.isArray(value)) return "a list";
  return `a value of type ${typeof value}`;
}

function quote(text: string): string {
  return `“${clip(text)}”`;
}

/**
 * At most MAX_ECHO_CHARS code points of `text`, with control and bidi-override characters
 * replaced: the message is shown to the user, and a link's author must not be able to
 * reorder or hide the text around the quote.
 */
function clip(text: string): string {
  const printable = text.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, "\ufffd");
  const chars = [...printable];
  return chars.length <= MAX_ECHO_CHARS ? printable : `${chars.slice(0, MAX_ECHO_CHARS - 1).join("")}…`;
}
