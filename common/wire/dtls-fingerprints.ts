// The DTLS certificate fingerprints an SDP announces (`a=fingerprint:<hash> <hex>`, RFC 8122),
// at session or media level. Browsers only complete a DTLS handshake with a certificate matching
// them, so they say who the far end of a connection really is. Normalised (hash name in lower
// case, hex in upper case) and sorted without repeats, so that two descriptions of the same
// certificates compare equal as lists.

/** More than this is not a description any WebRTC stack writes (one certificate, a few hashes). */
export const MAX_FINGERPRINTS = 8;
/** One fingerprint as we write it: a hash name, a space, 16 to 64 colon-separated hex bytes. */
export const FINGERPRINT_PATTERN = /^[a-z0-9-]{1,16} [0-9A-F]{2}(?::[0-9A-F]{2}){15,63}$/;
const FINGERPRINT_LINE = /^a=fingerprint:([A-Za-z0-9-]{1,16}) ([0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){15,63})\s*$/;

export function dtlsFingerprints(sdp: string): string[] {
  const found = new Set<string>();
  for (const line of sdp.split(/\r?\n/)) {
    const match = FINGERPRINT_LINE.exec(line);
    if (match?.[1] && match[2]) found.add(`${match[1].toLowerCase()} ${match[2].toUpperCase()}`);
  }
  return [...found].sort().slice(0, MAX_FINGERPRINTS);
}

export function sameFingerprints(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((fingerprint, i) => fingerprint === b[i]);
}
