#!/usr/bin/env node
// `npx parley …` in a checkout (package.json "bin"). Parley is TypeScript that Node 24 runs as
// is; npx puts node_modules/.bin first on PATH, so the `node` above is the Node 24 that
// `npm install` put there (the `node` devDependency). Started by an older Node (e.g. the
// system's Node 20), this hands over to that Node 24 instead of failing on the syntax.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import process from 'node:process';
import { URL, fileURLToPath } from 'node:url';

const entry = new URL('../src-main/index.ts', import.meta.url);
const args = process.argv.slice(2);
const modern = Number(process.versions.node.split('.')[0]) >= 24;
// A host runs with the small young generation `npm run serve` gives it (docs/hosting.md).
const serve = args.includes('--serve');

if (modern && !serve) {
  await import(entry.href);
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
  const flags = serve ? ['--max-semi-space-size=2'] : [];
  const child = spawn(node, [...flags, fileURLToPath(entry), ...args], { stdio: 'inherit' });
  // The child gets SIGINT from the terminal itself; a SIGTERM sent to us is passed on.
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => {
    process.exitCode = code ?? 128 + (signal ? constants.signals[signal] : 0);
  });
}
