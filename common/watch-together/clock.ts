// Offset between the viewer's clock and the sharer's, NTP-style. The viewer
// sends ping{t0}, the sharer answers pong{t0, t1 = receipt, t2 = reply}, the viewer notes t3.
// If the two one-way delays were equal, offset = ((t1 − t0) + (t2 − t3)) / 2 exactly; its error
// is half their difference, which is at most half the round trip. So the sample with the
// lowest round trip is the most trustworthy, and we use that one rather than an average
// (which a single congested sample would drag off).

/**
 * Samples considered. At one ping every 10 s this is the last ~80 s: long enough to find a
 * quiet round trip, short enough that a drifting clock or a changed route is followed.
 */
export const CLOCK_SAMPLES = 8;

interface Sample {
  readonly offsetMs: number;
  readonly rttMs: number;
}

export class ClockOffset {
  private samples: Sample[] = [];
  private best: Sample | undefined;

  /**
   * t0 and t3 on our clock, t1 and t2 on the sharer's (ms). Returns whether the sample was
   * used: non-finite times and a negative round trip (a clock stepped mid-ping, or a forged
   * pong) are ignored.
   */
  addSample(t0: number, t1: number, t2: number, t3: number): boolean {
    if (![t0, t1, t2, t3].every(Number.isFinite)) return false;
    const rttMs = t3 - t0 - (t2 - t1);
    const offsetMs = (t1 - t0 + (t2 - t3)) / 2;
    if (!(rttMs >= 0) || !Number.isFinite(offsetMs)) return false;
    this.samples.push({ offsetMs, rttMs });
    if (this.samples.length > CLOCK_SAMPLES) this.samples.shift();
    this.best = this.samples.reduce((best, sample) => (sample.rttMs < best.rttMs ? sample : best));
    return true;
  }

  /** Add this to our clock to get the sharer's; `undefined` until a sample is in. */
  get offsetMs(): number | undefined {
    return this.best?.offsetMs;
  }

  /** Round trip of the sample in use. */
  get rttMs(): number | undefined {
    return this.best?.rttMs;
  }

  get sampleCount(): number {
    return this.samples.length;
  }

  /** Forget everything (e.g. the sharer's page reloaded and its clock origin changed). */
  reset(): void {
    this.samples = [];
    this.best = undefined;
  }
}
