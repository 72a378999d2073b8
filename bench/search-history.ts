// Search as the desktop runs it (src-main/service/message-search.ts): 100 000 messages stored in a
// real LocalHistory (node:sqlite in a temp folder, every row sealed with an at-rest key, as the
// desktop writes them), then the index built from it in the background, a slice at a time. What a
// user notices: how long the app's event loop is held at once during the build (the longest slice,
// and the largest event-loop delay seen meanwhile), how long the whole build takes, how long a
// search asked at the very start of the build waits, and searches once it is built. Next to it,
// in the same run, the former path: the whole history read, decrypted and indexed in one go on the
// first search — one block of the loop.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { SearchIndex } from '../src-main/client/search-index.ts';
import { LocalHistory } from '../src-main/service/local-history.ts';
import { DEFAULT_SLICE_MESSAGES, MessageSearch } from '../src-main/service/message-search.ts';
import { type Latency, latency, makeMessages, makeQueries, round } from './search.ts';

export interface SearchHistoryBenchResult {
  readonly messages: number;
  /** Storing them in the local history (not part of search; how the bench fills it). */
  readonly fillMs: number;
  /** The former first search: read, decrypt and index everything in one block of the loop. */
  readonly blockingBuildMs: number;
  readonly sliceMessages: number;
  readonly slices: number;
  /** From the start of the background build until the index is complete (wall clock). */
  readonly buildMs: number;
  /** Time spent in slices (the build's own work, without the gaps between them). */
  readonly buildBusyMs: number;
  readonly longestSliceMs: number;
  readonly sliceP99Ms: number;
  /**
   * CPU time of this process per slice (process.cpuUsage between slice ends; nothing else runs
   * meanwhile): the slice's own work, apart from time the machine's load took from it.
   */
  readonly sliceCpuMaxMs: number;
  readonly sliceCpuP99Ms: number;
  /** The largest event-loop delay monitorEventLoopDelay saw during the build (10 ms resolution). */
  readonly loopDelayMaxMs: number;
  /** A search asked as the build starts: answered (from all messages) after this long. */
  readonly searchDuringBuildMs: number;
  readonly firstSearchMs: number;
  readonly queries: number;
  readonly search: Latency;
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function measureSearchHistory(
  quick: boolean,
  log: (line: string) => void,
): Promise<SearchHistoryBenchResult> {
  const messages = 100_000;
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-search-'));
  const history = LocalHistory.open(join(dir, 'history.sqlite'), {
    atRestKey: new Uint8Array(randomBytes(32)),
    maxMessagesPerRoom: messages,
  });
  try {
    let started = performance.now();
    const sender = 'S'.repeat(43);
    for (const doc of makeMessages(messages)) {
      history.storeReceived(doc.host, {
        room: doc.room,
        id: doc.id,
        seq: doc.seq,
        from: doc.from,
        fp: 'FP',
        key: sender,
        text: doc.text,
        ts: doc.ts,
        own: false,
        status: 'sent',
      });
    }
    const fillMs = performance.now() - started;
    log(`  local history filled: ${messages} sealed rows in ${Math.round(fillMs)} ms`);

    // The former path, for comparison: one block.
    started = performance.now();
    const blocking = new SearchIndex();
    blocking.addMany(history.searchDocs());
    const blockingBuildMs = performance.now() - started;
    blocking.close();
    log(`  one-block build (former first search): ${Math.round(blockingBuildMs)} ms`);
    await wait(50);

    const slices: number[] = [];
    const sliceCpu: number[] = [];
    let cpu = process.cpuUsage();
    const search = new MessageSearch(history, {
      buildDelayMs: null,
      onSlice: (ms) => {
        slices.push(ms);
        const used = process.cpuUsage(cpu);
        sliceCpu.push((used.user + used.system) / 1000);
        cpu = process.cpuUsage();
      },
    });
    try {
      const delay = monitorEventLoopDelay({ resolution: 10 });
      delay.enable();
      started = performance.now();
      cpu = process.cpuUsage();
      // Asked at once: waits for the build, answers from every message.
      const during = search.search('a', {}).then(() => performance.now() - started);
      await search.ready();
      const buildMs = performance.now() - started;
      const searchDuringBuildMs = await during;
      delay.disable();
      log(`  background build: ${Math.round(buildMs)} ms in ${slices.length} slices`);

      const queries = makeQueries(quick ? 200 : 1000, 42);
      started = performance.now();
      await search.search(queries[0] ?? 'a', {});
      const firstSearchMs = performance.now() - started;
      const samples: number[] = [];
      for (const query of queries) {
        started = performance.now();
        await search.search(query, { limit: 50 });
        samples.push(performance.now() - started);
      }
      return {
        messages,
        fillMs: Math.round(fillMs),
        blockingBuildMs: Math.round(blockingBuildMs),
        sliceMessages: DEFAULT_SLICE_MESSAGES,
        slices: slices.length,
        buildMs: Math.round(buildMs),
        buildBusyMs: Math.round(slices.reduce((a, b) => a + b, 0)),
        longestSliceMs: round(Math.max(...slices)),
        sliceP99Ms: latency(slices).p99Ms,
        sliceCpuMaxMs: latency(sliceCpu).maxMs,
        sliceCpuP99Ms: latency(sliceCpu).p99Ms,
        loopDelayMaxMs: round(delay.max / 1e6),
        searchDuringBuildMs: Math.round(searchDuringBuildMs),
        firstSearchMs: round(firstSearchMs),
        queries: queries.length,
        search: latency(samples),
      };
    } finally {
      search.close();
    }
  } finally {
    history.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The table rows `npm run bench` prints for it, under the search section. */
export function searchHistoryTable(
  result: SearchHistoryBenchResult,
  grid: (header: string[], rows: string[][], left?: number) => string[],
): string[] {
  return [
    `Search from the desktop's local history (${result.messages.toLocaleString('en-US')} sealed rows in node:sqlite; background build, ${result.sliceMessages} rows a slice)`,
    ...grid(
      ['what', 'ms'],
      [
        ['former first search: one block (read + decrypt + index)', String(result.blockingBuildMs)],
        [`background build, wall (${result.slices} slices)`, String(result.buildMs)],
        ['  of which in slices', String(result.buildBusyMs)],
        ['  longest slice (longest the loop is held)', String(result.longestSliceMs)],
        ['  slice p99', String(result.sliceP99Ms)],
        ['  CPU per slice: max / p99', `${result.sliceCpuMaxMs} / ${result.sliceCpuP99Ms}`],
        ['  largest event-loop delay seen', String(result.loopDelayMaxMs)],
        ['search asked as the build starts: answered after', String(result.searchDuringBuildMs)],
        ['first search after the build', String(result.firstSearchMs)],
        [`search p50 (${result.queries} queries, limit 50)`, String(result.search.p50Ms)],
        ['search p99', String(result.search.p99Ms)],
        ['search max', String(result.search.maxMs)],
      ],
      1,
    ),
  ];
}
