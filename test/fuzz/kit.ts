import fc from 'fast-check';
import { afterAll, expect } from 'vitest';
import { concatBytes } from '../../src-shared/bytes.ts';

/**
 * Shared plumbing for the property-based tests in test/unit/fuzz/*.test.ts.
 *
 * Every property runs PARLEY_FUZZ_RUNS cases (default 200, so `npm test` stays quick;
 * `npm run fuzz` sets 100 000). PARLEY_FUZZ_SEED replays a failure fast-check reported.
 * Each case goes through `fuzzCase`, which checks the only acceptable outcomes — a value, or
 * one of the typed errors the parser documents — and records how long the case took, so a
 * parser that hangs (catastrophic backtracking, quadratic buffering) fails on time too.
 */
export const FUZZ_RUNS = positive(process.env['PARLEY_FUZZ_RUNS'], 200);
const SEED = process.env['PARLEY_FUZZ_SEED'];
/** A single case taking longer than this is a hang, not noise (a busy 2-core box included). */
export const MAX_CASE_MS = positive(process.env['PARLEY_FUZZ_MAX_CASE_MS'], 1000);
/** Per-test timeout: generous, scaled with the number of runs. */
export const FUZZ_TIMEOUT_MS = Math.max(30_000, FUZZ_RUNS * 5);

function positive(text: string | undefined, fallback: number): number {
  const n = Number(text);
  return Number.isFinite(n) && n > 0 ? Math.floor(n) : fallback;
}

/** Options for fc.assert: the run count (scaled by `share` for costly properties) and the seed. */
export function runs(share = 1): fc.Parameters<unknown> {
  return {
    numRuns: Math.max(10, Math.round(FUZZ_RUNS * share)),
    ...(SEED !== undefined ? { seed: Number(SEED) } : {}),
  };
}

/** For costly properties (real sockets): a share of PARLEY_FUZZ_RUNS, kept within bounds. */
export function runsWithin(min: number, max: number, share: number): fc.Parameters<unknown> {
  return {
    numRuns: Math.min(max, Math.max(min, Math.round(FUZZ_RUNS * share))),
    ...(SEED !== undefined ? { seed: Number(SEED) } : {}),
  };
}

interface Stats {
  cases: number;
  accepted: number;
  rejected: number;
  totalMs: number;
  maxCaseMs: number;
  maxRssMb: number;
}

const stats = new Map<string, Stats>();

/**
 * Runs one case. `run` returns the parser's value; it may throw only an error `allowed`
 * accepts (a typed error the parser documents). Anything else — another exception, a
 * RangeError from a stack overflow, a TypeError from a missed check — fails the property.
 */
export function fuzzCase<T>(
  parser: string,
  run: () => T,
  allowed: (error: unknown) => boolean,
): { ok: true; value: T } | { ok: false; error: unknown } {
  const entry = stats.get(parser) ?? {
    cases: 0,
    accepted: 0,
    rejected: 0,
    totalMs: 0,
    maxCaseMs: 0,
    maxRssMb: 0,
  };
  stats.set(parser, entry);
  const started = performance.now();
  let outcome: { ok: true; value: T } | { ok: false; error: unknown };
  try {
    outcome = { ok: true, value: run() };
  } catch (error) {
    outcome = { ok: false, error };
  }
  const elapsed = performance.now() - started;
  entry.cases++;
  entry.totalMs += elapsed;
  entry.maxCaseMs = Math.max(entry.maxCaseMs, elapsed);
  if (outcome.ok) entry.accepted++;
  else entry.rejected++;
  if (entry.cases % 1000 === 1) {
    entry.maxRssMb = Math.max(entry.maxRssMb, process.memoryUsage.rss() / 2 ** 20);
  }
  if (elapsed > MAX_CASE_MS) {
    throw new Error(`${parser}: one case took ${elapsed.toFixed(0)} ms (a hang)`);
  }
  if (!outcome.ok && !allowed(outcome.error)) {
    throw new Error(`${parser}: untyped failure ${describe(outcome.error)}`, {
      cause: outcome.error,
    });
  }
  return outcome;
}

/** The async twin of fuzzCase, for parsers that answer with a promise (IPC dispatch). */
export async function fuzzCaseAsync<T>(parser: string, run: () => Promise<T>): Promise<T> {
  const entry = stats.get(parser) ?? {
    cases: 0,
    accepted: 0,
    rejected: 0,
    totalMs: 0,
    maxCaseMs: 0,
    maxRssMb: 0,
  };
  stats.set(parser, entry);
  const started = performance.now();
  const value = await run(); // a rejection fails the property: dispatch must never reject
  const elapsed = performance.now() - started;
  entry.cases++;
  entry.totalMs += elapsed;
  entry.maxCaseMs = Math.max(entry.maxCaseMs, elapsed);
  entry.accepted++;
  if (entry.cases % 1000 === 1) {
    entry.maxRssMb = Math.max(entry.maxRssMb, process.memoryUsage.rss() / 2 ** 20);
  }
  if (elapsed > MAX_CASE_MS) {
    throw new Error(`${parser}: one case took ${elapsed.toFixed(0)} ms (a hang)`);
  }
  return value;
}

/** Counts an outcome as rejected (for async parsers whose "typed error" is a value). */
export function countRejected(parser: string): void {
  const entry = stats.get(parser);
  if (entry) {
    entry.accepted--;
    entry.rejected++;
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/** Prints one line per parser after the file: the figures docs/reliability.md quotes. */
export function reportStats(): void {
  afterAll(() => {
    const lines = [...stats].map(
      ([parser, s]) =>
        `fuzz ${parser}: ${s.cases} cases (${s.accepted} accepted, ${s.rejected} rejected), ` +
        `${(s.totalMs / 1000).toFixed(1)} s, max ${s.maxCaseMs.toFixed(1)} ms/case, ` +
        `rss ≤ ${Math.max(s.maxRssMb, process.memoryUsage.rss() / 2 ** 20).toFixed(0)} MiB`,
    );
    if (lines.length > 0) console.log(lines.join('\n'));
    // A property that ran no case proves nothing.
    for (const [parser, s] of stats) expect(s.cases, parser).toBeGreaterThan(0);
  });
}

// ── mutations ─────────────────────────────────────────────────────────────────────────

/** One edit of a byte string; positions are taken modulo the current length. */
export type Mutation =
  | { readonly kind: 'flip'; readonly at: number; readonly bit: number }
  | { readonly kind: 'set'; readonly at: number; readonly value: number }
  | { readonly kind: 'insert'; readonly at: number; readonly bytes: Uint8Array }
  | { readonly kind: 'delete'; readonly at: number; readonly count: number }
  | { readonly kind: 'truncate'; readonly keep: number }
  | { readonly kind: 'duplicate'; readonly at: number; readonly count: number };

/** Bytes parsers care about: length extremes, line ends, JSON and URL punctuation. */
const INTERESTING = [
  0x00, 0x01, 0x0a, 0x0d, 0x20, 0x22, 0x23, 0x2f, 0x3a, 0x5b, 0x5c, 0x5d, 0x7b, 0x7d, 0x7f, 0x80,
  0xc0, 0xe2, 0xed, 0xf0, 0xfe, 0xff,
];

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('flip' as const),
      at: fc.nat(),
      bit: fc.integer({ min: 0, max: 7 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('set' as const),
      at: fc.nat(),
      value: fc.oneof(fc.constantFrom(...INTERESTING), fc.integer({ min: 0, max: 255 })),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('insert' as const),
      at: fc.nat(),
      bytes: fc.oneof(
        fc.uint8Array({ minLength: 1, maxLength: 8 }),
        fc.constantFrom(...INTERESTING).map((b) => Uint8Array.of(b)),
      ),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('delete' as const),
      at: fc.nat(),
      count: fc.integer({ min: 1, max: 8 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), keep: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('duplicate' as const),
      at: fc.nat(),
      count: fc.integer({ min: 1, max: 40 }),
    }),
  },
);

export const mutationsArb = fc.array(mutationArb, { minLength: 1, maxLength: 4 });

export function mutate(input: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let bytes: Uint8Array = input.slice();
  for (const m of mutations) {
    const n = bytes.length;
    switch (m.kind) {
      case 'flip':
        if (n > 0) bytes[m.at % n]! ^= 1 << m.bit;
        break;
      case 'set':
        if (n > 0) bytes[m.at % n] = m.value;
        break;
      case 'insert': {
        const at = m.at % (n + 1);
        bytes = concat(bytes.subarray(0, at), m.bytes, bytes.subarray(at));
        break;
      }
      case 'delete': {
        if (n === 0) break;
        const at = m.at % n;
        bytes = concat(bytes.subarray(0, at), bytes.subarray(at + m.count));
        break;
      }
      case 'truncate':
        bytes = bytes.slice(0, m.keep % (n + 1));
        break;
      case 'duplicate': {
        if (n === 0) break;
        const at = m.at % n;
        const piece = bytes.slice(at, at + m.count);
        bytes = concat(
          bytes.subarray(0, at + piece.length),
          piece,
          bytes.subarray(at + piece.length),
        );
        break;
      }
    }
  }
  return bytes;
}

/** String mutations go through UTF-8 bytes, then back (invalid sequences become U+FFFD). */
/** Kept under its old name for the fuzz tests. */
export const concat = concatBytes;

export function mutateText(input: string, mutations: readonly Mutation[]): string {
  return new TextDecoder().decode(mutate(new TextEncoder().encode(input), mutations));
}

/** How a stream is cut into reads: sizes used in turn; 1-byte reads are common on purpose. */
export const splitsArb = fc.oneof(
  fc.constant([1]),
  fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 8 }),
  fc.array(fc.integer({ min: 1, max: 70_000 }), { minLength: 1, maxLength: 8 }),
);

export function split(stream: Uint8Array, sizes: readonly number[]): Uint8Array[] {
  // At most ~4096 reads per case, so 100 000 cases stay affordable; byte-by-byte reads of a
  // maximal frame have a test of their own.
  const floor = Math.ceil(stream.length / 4096);
  const chunks: Uint8Array[] = [];
  let offset = 0;
  let i = 0;
  while (offset < stream.length) {
    const size = Math.max(floor, sizes[i++ % sizes.length] ?? 1);
    chunks.push(stream.subarray(offset, offset + size));
    offset += size;
  }
  return chunks;
}

/**
 * Any text: ASCII-heavy, with controls, non-BMP characters and lone surrogates. (fast-check's
 * own `unit: 'binary'` does the same but costs seconds to warm up inside vitest.)
 */
export function anyText(maxLength: number): fc.Arbitrary<string> {
  const codePoint = fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: 0x20, max: 0x7e }) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 0x1f }) },
    { weight: 2, arbitrary: fc.integer({ min: 0x7f, max: 0xffff }) },
    { weight: 1, arbitrary: fc.integer({ min: 0x10000, max: 0x10ffff }) },
  );
  return fc.string({ unit: codePoint.map((cp) => String.fromCodePoint(cp)), maxLength });
}
