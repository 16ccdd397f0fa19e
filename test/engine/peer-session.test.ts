// PeerSession negotiation in Node through werift: the shared scenarios (peer-session.scenarios.ts)
// minus the few only a real browser can do.

import { afterEach, describe, it } from "vitest";
import type { PeerSession } from "../../common/engine/peer-session.js";
import { PEER_SESSION_SCENARIOS } from "./peer-session.scenarios.js";
import { createWeriftAudioStream, createWeriftPeerConnection } from "./werift-platform.js";

const sessions: PeerSession[] = [];
let streams = 0;

afterEach(() => {
  for (const session of sessions.splice(0)) session.close();
});

const host = {
  createPeerConnection: createWeriftPeerConnection,
  createAudioStream: () => createWeriftAudioStream(`werift-stream-${++streams}`),
};

describe("PeerSession on werift", () => {
  for (const scenario of PEER_SESSION_SCENARIOS.filter((s) => !s.browserOnly)) {
    it(scenario.name, () => scenario.run(host, (session) => sessions.push(session)));
  }
});
