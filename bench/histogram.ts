/**
 * A latency histogram with about 2 % relative resolution, cheap enough to record every delivery
 * (millions a second across workers) and small enough to post between threads and merge.
 * Buckets are log-spaced in microseconds: bucket = floor(log2(µs) × 32), up to ~16 s.
 */
const STEPS_PER_OCTAVE = 32;
const OCTAVES = 24;
export const BUCKETS = STEPS_PER_OCTAVE * OCTAVES + 1;

export class Histogram {
  readonly counts: Float64Array;
  count = 0;
  max = 0;

  constructor(counts = new Float64Array(BUCKETS)) {
    this.counts = counts;
    for (const c of counts) this.count += c;
  }

  record(ms: number): void {
    const us = ms * 1000;
    const bucket =
      us < 1 ? 0 : Math.min(BUCKETS - 1, Math.floor(Math.log2(us) * STEPS_PER_OCTAVE) + 1);
    this.counts[bucket] = (this.counts[bucket] ?? 0) + 1;
    this.count++;
    if (ms > this.max) this.max = ms;
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.max = 0;
  }

  merge(other: { counts: ArrayLike<number>; max: number }): void {
    for (let i = 0; i < BUCKETS; i++) {
      const c = other.counts[i] ?? 0;
      this.counts[i] = (this.counts[i] ?? 0) + c;
      this.count += c;
    }
    if (other.max > this.max) this.max = other.max;
  }

  /** The value (ms) below which `fraction` of the samples fall: the bucket's geometric middle. */
  quantile(fraction: number): number {
    if (this.count === 0) return NaN;
    const rank = fraction * this.count;
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i] ?? 0;
      if (seen >= rank && (this.counts[i] ?? 0) > 0) {
        if (i === 0) return 0.001;
        const middle = 2 ** ((i - 0.5) / STEPS_PER_OCTAVE) / 1000;
        return Math.min(middle, this.max);
      }
    }
    return this.max;
  }

  snapshot(): { counts: Float64Array; max: number } {
    return { counts: this.counts.slice(), max: this.max };
  }
}
