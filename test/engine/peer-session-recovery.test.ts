// PeerSession's ICE recovery, driven by a scripted connection: which states lead to an ICE
// restart after how long, and when a failure cause is shown. A real connection cannot be made to
// sit in "connecting" on cue; the lab end-to-end tests (test/e2e/nat.e2e.test.ts) cover the real one.

import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { IceFailureCause } from "../../common/engine/ice-diagnosis.js";
import { ICE_RECOVERY, PeerSession } from "../../common/engine/peer-session.js";

/** Just enough of RTCPeerConnection for the recovery paths; states are set by the test. */
class ScriptedConnection extends EventTarget {
  connectionState: RTCPeerConnectionState = "new";
  signalingState: RTCSignalingState = "stable";
  remoteDescription: RTCSessionDescription | null = { type: "answer", sdp: "v=0\r\n" } as RTCSessionDescription;
  localDescription: RTCSessionDescription | null = null;
  restarts = 0;
  onnegotiationneeded: (() => void) | null = null;
  onicecandidate: ((event: { candidate: null }) => void) | null = null;
  onsignalingstatechange: (() => void) | null = null;
  onconnectionstatechange: (() => void) | null = null;
  ontrack: (() => void) | null = null;
  ondatachannel: (() => void) | null = null;

  enter(state: RTCPeerConnectionState): void {
    this.connectionState = state;
    this.onconnectionstatechange?.();
  }
  candidateError(url: string, errorCode: number): void {
    this.dispatchEvent(Object.assign(new Event("icecandidateerror"), { url, errorCode }));
  }
  restartIce(): void {
    this.restarts++;
  }
  async setLocalDescription(): Promise<void> {
    this.localDescription = { type: "offer", sdp: "v=0\r\n" } as RTCSessionDescription;
  }
  async getStats(): Promise<Map<string, unknown>> {
    return new Map();
  }
  setConfiguration(): void {}
  close(): void {}
}

let pc: ScriptedConnection;
let session: PeerSession;
let failures: (IceFailureCause | undefined)[];

beforeEach(() => {
  vi.useFakeTimers();
  pc = new ScriptedConnection();
  failures = [];
  session = new PeerSession({
    polite: true,
    createPeerConnection: () => pc as unknown as RTCPeerConnection,
    send: async () => undefined,
    iceServers: () => ({ hasStun: true, hasTurn: true, relayOnly: false }),
  });
  session.events.on("failure", (cause) => failures.push(cause));
});

afterEach(() => {
  session.close();
  vi.useRealTimers();
});

describe("PeerSession ICE recovery", () => {
  it("restarts ICE when stuck connecting, later each time, and again at once after a success", async () => {
    pc.enter("connecting");
    await vi.advanceTimersByTimeAsync(ICE_RECOVERY.stuckConnectingMs - 1);
    expect(pc.restarts).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(pc.restarts).toBe(1);
    pc.enter("connecting");
    await vi.advanceTimersByTimeAsync(ICE_RECOVERY.stuckConnectingMs + (ICE_RECOVERY.retryDelaysMs[1] ?? 0) - 1);
    expect(pc.restarts).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(pc.restarts).toBe(2);
    pc.enter("connected");
    pc.enter("disconnected");
    await vi.advanceTimersByTimeAsync(ICE_RECOVERY.disconnectedMs);
    expect(pc.restarts).toBe(3);
  });

  it("a connection that comes back by itself is not restarted", async () => {
    pc.enter("connected");
    pc.enter("disconnected");
    await vi.advanceTimersByTimeAsync(ICE_RECOVERY.disconnectedMs - 1000);
    pc.enter("connected");
    await vi.advanceTimersByTimeAsync(60_000);
    expect(pc.restarts).toBe(0);
  });

  it("names TURN's refusal while still stuck connecting, keeps it through the restart, clears it once connected", async () => {
    pc.enter("connecting");
    pc.candidateError("turn:turn.example.org:3478?transport=udp", 401);
    await vi.advanceTimersByTimeAsync(ICE_RECOVERY.stuckConnectingMs);
    expect(pc.restarts).toBe(1);
    expect(session.failure).toBe("turn-refused");
    pc.enter("connecting");
    expect(session.failure).toBe("turn-refused");
    pc.enter("connected");
    expect(session.failure).toBeUndefined();
    expect(failures).toEqual(["turn-refused", undefined]);
  });

  it("a guess waits for a real failure: stuck connecting with no server error shows nothing", async () => {
    pc.enter("connecting");
    await vi.advanceTimersByTimeAsync(ICE_RECOVERY.stuckConnectingMs);
    expect(pc.restarts).toBe(1);
    expect(session.failure).toBeUndefined();
    pc.enter("failed");
    expect(session.failure).toBe("unknown");
  });
});
