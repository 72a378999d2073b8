#!/usr/bin/env node
// `npx parley …` in a checkout (package.json "bin"), `npm run serve` and the systemd unit.
// Parley is TypeScript that Node 24 runs as is; npx puts node_modules/.bin first on PATH, so
// the `node` above is the Node 24 that `npm install` put there (the `node` devDependency).
// Started by an older Node (e.g. the system's Node 20), this hands over to that Node 24
// instead of failing on the syntax.
//
// A host (`--serve`) runs the built JavaScript in out/host/ (bin/host-build.js) when it is a
// build of exactly these sources — type stripping would cost it ~17 MB for as long as it runs —
// and from source, with a note on stderr, when there is no such build. It runs with the small
// young generation of docs/hosting.md (--max-semi-space-size=2) in a fresh process image that
// replaces this one (same pid, for systemd and signals): checking the build stats ~300 files
// and hashes, which leaves ~10 MB of RSS behind (V8 optimising Node's own fs and path code) that
// the host should not carry for the rest of its life.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import process from 'node:process';
import { URL, fileURLToPath, pathToFileURL } from 'node:url';

const source = fileURLToPath(new URL('../src-main/index.ts', import.meta.url));
const args = process.argv.slice(2);
const modern = Number(process.versions.node.split('.')[0]) >= 24;
const serve = args.includes('--serve');
const HOST_FLAGS = ['--max-semi-space-size=2'];

let entry = source;
if (serve) {
  const { freshBuild } = await import('./host-build.js');
  const build = freshBuild();
  if ('entry' in build) entry = build.entry;
  else {
    process.stderr.write(
      `parley: ${build.reason}: running the host from source (type stripping, ~17 MB more ` +
        'memory); "npm run build:host" builds it\n',
    );
  }
}
const flags = serve ? HOST_FLAGS : [];

if (modern && !serve) {
  await import(pathToFileURL(entry).href);
} else {
  const node = modern
    ? process.execPath
    : fileURLToPath(new URL('../node_modules/.bin/node', import.meta.url));
  if (!existsSync(node)) {
    process.stderr.write(
      `parley: needs Node 24 (this is Node ${process.versions.node}); run "npm install" in the ` +
        'checkout first: it puts Node 24 in node_modules\n',
    );
    process.exit(1);
  }
  if (modern && typeof process.execve === 'function') {
    // One process, not a launcher waiting beside the host: its memory, its signals, its pid.
    // Node options given to this one (`node --inspect bin/parley.js`) are kept.
    const options = [...new Set([...process.execArgv, ...flags])];
    process.execve(node, [node, ...options, entry, ...args], process.env);
  }
  const child = spawn(node, [...flags, entry, ...args], { stdio: 'inherit' });
  // The child gets SIGINT from the terminal itself; a SIGTERM sent to us is passed on.
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => {
    process.exitCode = code ?? 128 + (signal ? constants.signals[signal] : 0);
  });
}
