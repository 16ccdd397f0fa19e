// A peer-chosen file label → a name that is safe to show and to save under. The label is
// hostile input: it must not pick a directory, hide its real extension behind bidi tricks or
// invisible characters, become a hidden file, or be a name Windows refuses. Pure string work;
// no I/O.

/** Used when nothing usable is left of the label. */
export const FALLBACK_FILE_NAME = "download";

/**
 * Longest name, in UTF-8 bytes. Common file systems allow 255 bytes (ext4, APFS) or 255 UTF-16
 * units (NTFS) per name; 200 leaves room for the " (1)" a browser adds on a clash and for
 * temporary suffixes such as ".crdownload".
 */
export const MAX_FILE_NAME_BYTES = 200;

/** Longer "extensions" are not kept whole when cutting: they are really part of the name. */
const MAX_EXTENSION_BYTES = 32;

/**
 * Removed outright: C0 and C1 controls and DEL; bidi embeddings, overrides and isolates plus
 * LRM/RLM/ALM (they reorder how the name reads: "exe.txt" shown for "txt.exe"); zero-width space,
 * word joiner and BOM (invisible); line and paragraph separators. ZWJ and ZWNJ stay: scripts and
 * emoji need them.
 */
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b\u200e\u200f\u2028-\u202e\u2060\u2066-\u2069\ufeff]/g;

/** Unpaired surrogates are not text: file systems and UTF-8 encoders reject or mangle them. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Path separators and the characters Windows forbids in names. */
const RESERVED_CHARS = /[/\\<>:"|?*]/g;

/**
 * Windows device names, reserved with any extension and case ("con.txt", "Lpt1"); Windows also
 * ignores spaces before the extension ("con .txt"). Superscript digits count too (Microsoft's
 * "Naming Files, Paths, and Namespaces").
 */
const RESERVED_NAME = /^(?:con|prn|aux|nul|conin\$|conout\$|com[0-9¹²³]|lpt[0-9¹²³])\s*(?:\..*)?$/i;

export function safeFileName(label: string | undefined): string {
  if (label === undefined) return FALLBACK_FILE_NAME;
  let name = label.replace(LONE_SURROGATE, "\ufffd").normalize("NFC").replace(INVISIBLE, "").replace(RESERVED_CHARS, "_");
  name = trimName(name);
  if (RESERVED_NAME.test(name)) name = `_${name}`;
  // Cutting leaves at least ~168 bytes, so it cannot turn a name into a reserved one.
  name = fitBytes(name);
  return name === "" ? FALLBACK_FILE_NAME : name;
}

/**
 * Whitespace trimmed; leading dots dropped (hidden files, "..") and trailing dots dropped
 * (Windows strips them, so "a.exe." would save as "a.exe" while showing as something else).
 */
function trimName(name: string): string {
  return name.replace(/^[\s.]+/, "").replace(/[\s.]+$/, "");
}

/** Cut to MAX_FILE_NAME_BYTES, keeping a short extension: "long….pdf" stays a PDF. */
function fitBytes(name: string): string {
  if (utf8Bytes(name) <= MAX_FILE_NAME_BYTES) return name;
  const dot = name.lastIndexOf(".");
  const extension = dot > 0 ? name.slice(dot) : "";
  const extensionBytes = utf8Bytes(extension);
  if (extension === "" || extensionBytes > MAX_EXTENSION_BYTES) return trimName(cutUtf8(name, MAX_FILE_NAME_BYTES));
  return trimName(cutUtf8(name.slice(0, dot), MAX_FILE_NAME_BYTES - extensionBytes)) + extension;
}

function utf8Bytes(text: string): number {
  let bytes = 0;
  for (const char of text) bytes += codePointBytes(char.codePointAt(0) ?? 0);
  return bytes;
}

/** The longest prefix of `text` within `maxBytes`, cut between code points (never inside a surrogate pair). */
function cutUtf8(text: string, maxBytes: number): string {
  let bytes = 0;
  let end = 0;
  for (const char of text) {
    bytes += codePointBytes(char.codePointAt(0) ?? 0);
    if (bytes > maxBytes) break;
    end += char.length;
  }
  return text.slice(0, end);
}

function codePointBytes(codePoint: number): number {
  if (codePoint < 0x80) return 1;
  if (codePoint < 0x800) return 2;
  if (codePoint < 0x10000) return 3;
  return 4;
}
