// `npm run build:host` (and `npm ci`/`npm install`, as `prepare`): bundles the host's code into
// out/host/ and writes the stamp of the sources it built, which bin/parley.js checks before
// running it (bin/host-build.js). Why built JavaScript at all: type stripping costs a host
// ~17 MB of RSS for as long as it runs (docs/hosting.md, docs/benchmarks.md).
//
// Why a bundle (vite's bundler, rolldown — the one `npm run build` uses for the desktop app)
// rather than tsc's file-for-file emit: a host started from tsc's output loads ~220 modules
// before it listens (94 of them zod's, 64 of those its error-message locales), and resolving
// that many files makes V8 optimise Node's own module loader during start; the bundle loads
// ~30 chunks with zod's unused parts shaken out: 72.5 instead of 79.5 MB RSS at start (#18,
// bench/footprint.ts). Dynamic imports stay chunks of their own, loaded on first use.
//
// The stamp is taken before building, so a file edited during the build makes it stale, and
// written last, so an interrupted build is never taken for a finished one.
import { readdirSync, renameSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { basename, join } from 'node:path';
import type * as Vite from 'vite';
import {
  BUILD_DIR,
  BUILT_ENTRY,
  BUILT_HOST_MODULE,
  ROOT,
  STAMP_FILE,
  sourceStamp,
} from '../bin/host-build.js';

/**
 * Worker threads' entry files (`*-worker.ts`), started by URL (`new URL('./x-worker.js',
 * import.meta.url)`), which a bundler does not follow: each is an entry of its own, named as
 * its source, in out/host/ beside the chunk that starts it.
 */
function workerEntries(dir = join(ROOT, 'src-main')): Record<string, string> {
  const entries: Record<string, string> = {};
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) Object.assign(entries, workerEntries(path));
    else if (entry.name.endsWith('-worker.ts')) entries[basename(entry.name, '.ts')] = path;
  }
  return entries;
}

// vite is a devDependency: an install without them (`npm ci --omit=dev`) has no bundler. Then
// `prepare` must not fail the install: the host runs from source, and says so at start.
let build: typeof Vite.build;
try {
  ({ build } = await import('vite'));
} catch (error) {
  if (process.env.npm_lifecycle_event !== 'prepare') throw error;
  process.stderr.write('build:host: vite is not installed (no devDependencies?): no build\n');
  process.exit(0);
}

const started = performance.now();
const sources = sourceStamp(ROOT);
const out = join(ROOT, BUILD_DIR);
await build({
  configFile: false,
  root: ROOT,
  logLevel: 'warn',
  build: {
    outDir: out,
    // A clean folder: a module deleted from the sources must not linger in the build.
    emptyOutDir: true,
    ssr: true,
    target: 'node24',
    // Readable output: names in stack traces stay those of the sources.
    minify: false,
    reportCompressedSize: false,
    rolldownOptions: {
      input: {
        [basename(BUILT_ENTRY, '.js')]: join(ROOT, 'src-main/index.ts'),
        // startHost itself, for bench/host-process.ts (the benchmark's host, as shipped).
        [basename(BUILT_HOST_MODULE, '.js')]: join(ROOT, 'src-main/server/host.ts'),
        ...workerEntries(),
      },
      external: [/^node:/, 'electron', ...builtinModules],
      output: {
        format: 'es',
        entryFileNames: '[name].js',
        chunkFileNames: '[name]-[hash].js',
        // Comments are source text a host would keep in memory; licences stay.
        comments: { legal: true, annotation: false, jsdoc: false },
      },
    },
  },
  // Everything in the bundle: zod, @noble, ts-mls, node-forge (each loaded where it is used).
  ssr: { noExternal: true, target: 'node' },
});
const stamp = join(out, STAMP_FILE);
writeFileSync(`${stamp}.tmp`, `${JSON.stringify({ sources, node: process.version })}\n`);
renameSync(`${stamp}.tmp`, stamp);
const ms = Math.round(performance.now() - started);
process.stdout.write(`build:host: ${BUILD_DIR} built in ${ms} ms\n`);
