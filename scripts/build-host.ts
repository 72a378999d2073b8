// `npm run build:host` (and `npm ci`/`npm install`, as `prepare`): compiles the host's code to
// out/host/ with tsc (tsconfig.host.json: emit only, `.ts` imports rewritten to `.js`) and
// writes the stamp of the sources it compiled, which bin/parley.js checks before running it
// (bin/host-build.js). Why built JavaScript at all: type stripping costs a host ~17 MB of RSS
// for as long as it runs (docs/hosting.md, docs/benchmarks.md).
//
// The stamp is taken before compiling, so a file edited during the build makes it stale, and
// written last, so an interrupted build is never taken for a finished one.
import { spawnSync } from 'node:child_process';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUILD_DIR, ROOT, STAMP_FILE, sourceStamp } from '../bin/host-build.js';

const started = performance.now();
const sources = sourceStamp(ROOT);
const out = join(ROOT, BUILD_DIR);
// A clean folder: a module deleted from the sources must not linger in the build.
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const tsc = spawnSync(
  process.execPath,
  [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.host.json')],
  { cwd: ROOT, stdio: 'inherit' },
);
if (tsc.status !== 0) {
  process.stderr.write(`build:host: tsc exited with ${tsc.status ?? tsc.signal}\n`);
  process.exit(1);
}
const stamp = join(out, STAMP_FILE);
writeFileSync(`${stamp}.tmp`, `${JSON.stringify({ sources, node: process.version })}\n`);
renameSync(`${stamp}.tmp`, stamp);
const ms = Math.round(performance.now() - started);
process.stdout.write(`build:host: ${BUILD_DIR} built in ${ms} ms\n`);
