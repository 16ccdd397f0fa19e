// The safety code two people compare by voice to know that nobody sits between them. Both sides
// compute it from the same two (identity key, DTLS fingerprints) pairs — each side's own, and
// the other's as it reached them — sorted so that order does not matter. Someone in the middle
// has to present each side with a key and a certificate of their own, and would need the two
// codes that come out to agree: 24 digits are about 80 bits, and the certificates are fresh for
// each connection, so there is no time to search for a match while a call is being set up.
//
// Digits rather than words: they read the same in every language and to every screen reader.

import { utf8Encode } from "./encoding.js";

export interface SafetyCodeParty {
  readonly identityKey: string;
  readonly fingerprints: readonly string[];
}

/** Groups of four digits, space-separated. */
export const SAFETY_CODE_GROUPS = 6;

export async function safetyCode(a: SafetyCodeParty, b: SafetyCodeParty, subtle: SubtleCrypto = crypto.subtle): Promise<string> {
  const parties = [a, b].map((party) => `${party.identityKey}\n${party.fingerprints.join("\n")}`).sort();
  const digest = new Uint8Array(await subtle.digest("SHA-256", utf8Encode(`meshmeet safety code v1\n${parties.join("\n\n")}`)));
  const groups: string[] = [];
  // Five bytes (40 bits) per group, reduced to four digits: the bias of 2^40 mod 10^4 is far
  // below anything a person could notice or an attacker could use.
  for (let group = 0; group < SAFETY_CODE_GROUPS; group++) {
    let value = 0;
    for (let i = 0; i < 5; i++) value = value * 256 + (digest[group * 5 + i] ?? 0);
    groups.push(String(value % 10_000).padStart(4, "0"));
  }
  return groups.join(" ");
}
