// Why a peer connection could not be made, in terms a user can act on. Collects what ICE tells us
// while gathering (which kinds of local candidates appeared, which STUN/TURN servers answered
// with an error) and, when the connection fails, names the most likely cause.
//
// Error codes are the STUN/TURN ones that browsers pass through `icecandidateerror`: 401 is
// TURN's "Unauthorized" (a wrong or expired credential), 701 is the browser's own "no answer from
// this server" (RFC 8489 leaves 7xx to implementations).

export type IceFailureCause =
  /** relay_only is on but the relay offers no TURN server: nothing can be gathered. */
  | "relay-only-without-turn"
  /** The TURN server refused our credential (wrong secret, expired, or unknown user). */
  | "turn-refused"
  /** TURN is configured but no TURN server answered (blocked, down, or wrong address). */
  | "turn-unreachable"
  /** STUN went unanswered and no TURN relay got through: this network blocks UDP. */
  | "udp-blocked"
  /** No TURN server is configured, and the two networks do not let a direct path through. */
  | "no-turn"
  /** Everything was gathered; the peer's side is the likely problem. */
  | "unknown";

export interface IceServerSummary {
  readonly hasStun: boolean;
  readonly hasTurn: boolean;
  readonly relayOnly: boolean;
}

/** Which servers an RTCConfiguration names, as far as diagnosis cares. */
export function summarizeIceServers(configuration: RTCConfiguration): IceServerSummary {
  const urls = (configuration.iceServers ?? []).flatMap((server) => (typeof server.urls === "string" ? [server.urls] : [...server.urls]));
  return {
    hasStun: urls.some((url) => /^stuns?:/.test(url)),
    hasTurn: urls.some((url) => /^turns?:/.test(url)),
    relayOnly: configuration.iceTransportPolicy === "relay",
  };
}

const TURN_UNAUTHORIZED = 401;
const TURN_WRONG_CREDENTIALS = 441;
const NO_ANSWER = 701;

export class IceDiagnosis {
  private readonly gathered = new Set<string>();
  private turnRefused = false;
  private turnNoAnswer = false;
  private stunNoAnswer = false;

  /** A local candidate line (`candidate:… typ srflx …`). */
  noteLocalCandidate(candidate: string): void {
    const type = /\btyp (host|srflx|prflx|relay)\b/.exec(candidate)?.[1];
    if (type !== undefined) this.gathered.add(type);
  }

  /** An `icecandidateerror`: the server's URL and the STUN error code. */
  noteCandidateError(url: string | undefined, errorCode: number): void {
    const isTurn = url !== undefined && /^turns?:/.test(url);
    if (isTurn && (errorCode === TURN_UNAUTHORIZED || errorCode === TURN_WRONG_CREDENTIALS)) this.turnRefused = true;
    else if (isTurn && errorCode === NO_ANSWER) this.turnNoAnswer = true;
    else if (!isTurn && errorCode === NO_ANSWER) this.stunNoAnswer = true;
  }

  /** Starts over (an ICE restart gathers everything again). */
  reset(): void {
    this.gathered.clear();
    this.turnRefused = false;
    this.turnNoAnswer = false;
    this.stunNoAnswer = false;
  }

  diagnose(servers: IceServerSummary): IceFailureCause {
    if (servers.relayOnly && !servers.hasTurn) return "relay-only-without-turn";
    const relayGathered = this.gathered.has("relay");
    if (this.turnRefused && !relayGathered) return "turn-refused";
    if (servers.hasTurn && !relayGathered && this.turnNoAnswer) {
      return this.stunNoAnswer && !this.gathered.has("srflx") ? "udp-blocked" : "turn-unreachable";
    }
    if (servers.hasStun && this.stunNoAnswer && !this.gathered.has("srflx") && !relayGathered) return "udp-blocked";
    if (!servers.hasTurn) return "no-turn";
    return "unknown";
  }
}
