// Small measuring helpers every bench section uses alike, so their figures are computed the same
// way (the same median, the same rounding, the same reading of the machine's CPU).
import { readFileSync } from 'node:fs';

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** CLOCK_MONOTONIC in ms, the same in every thread and process (what hrtime reads). */
export function monoNow(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** Two decimals for the report; NaN and ±Infinity are kept as they are (they mean something). */
export function round(value: number): number {
  return Number.isFinite(value) ? Math.round(value * 100) / 100 : value;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[mid] ?? NaN)
    : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** All CPUs' [busy, total] jiffies from /proc/stat (Linux), to show when the machine is full. */
export function machineTicks(): [number, number] {
  try {
    const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '')
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    const total = fields.reduce((a, b) => a + b, 0);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    return [total - idle, total];
  } catch {
    return [NaN, NaN];
  }
}
