/// <reference types="mocha" />
// PeerSession negotiation in Chromium (web-test-runner, inside the private network namespace):
// the same scenarios as on werift, plus ICE restart and garbage SDP, which werift cannot do.

import type { PeerSession } from "../../common/engine/peer-session.js";
import { PEER_SESSION_SCENARIOS } from "./peer-session.scenarios.js";

const sessions: PeerSession[] = [];
const audio = new AudioContext();

/** A live audio track from an oscillator (fake devices would also do; this needs no permission). */
function createAudioStream(): MediaStream {
  const oscillator = audio.createOscillator();
  const destination = audio.createMediaStreamDestination();
  oscillator.connect(destination);
  oscillator.start();
  return destination.stream;
}

describe("PeerSession in Chromium", function () {
  this.timeout(30_000);
  afterEach(() => {
    for (const session of sessions.splice(0)) session.close();
  });
  for (const scenario of PEER_SESSION_SCENARIOS) {
    it(scenario.name, () =>
      scenario.run({ createPeerConnection: () => new RTCPeerConnection(), createAudioStream }, (session) => sessions.push(session)),
    );
  }
});
