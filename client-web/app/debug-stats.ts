// `webrtc_debug`: a few readable lines per peer connection — the selected candidate pair, and for
// each stream the codec and bit rate — from getStats(). Bit rates need two samples, so the
// sampler remembers the previous byte counters per report id.

interface Sample {
  readonly bytes: number;
  readonly at: number;
}

type Report = Record<string, unknown> & { id: string; type: string };

function text(value: unknown): string {
  return typeof value === "string" || typeof value === "number" ? String(value) : "?";
}

export class StatsSampler {
  private readonly previous = new Map<string, Sample>();

  async describe(pc: RTCPeerConnection): Promise<string> {
    const stats = await pc.getStats();
    const reports = new Map<string, Report>();
    stats.forEach((report: Report) => reports.set(report.id, report));
    const lines: string[] = [];
    const transport = [...reports.values()].find((r) => r.type === "transport");
    const pair = reports.get(text(transport?.selectedCandidatePairId));
    if (pair) {
      const local = reports.get(text(pair.localCandidateId));
      const remote = reports.get(text(pair.remoteCandidateId));
      const side = (c: Report | undefined) => (c ? `${text(c.candidateType)} ${text(c.protocol)} ${text(c.address)}:${text(c.port)}` : "?");
      const rtt = typeof pair.currentRoundTripTime === "number" ? ` · rtt ${Math.round(pair.currentRoundTripTime * 1000)} ms` : "";
      lines.push(`path: ${side(local)} → ${side(remote)}${rtt}`);
    } else {
      lines.push("path: none selected yet");
    }
    const now = Date.now();
    for (const report of reports.values()) {
      if (report.type !== "inbound-rtp" && report.type !== "outbound-rtp") continue;
      const codec = reports.get(text(report.codecId));
      const bytes = Number(report.type === "inbound-rtp" ? report.bytesReceived : report.bytesSent) || 0;
      const before = this.previous.get(report.id);
      this.previous.set(report.id, { bytes, at: now });
      const rate = before && now > before.at ? ((bytes - before.bytes) * 8) / (now - before.at) : undefined;
      const direction = report.type === "inbound-rtp" ? "in" : "out";
      lines.push(
        `${direction} ${text(report.kind)}: ${codec ? text(codec.mimeType) : "codec ?"}${rate === undefined ? "" : ` · ${Math.max(0, Math.round(rate))} kbit/s`}`,
      );
    }
    return lines.join("\n");
  }
}
