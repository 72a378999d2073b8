// The host's memory at start: resident set size of `parley --serve` listening with no client,
// started exactly as shipped (Node 24 with the flags of `npm run serve`, the built JavaScript in
// out/host that bin/parley.js runs), next to the same host type-stripped from source and to
// bare Node 24 doing nothing. Each process is started fresh, left to settle (SETTLE_MS after its
// last line of output — the host's `link` — with no client and no forced GC: what an operator's
// `ps` shows), then RSS is read from /proc/<pid>/status (VmRSS; VmHWM is the peak so far).
//
// The shipped start builds out/host first when it is missing or older than the sources
// (bin/host-build.js), as `npm ci` would have.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BUILD_DIR, BUILT_ENTRY, ROOT, freshBuild } from '../bin/host-build.js';

/** Long enough for the start's garbage to be collected by V8's own schedule (no forced GC). */
const SETTLE_MS = 1500;
const START_TIMEOUT_MS = 30_000;

export interface StartRss {
  /** Resident set size after settling, in MiB (median of the runs). */
  readonly rssMiB: number;
  /** Peak resident set size during start (VmHWM), in MiB (median of the runs). */
  readonly peakMiB: number;
  readonly runs: readonly number[];
}

export interface StartFootprint {
  /** `node --max-semi-space-size=2 bin/parley.js --serve`, running out/host's built JavaScript. */
  readonly shipped: StartRss;
  /** The same host from source: `node --max-semi-space-size=2 src-main/index.ts --serve`. */
  readonly typeStripped: StartRss;
  /** `node -e` waiting on a timer: the floor of any Node 24 process on this machine. */
  readonly bareNode: StartRss;
  readonly nodeFlags: readonly string[];
  readonly settleMs: number;
  readonly gcForced: false;
  /** Whether out/host had to be built first (it was missing or stale). */
  readonly built: boolean;
  readonly loadedAtStart: LoadedAtStart;
}

/** The Node flags of `npm run serve` (package.json): the flags the host ships with. */
export function serveNodeFlags(): string[] {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  const words = (manifest.scripts['serve'] ?? '').split(/\s+/).slice(1);
  const end = words.findIndex((word) => !word.startsWith('--'));
  return words.slice(0, end === -1 ? words.length : end);
}

function statusKiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  if (!match?.[1]) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts one process, waits for `ready` on stdout (or none), settles, reads its memory. */
async function measureOnce(
  args: string[],
  ready: RegExp | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ rss: number; peak: number }> {
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = once(child, 'exit');
  try {
    if (ready) {
      await new Promise<void>((resolve, reject) => {
        let out = '';
        let err = '';
        child.stdout?.on('data', (chunk: Buffer) => {
          out += chunk.toString('utf8');
          if (ready.test(out)) resolve();
        });
        child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
        void exited.then(() => reject(new Error(`exited before starting:\n${err}`)));
        setTimeout(
          () => reject(new Error(`not started in ${START_TIMEOUT_MS} ms`)),
          START_TIMEOUT_MS,
        ).unref();
      });
    }
    await sleep(SETTLE_MS);
    const pid = child.pid;
    if (pid === undefined) throw new Error('no pid');
    return { rss: statusKiB(pid, 'VmRSS') / 1024, peak: statusKiB(pid, 'VmHWM') / 1024 };
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

/**
 * Records every module the process loads (its URL and source size) in the file named by
 * PARLEY_FOOTPRINT_TRACE: a separate start, never one whose memory is measured.
 */
const TRACE_HOOK = `data:text/javascript,${encodeURIComponent(`
  import { registerHooks } from 'node:module';
  import { appendFileSync } from 'node:fs';
  registerHooks({
    load(url, context, next) {
      const result = next(url, context);
      const source = result.source;
      const bytes = source == null ? 0 : typeof source === 'string' ? Buffer.byteLength(source) : source.byteLength;
      appendFileSync(process.env.PARLEY_FOOTPRINT_TRACE, bytes + '\\t' + url + '\\n');
      return result;
    },
  });
`)}`;

export interface LoadedAtStart {
  /** Files of JavaScript the shipped host has loaded when it listens (Node built-ins apart). */
  readonly files: number;
  readonly kib: number;
  readonly builtins: readonly string[];
  /** The largest of them, relative to out/host. */
  readonly largest: readonly { readonly file: string; readonly kib: number }[];
}

/** What the built host loads before it listens (and its start's lazy loads, if any). */
async function loadedAtStart(flags: string[], dir: string): Promise<LoadedAtStart> {
  const trace = join(dir, 'modules.tsv');
  const args = [...flags, '--import', TRACE_HOOK, join(ROOT, BUILD_DIR, BUILT_ENTRY)];
  const serveArgs = ['--serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', dir];
  await measureOnce([...args, ...serveArgs], /^link /m, {
    ...process.env,
    PARLEY_FOOTPRINT_TRACE: trace,
  });
  const rows = readFileSync(trace, 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const [bytes, url] = line.split('\t');
      return { bytes: Number(bytes), url: url ?? '' };
    });
  const files = rows.filter((row) => row.url.startsWith('file:'));
  const kib = (bytes: number) => Math.round(bytes / 102.4) / 10;
  const base = pathToFileURL(join(ROOT, BUILD_DIR)).href + '/';
  return {
    files: files.length,
    kib: kib(files.reduce((sum, row) => sum + row.bytes, 0)),
    builtins: rows.filter((row) => row.url.startsWith('node:')).map((row) => row.url),
    largest: [...files]
      .sort((a, b) => b.bytes - a.bytes)
      .slice(0, 8)
      .map((row) => ({ file: row.url.replace(base, ''), kib: kib(row.bytes) })),
  };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};
const round = (mib: number) => Math.round(mib * 10) / 10;

/**
 * RSS at start of the shipped host, the type-stripped host and bare Node 24 (see the top of
 * this file). Runs are interleaved (shipped, stripped, bare, shipped, …) so that a neighbour's
 * burst on this shared machine touches all three alike; each figure is the median of `runs`.
 */
export async function measureStartFootprint(
  options: { runs?: number } = {},
): Promise<StartFootprint> {
  const runs = options.runs ?? 3;
  let built = false;
  // Before each shipped start: a source edited meanwhile would make bin/parley.js fall back.
  const ensureBuilt = () => {
    if ('entry' in freshBuild()) return;
    const build = spawnSync(process.execPath, [join(ROOT, 'scripts/build-host.ts')], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    if (build.status !== 0) throw new Error(`npm run build:host failed:\n${build.stderr}`);
    built = true;
  };
  const flags = serveNodeFlags();
  const dirs: string[] = [];
  const host = (entry: string) => () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-footprint-'));
    dirs.push(dir);
    return [...flags, entry, '--serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', dir];
  };
  const listening = /^link /m;
  const shipped: { rss: number; peak: number }[] = [];
  const stripped: { rss: number; peak: number }[] = [];
  const bare: { rss: number; peak: number }[] = [];
  let loaded: LoadedAtStart | undefined;
  try {
    for (let i = 0; i < runs; i++) {
      // bin/parley.js runs out/host in-process when Node has the flags (as `npm run serve`).
      ensureBuilt();
      shipped.push(await measureOnce(host(join(ROOT, 'bin/parley.js'))(), listening));
      stripped.push(await measureOnce(host(join(ROOT, 'src-main/index.ts'))(), listening));
      bare.push(await measureOnce(['-e', 'setInterval(() => {}, 60_000)'], undefined));
    }
    ensureBuilt();
    const traced = mkdtempSync(join(tmpdir(), 'parley-footprint-'));
    dirs.push(traced);
    loaded = await loadedAtStart(flags, traced);
  } finally {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
  const summary = (samples: { rss: number; peak: number }[]): StartRss => ({
    rssMiB: round(median(samples.map((s) => s.rss))),
    peakMiB: round(median(samples.map((s) => s.peak))),
    runs: samples.map((s) => round(s.rss)),
  });
  return {
    shipped: summary(shipped),
    typeStripped: summary(stripped),
    bareNode: summary(bare),
    nodeFlags: flags,
    settleMs: SETTLE_MS,
    gcForced: false,
    built,
    loadedAtStart: loaded,
  };
}

// `node bench/footprint.ts [runs]`: the figures alone, as JSON.
if (import.meta.main) {
  const runs = Number(process.argv[2] ?? 3);
  process.stdout.write(`${JSON.stringify(await measureStartFootprint({ runs }), null, 2)}\n`);
}
