// HLS attribute lists (RFC 8216 §4.2): `NAME=value,NAME="quoted, with commas",…`. A split on
// commas would cut CODECS="avc1.4d400c,mp4a.40.2" in two, hence this small quoted-string aware
// parser, and a serializer that quotes by attribute name so the output is always well-formed.

import { err, ok, type Result } from "../result.js";

export interface Attribute {
  readonly name: string;
  readonly value: string;
  /** Whether the value was a quoted-string. */
  readonly quoted: boolean;
}

/** Attributes whose values are quoted-strings in the tags we emit (RFC 8216 §4.3.4). */
export const QUOTED_ATTRIBUTES: ReadonlySet<string> = new Set(["CODECS", "URI", "GROUP-ID", "NAME", "LANGUAGE", "SUBTITLES"]);

/** A playlist tag has a handful of attributes; a few dozen is already a broken server. */
export const MAX_ATTRIBUTES = 64;

const NAME = /^[A-Z0-9-]+$/;
/** Unquoted values: integers, floats, hex, resolutions, enumerated strings — never these. */
const UNQUOTED_FORBIDDEN = /[",\s]/;
/** A quoted-string cannot contain its quote or a line break (RFC 8216 §4.2). */
const QUOTED_FORBIDDEN = /["\r\n]/;

export interface AttributeListError {
  /**
   * Where: the character offset where parsing stopped, or the index of the attribute that could
   * not be serialized. Never the text itself (it may hold a server's tokens).
   */
  readonly offset: number;
  readonly message: string;
}

function fail(offset: number, message: string): { readonly ok: false; readonly error: AttributeListError } {
  return err({ offset, message });
}

/**
 * Parses an attribute list. Tolerates spaces after commas (some servers write them); refuses
 * a missing `=`, an unterminated or misplaced quote, an empty or spaced unquoted value, a
 * trailing comma and duplicate names (RFC 8216: "MUST NOT contain … the same AttributeName").
 */
export function parseAttributeList(text: string): Result<Attribute[], AttributeListError> {
  const attributes: Attribute[] = [];
  const seen = new Set<string>();
  let i = 0;
  const skipSpaces = (): void => {
    while (text[i] === " " || text[i] === "\t") i++;
  };
  skipSpaces();
  if (i === text.length) return ok(attributes);
  for (;;) {
    const equals = text.indexOf("=", i);
    if (equals < 0) return fail(i, "attribute without '='");
    const name = text.slice(i, equals);
    if (!NAME.test(name)) return fail(i, "attribute name must be A–Z, 0–9 or '-'");
    if (seen.has(name)) return fail(i, "duplicate attribute");
    if (attributes.length >= MAX_ATTRIBUTES) return fail(i, `more than ${MAX_ATTRIBUTES} attributes`);
    i = equals + 1;
    let value: string;
    let quoted: boolean;
    if (text[i] === '"') {
      const close = text.indexOf('"', i + 1);
      if (close < 0) return fail(i, "unterminated quoted string");
      value = text.slice(i + 1, close);
      if (QUOTED_FORBIDDEN.test(value)) return fail(i, "line break in a quoted string");
      quoted = true;
      i = close + 1;
    } else {
      const comma = text.indexOf(",", i);
      const end = comma < 0 ? text.length : comma;
      value = text.slice(i, end).trimEnd();
      if (value === "" || UNQUOTED_FORBIDDEN.test(value)) return fail(i, "empty or malformed unquoted value");
      quoted = false;
      i = end;
    }
    seen.add(name);
    attributes.push({ name, value, quoted });
    skipSpaces();
    if (i === text.length) return ok(attributes);
    if (text[i] !== ",") return fail(i, "expected ',' after a value");
    i++;
    skipSpaces();
    if (i === text.length) return fail(i, "trailing ','");
  }
}

/** Name → value of a parsed list (names are unique, the parser made sure). */
export function attributeMap(attributes: readonly Attribute[]): ReadonlyMap<string, string> {
  return new Map(attributes.map((attribute) => [attribute.name, attribute.value]));
}

/**
 * `NAME=value,…` in the given order, quoting exactly the names in QUOTED_ATTRIBUTES. A value that
 * its form cannot carry (a quote in a quoted-string, a comma in an unquoted value) is an error,
 * not silently broken output.
 */
export function serializeAttributeList(attributes: ReadonlyArray<readonly [name: string, value: string]>): Result<string, AttributeListError> {
  const parts: string[] = [];
  for (const [index, [name, value]] of attributes.entries()) {
    if (!NAME.test(name)) return fail(index, "attribute name must be A–Z, 0–9 or '-'");
    if (QUOTED_ATTRIBUTES.has(name)) {
      if (QUOTED_FORBIDDEN.test(value)) return fail(index, "a quoted value cannot hold '\"' or a line break");
      parts.push(`${name}="${value}"`);
    } else {
      if (value === "" || UNQUOTED_FORBIDDEN.test(value)) return fail(index, "an unquoted value must be non-empty without '\"', ',' or spaces");
      parts.push(`${name}=${value}`);
    }
  }
  return ok(parts.join(","));
}
