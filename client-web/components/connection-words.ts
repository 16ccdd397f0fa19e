// Connection paths and ICE failures in words, for the peer tile and the announcements.

import type { ConnectionPath } from "../../common/engine/connection-path.js";
import type { IceFailureCause } from "../../common/engine/ice-diagnosis.js";

const TURN_TRANSPORT: Readonly<Record<NonNullable<ConnectionPath["turnProtocol"]>, string>> = {
  udp: "",
  tcp: " over TCP",
  tls: " over TLS",
};

/** "Direct", "Through the NATs (STUN)", "Relayed by TURN (turn.example.org over TCP)", with the round trip. */
export function describePath(path: ConnectionPath): string {
  let how: string;
  switch (path.kind) {
    case "direct":
      how = "Direct connection";
      break;
    case "stun":
      how = "Direct, through the NATs (STUN)";
      break;
    case "turn": {
      const transport = path.turnProtocol === undefined ? "" : TURN_TRANSPORT[path.turnProtocol];
      const where = path.turnHost === undefined ? "" : ` ${path.turnHost}`;
      const whose = path.relayedBy === "peer" ? " on their side" : "";
      how = `Relayed by TURN${where}${transport}${whose}`;
      break;
    }
  }
  return path.rttMs === undefined ? how : `${how} · round trip ${path.rttMs} ms`;
}

/** What went wrong and what helps, in one or two sentences. */
export function describeFailure(cause: IceFailureCause): string {
  switch (cause) {
    case "relay-only-without-turn":
      return "“Relay only” is on, but this server offers no TURN relay. Turn relay_only off in Settings, or ask whoever runs this server to set up TURN.";
    case "turn-refused":
      return "The TURN server refused the credentials (wrong or expired). Reload the page; if that does not help, the server's TURN secret is wrong.";
    case "turn-unreachable":
      return "No TURN server answered: this network may block it, or it is down.";
    case "udp-blocked":
      return "This network seems to block UDP, and no TURN relay over TCP got through.";
    case "no-turn":
      return "Your networks do not let a direct connection through, and this server has no TURN relay to fall back on.";
    case "unknown":
      return "No way through was found; the problem may be on their side. Retrying…";
  }
}
