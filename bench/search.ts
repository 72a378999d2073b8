// Full-text search over 100 000 messages (src-main/client/search-index.ts): how long the first
// build takes and how long a search takes after it, next to a baseline measured in the same run —
// a plain scan of the same texts with String.prototype.includes, what a client without an index
// would do. Targets (design17.md, "Search"): build < 3 s, search p99 < 50 ms.
//
// The texts are made here, deterministically (a seeded generator): 3–30 words each from a
// Zipf-like vocabulary of 20 000 made-up words with some accented and non-Latin ones, so common
// prefixes match thousands of messages and rare words a handful.
import { performance } from 'node:perf_hooks';
import { type SearchDoc, SearchIndex } from '../src-main/client/search-index.ts';

export interface SearchBenchResult {
  readonly messages: number;
  readonly buildMs: number;
  readonly firstSearchMs: number;
  readonly queries: number;
  readonly index: Latency;
  readonly includesScan: Latency;
  readonly averageHits: number;
}

export interface Latency {
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

const VOCABULARY = 20_000;
const EXTRA_WORDS = ['café', 'naïve', 'Straße', 'über', 'שלום', 'مرحبا', 'привет', 'déjà', '東京'];

/** A small, seeded PRNG (mulberry32): the same messages on every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function makeWords(next: () => number): string[] {
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  const words = new Set<string>(EXTRA_WORDS);
  while (words.size < VOCABULARY) {
    let word = '';
    const length = 3 + Math.floor(next() * 8);
    for (let i = 0; i < length; i++) word += letters[Math.floor(next() * letters.length)];
    words.add(word);
  }
  return [...words];
}

/** Word rank drawn so that low ranks are far more common (roughly Zipf). */
function pick(words: readonly string[], next: () => number): string {
  return words[Math.floor(words.length ** next()) - 1] ?? words[0] ?? 'x';
}

export function makeMessages(count: number, seed = 17): SearchDoc[] {
  const next = random(seed);
  const words = makeWords(next);
  const rooms = ['lobby', 'dev', 'random', 'ops', 'design'];
  const docs: SearchDoc[] = [];
  for (let i = 0; i < count; i++) {
    const length = 3 + Math.floor(next() * 28);
    const text = Array.from({ length }, () => pick(words, next)).join(' ');
    const room = rooms[i % rooms.length] ?? 'lobby';
    docs.push({
      key: `h|${room}|${i}`,
      host: 'h',
      room,
      seq: i,
      id: `m${i}`,
      from: `user${i % 40}`,
      ts: 1_700_000_000_000 + i * 1000,
      text,
    });
  }
  return docs;
}

export function makeQueries(count: number, seed: number): string[] {
  const next = random(seed);
  const words = makeWords(random(17)); // the messages' vocabulary
  const queries: string[] = [];
  for (let i = 0; i < count; i++) {
    const kind = i % 4;
    const word = pick(words, next);
    if (kind === 0)
      queries.push(word); // one word
    else if (kind === 1)
      queries.push(word.slice(0, 3)); // a short prefix: many hits
    else if (kind === 2)
      queries.push(`${word} ${pick(words, next)}`); // two words ANDed
    else queries.push(words[Math.floor(next() * words.length)] ?? word); // any word, often rare
  }
  return queries;
}

export function latency(samples: number[]): Latency {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { p50Ms: round(at(0.5)), p99Ms: round(at(0.99)), maxMs: round(sorted.at(-1) ?? 0) };
}

export function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/** What a client without an index does: every message, every word, newest first, up to 50. */
function scan(texts: readonly string[], query: string): number {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  let hits = 0;
  for (let i = texts.length - 1; i >= 0 && hits < 50; i--) {
    const text = texts[i] ?? '';
    if (words.every((word) => text.includes(word))) hits++;
  }
  return hits;
}

export function measureSearch(quick: boolean, log: (line: string) => void): SearchBenchResult {
  const messages = 100_000;
  const docs = makeMessages(messages);
  const queryCount = quick ? 200 : 1000;
  const queries = makeQueries(queryCount, 42);

  const index = new SearchIndex();
  try {
    let started = performance.now();
    index.addMany(docs);
    const buildMs = performance.now() - started;
    started = performance.now();
    index.search(queries[0] ?? 'a');
    const firstSearchMs = performance.now() - started;
    log(`  build ${Math.round(buildMs)} ms for ${messages} messages`);

    const indexed: number[] = [];
    let hits = 0;
    for (const query of queries) {
      started = performance.now();
      hits += index.search(query, { limit: 50 }).length;
      indexed.push(performance.now() - started);
    }
    // The baseline gets the texts lower-cased up front (a scan would keep them so).
    const texts = docs.map((doc) => doc.text.toLowerCase());
    const scanned: number[] = [];
    for (const query of queries) {
      started = performance.now();
      scan(texts, query);
      scanned.push(performance.now() - started);
    }
    return {
      messages,
      buildMs: Math.round(buildMs),
      firstSearchMs: round(firstSearchMs),
      queries: queries.length,
      index: latency(indexed),
      includesScan: latency(scanned),
      averageHits: round(hits / queries.length),
    };
  } finally {
    index.close();
  }
}

/** The table rows `npm run bench` prints for this section. */
export function searchTable(
  result: SearchBenchResult,
  grid: (header: string[], rows: string[][], left?: number) => string[],
): string[] {
  const row = (name: string, l: Latency) => [
    name,
    String(l.p50Ms),
    String(l.p99Ms),
    String(l.maxMs),
  ];
  return [
    `Search (in-memory SQLite FTS5, ${result.messages.toLocaleString('en-US')} messages, ${result.queries} queries, limit 50)`,
    `Build ${result.buildMs} ms (target < 3000), then first search ${result.firstSearchMs} ms; ${result.averageHits} hits per query on average`,
    ...grid(
      ['search', 'p50 ms', 'p99 ms', 'max ms'],
      [row('FTS5 index', result.index), row('String.includes scan', result.includesScan)],
      1,
    ),
  ];
}
