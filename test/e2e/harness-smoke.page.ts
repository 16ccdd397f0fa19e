// Browser side of harness-smoke.e2e.test.ts: one RTCPeerConnection per page, no meshmeet code.
// Signaling leaves through `window.harnessSendSignal` (a Playwright exposeFunction the test wires
// to the other page) and arrives through `window.harnessSmoke.receive`, the way a relay would.

export type SmokeSignal =
  | { readonly kind: "description"; readonly description: RTCSessionDescriptionInit }
  | { readonly kind: "candidate"; readonly candidate: RTCIceCandidateInit };

export interface CandidateInfo {
  readonly address: string;
  readonly candidateType: string;
  readonly protocol: string;
}

export interface SmokeApi {
  /** Starts negotiation (offerer creates the channel; answerer waits for it). */
  start(role: "offerer" | "answerer"): void;
  /** Applies one signal from the other page; resolves when applied (the test awaits it to keep order). */
  receive(json: string): Promise<void>;
  /** Resolves with ms from start() to the channel's `open`. */
  opened(): Promise<number>;
  send(text: string): void;
  /** Resolves with the next message received on the channel. */
  nextMessage(): Promise<string>;
  /** Every candidate this side gathered (the `candidate` attribute lines). */
  gatheredCandidates(): string[];
  selectedPair(): Promise<{ readonly local: CandidateInfo; readonly remote: CandidateInfo } | null>;
}

declare global {
  interface Window {
    harnessSendSignal?: (json: string) => Promise<void>;
    harnessSmoke?: SmokeApi;
  }
}

// No STUN/TURN: host candidates on v0 are all the namespace offers.
const pc = new RTCPeerConnection({ iceServers: [] });
const gathered: string[] = [];
const inbox: string[] = [];
const pendingCandidates: RTCIceCandidateInit[] = [];
const waiters: Array<(text: string) => void> = [];
let startedAt = 0;
let resolveOpened: (ms: number) => void = () => {};
const openedPromise = new Promise<number>((resolve) => {
  resolveOpened = resolve;
});
let channel: RTCDataChannel | undefined;

function send(signal: SmokeSignal): void {
  const out = window.harnessSendSignal;
  if (!out) throw new Error("harnessSendSignal was not exposed before start()");
  // Fire and forget like a WebSocket send; a failure must still surface as a page error.
  out(JSON.stringify(signal)).catch((error: unknown) => console.error("signal send failed", error));
}

function wire(dc: RTCDataChannel): void {
  channel = dc;
  dc.onopen = () => resolveOpened(performance.now() - startedAt);
  dc.onmessage = (event: MessageEvent<unknown>) => {
    const text = String(event.data);
    const waiter = waiters.shift();
    if (waiter) waiter(text);
    else inbox.push(text);
  };
}

pc.onicecandidate = (event) => {
  if (!event.candidate) return;
  gathered.push(event.candidate.candidate);
  send({ kind: "candidate", candidate: event.candidate.toJSON() });
};
pc.ondatachannel = (event) => wire(event.channel);

function candidateInfo(stats: RTCStatsReport, id: string): CandidateInfo {
  // RTCIceCandidateStats fields; lib.dom's RTCStats base type does not declare them.
  const c = stats.get(id) as { address?: string; candidateType?: string; protocol?: string } | undefined;
  return { address: c?.address ?? "", candidateType: c?.candidateType ?? "", protocol: c?.protocol ?? "" };
}

const api: SmokeApi = {
  start(role) {
    startedAt = performance.now();
    if (role === "answerer") return;
    wire(pc.createDataChannel("smoke"));
    void pc
      .setLocalDescription()
      .then(() => {
        if (pc.localDescription) send({ kind: "description", description: pc.localDescription.toJSON() });
      })
      .catch((error: unknown) => console.error("offer failed", error));
  },
  async receive(json) {
    const signal = JSON.parse(json) as SmokeSignal;
    if (signal.kind === "candidate") {
      // Candidates may overtake the description they belong to (the sides signal independently).
      if (pc.remoteDescription) await pc.addIceCandidate(signal.candidate);
      else pendingCandidates.push(signal.candidate);
      return;
    }
    await pc.setRemoteDescription(signal.description);
    for (const candidate of pendingCandidates.splice(0)) await pc.addIceCandidate(candidate);
    if (signal.description.type === "offer") {
      await pc.setLocalDescription();
      if (pc.localDescription) send({ kind: "description", description: pc.localDescription.toJSON() });
    }
  },
  opened: () => openedPromise,
  send(text) {
    if (!channel || channel.readyState !== "open") throw new Error("channel not open");
    channel.send(text);
  },
  nextMessage() {
    const queued = inbox.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve) => waiters.push(resolve));
  },
  gatheredCandidates: () => [...gathered],
  async selectedPair() {
    const stats = await pc.getStats();
    for (const report of stats.values()) {
      const pairId = (report as { selectedCandidatePairId?: string }).selectedCandidatePairId;
      if (report.type !== "transport" || !pairId) continue;
      const pair = stats.get(pairId) as { localCandidateId?: string; remoteCandidateId?: string } | undefined;
      if (!pair?.localCandidateId || !pair.remoteCandidateId) return null;
      return { local: candidateInfo(stats, pair.localCandidateId), remote: candidateInfo(stats, pair.remoteCandidateId) };
    }
    return null;
  },
};

window.harnessSmoke = api;
document.getElementById("app")?.append(Object.assign(document.createElement("h1"), { textContent: "harness smoke" }));
