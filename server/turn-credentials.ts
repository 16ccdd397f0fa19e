// TURN credentials in coturn's shared-secret scheme ("TURN REST API", coturn's use-auth-secret):
// the username is `<unix expiry>:<random id>` and the password base64(HMAC-SHA1(secret, username)).
// coturn recomputes the HMAC with the same secret and refuses the username once its expiry has
// passed, so a credential proves "the relay handed this out recently" without a shared database.
// The random id makes every socket's credential distinct, so one can be told apart in coturn's log.

import { createHmac, randomBytes } from "node:crypto";
import type { ClientboundPacket } from "../common/wire/packets.js";

export type TurnCredentialsPacket = Extract<ClientboundPacket, { type: "turn_credentials" }>;

export interface TurnMinter {
  readonly urls: readonly string[];
  readonly secret: string;
  readonly credentialLifetimeSeconds: number;
}

/** A credential valid from `nowMs` for the configured lifetime. */
export function mintTurnCredential(turn: TurnMinter, nowMs: number = Date.now(), random: (bytes: number) => Buffer = randomBytes): TurnCredentialsPacket {
  const expiresAt = Math.floor(nowMs / 1000) + turn.credentialLifetimeSeconds;
  const username = `${expiresAt}:${random(9).toString("base64url")}`;
  const credential = createHmac("sha1", turn.secret).update(username).digest("base64");
  return { type: "turn_credentials", urls: turn.urls, username, credential, expiresAt };
}

/** Renewals go out this long before expiry, so a browser never holds an expired credential. */
export const TURN_RENEW_BEFORE_EXPIRY_S = 60;
