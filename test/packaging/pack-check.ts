// Offline packaging check: build, pack with electron-builder against a placeholder Electron
// (no download), then inspect app.asar. Run with `npm run test:pack`.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix, resolve } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { extractFile, listPackage } from '@electron/asar';
import { FuseV1Options, getCurrentFuseWire } from '@electron/fuses';

const root = resolve(import.meta.dirname, '../..');
const asarPath = join(root, 'dist/linux-unpacked/resources/app.asar');
const packedBinary = join(root, 'dist/linux-unpacked/parley');

interface Manifest {
  main?: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}
const readManifest = (path: string): Manifest => JSON.parse(readFileSync(path, 'utf8')) as Manifest;

function run(label: string, script: string, args: string[], env = process.env): number {
  const started = performance.now();
  // process.execPath: the same Node 24 that runs this check, whatever `node` is on PATH.
  const result = spawnSync(process.execPath, [join(root, script), ...args], {
    cwd: root,
    env,
    encoding: 'utf8',
  });
  const ms = Math.round(performance.now() - started);
  if (result.status !== 0) {
    process.stderr.write(`${result.stdout}${result.stderr}`);
    console.error(`FAIL: ${label} exited with ${result.status ?? result.signal}`);
    process.exit(1);
  }
  console.log(`ok   ${label} (${ms} ms)`);
  return ms;
}

// The fuse sentinel Electron compiles into its binary, followed by the wire: version 1, the
// number of fuses, then one byte per fuse ('0' off, '1' on). @electron/fuses finds the wire by
// this sentinel, so the placeholder carries one with Electron's own defaults (the insecure
// ones on), and electron-builder flips it exactly as it would flip the real binary's.
const FUSE_SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';
const ELECTRON_DEFAULT_FUSES = '10110001'; // RunAsNode, cookie encryption, NODE_OPTIONS, …
const FUSE_OFF = '0'.charCodeAt(0);
const FUSE_ON = '1'.charCodeAt(0);

// A stand-in for the Electron distribution: electron-builder only copies it, reads `version`
// and flips the fuses in it, so nothing is downloaded.
function placeholderElectron(): string {
  const dir = mkdtempSync(join(tmpdir(), 'parley-electron-dist-'));
  const { version } = JSON.parse(
    readFileSync(join(root, 'node_modules/electron/package.json'), 'utf8'),
  ) as { version: string };
  const script = Buffer.from('#!/bin/sh\necho "placeholder Electron" >&2\nexit 1\n# ');
  const wire = Buffer.concat([
    Buffer.from(FUSE_SENTINEL),
    Buffer.from([1, ELECTRON_DEFAULT_FUSES.length]),
    Buffer.from(ELECTRON_DEFAULT_FUSES),
    Buffer.from('\n'),
  ]);
  writeFileSync(join(dir, 'electron'), Buffer.concat([script, wire]), { mode: 0o755 });
  writeFileSync(join(dir, 'version'), `v${version}`);
  return dir;
}

/** The fuses electron-builder.yml asks for, read back from the packed binary. */
async function checkFuses(): Promise<void> {
  const wire = await getCurrentFuseWire(packedBinary);
  const expected: [FuseV1Options, number][] = [
    [FuseV1Options.RunAsNode, FUSE_OFF],
    [FuseV1Options.EnableNodeOptionsEnvironmentVariable, FUSE_OFF],
    [FuseV1Options.EnableNodeCliInspectArguments, FUSE_OFF],
    [FuseV1Options.OnlyLoadAppFromAsar, FUSE_ON],
    [FuseV1Options.EnableEmbeddedAsarIntegrityValidation, FUSE_ON],
  ];
  const shown = (state: unknown): string =>
    state === FUSE_ON ? 'on' : state === FUSE_OFF ? 'off' : String(state);
  const wrong = expected.filter(([fuse, state]) => wire[fuse] !== state);
  for (const [fuse, state] of wrong) {
    check(
      false,
      `fuse ${FuseV1Options[fuse]} is ${shown(wire[fuse])} in the packed binary, expected ${shown(state)}`,
    );
  }
  console.log(
    `${wrong.length === 0 ? 'ok  ' : 'FAIL'} fuses: ${expected.map(([fuse]) => `${FuseV1Options[fuse]} ${shown(wire[fuse])}`).join(', ')}`,
  );
}

// Runtime dependencies and everything they depend on, as installed.
function runtimeClosure(manifest: Manifest): Set<string> {
  const seen = new Set<string>();
  const queue = Object.keys(manifest.dependencies ?? {});
  for (let name = queue.pop(); name !== undefined; name = queue.pop()) {
    if (seen.has(name)) continue;
    seen.add(name);
    queue.push(
      ...Object.keys(
        readManifest(join(root, 'node_modules', name, 'package.json')).dependencies ?? {},
      ),
    );
  }
  return seen;
}

// Files the main entry loads statically (relative imports only, followed through chunks).
// Dynamic import() is not followed: that is how the desktop branch stays out of `--serve`.
function staticImportGraph(entry: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const pending = [entry];
  for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
    if (graph.has(file)) continue;
    const code = extractFile(asarPath, file).toString('utf8');
    const specifiers = [
      ...code.matchAll(/\b(?:import|export)\s*(?:[\w$*{}\s,]+?\s*from\s*)?["']([^"']+)["']/g),
    ].map((match) => match[1] ?? '');
    graph.set(file, specifiers);
    for (const specifier of specifiers) {
      if (specifier.startsWith('.')) pending.push(posix.join(posix.dirname(file), specifier));
    }
  }
  return graph;
}

/**
 * The bundle's `--serve`, under plain Node, hosts for real: a message sent by the bundle's own
 * line client ends up in the host's history — as MLS ciphertext, the room being end-to-end
 * encrypted, so the bundle's lazily loaded MLS library works too. Reading the bundle cannot
 * show that it runs.
 */
async function checkBundledHost(): Promise<void> {
  const started = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'parley-bundled-host-'));
  const index = join(root, 'out/main/index.js');
  const host = spawn(
    process.execPath,
    [index, '--serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', join(dir, 'host')],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  try {
    const invite = await new Promise<string>((resolve, reject) => {
      let out = '';
      host.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString('utf8');
        const found = /^invite (\S+)$/m.exec(out)?.[1];
        if (found) resolve(found);
      });
      host.once('exit', (code) => reject(new Error(`the bundled host exited with ${code}`)));
      setTimeout(
        () => reject(new Error('the bundled host printed no invite in 10 s')),
        10_000,
      ).unref();
    });
    const client = spawnSync(
      process.execPath,
      [index, '--connect', invite, '--nick', 'packcheck', '--data-dir', join(dir, 'client')],
      { input: 'stored by the bundle\n', encoding: 'utf8', timeout: 15_000 },
    );
    check(client.status === 0, `the bundled line client exited with ${client.status}`);
  } finally {
    host.kill('SIGTERM');
    if (host.exitCode === null) await once(host, 'exit');
  }
  const db = new DatabaseSync(join(dir, 'host', 'history.sqlite'), { readOnly: true });
  // Room events (the room's creation, the invited client joining) and the group's commits
  // share the table; the message is the one row of kind 'mls'.
  const rows = db.prepare('SELECT kind, text, mls FROM messages WHERE event IS NULL').all();
  db.close();
  rmSync(dir, { recursive: true, force: true });
  const messages = rows.filter((row) => row['kind'] === 'mls');
  const plain = rows.filter((row) => JSON.stringify(row).includes('stored by the bundle'));
  check(
    messages.length === 1 && typeof messages[0]?.['mls'] === 'string' && plain.length === 0,
    `the bundled host stored ${JSON.stringify(rows.map((row) => row['kind']))} instead of ` +
      'one end-to-end encrypted message (or stored its text)',
  );
  console.log(
    `ok   bundled --serve stores an encrypted message (${Math.round(performance.now() - started)} ms)`,
  );
}

const failures: string[] = [];
const check = (ok: boolean, message: string): void => {
  if (!ok) failures.push(message);
};

const started = performance.now();
const manifest = readManifest(join(root, 'package.json'));
const electronDist = placeholderElectron();
rmSync(join(root, 'dist/linux-unpacked'), { recursive: true, force: true });

run('electron-vite build', 'node_modules/electron-vite/bin/electron-vite.js', ['build']);
await checkBundledHost();
const unreachable = 'http://127.0.0.1:9';
run(
  'electron-builder --dir --linux',
  'node_modules/electron-builder/cli.js',
  ['--dir', '--linux', '--publish', 'never', `-c.electronDist=${electronDist}`],
  // Any download attempt fails at once instead of reaching the network.
  {
    ...process.env,
    HTTPS_PROXY: unreachable,
    HTTP_PROXY: unreachable,
    https_proxy: unreachable,
    http_proxy: unreachable,
    NO_PROXY: '',
    no_proxy: '',
    npm_config_offline: 'true',
  },
);
rmSync(electronDist, { recursive: true, force: true });
await checkFuses();

// listPackage returns paths like "/out/main/index.js" (directories included).
const entries = new Set(listPackage(asarPath, { isPack: false }).map((p) => p.replace(/^\//, '')));
const runtime = runtimeClosure(manifest);
const packedModules = new Set(
  [...entries]
    .map((p) => /^node_modules\/(@[^/]+\/[^/]+|[^@/][^/]*)/.exec(p)?.[1])
    .filter((name): name is string => name !== undefined),
);

const required = [
  'package.json',
  'out/main/index.js',
  'out/preload/preload.cjs',
  'out/renderer/index.html',
  ...[...runtime].map((name) => `node_modules/${name}/package.json`),
];
for (const path of required) check(entries.has(path), `missing from app.asar: ${path}`);

const packagedMain = JSON.parse(extractFile(asarPath, 'package.json').toString('utf8')) as Manifest;
check(
  packagedMain.main !== undefined && entries.has(posix.normalize(packagedMain.main)),
  `package.json "main" (${packagedMain.main}) is not in app.asar`,
);

const allowedTopLevel = new Set(['out', 'node_modules', 'package.json']);
for (const path of entries) {
  const top = path.split('/')[0] ?? '';
  check(allowedTopLevel.has(top), `unexpected file in app.asar: ${path}`);
  check(!/\.(?:[cm]?tsx?|map|svelte)$/.test(path), `source or map file in app.asar: ${path}`);
}
for (const name of packedModules) {
  check(runtime.has(name), `node_modules/${name} is in app.asar but is not a runtime dependency`);
}
for (const name of Object.keys(manifest.devDependencies ?? {})) {
  if (!runtime.has(name)) check(!packedModules.has(name), `devDependency in app.asar: ${name}`);
}

// `parley --serve` runs out/main/index.js under plain Node, where 'electron' throws.
if (packagedMain.main !== undefined && entries.has(posix.normalize(packagedMain.main))) {
  for (const [file, specifiers] of staticImportGraph(posix.normalize(packagedMain.main))) {
    const electron = specifiers.filter((s) => s === 'electron' || s.startsWith('electron/'));
    check(electron.length === 0, `${file} statically imports electron (breaks --serve)`);
  }
}

const seconds = ((performance.now() - started) / 1000).toFixed(1);
console.log(
  `     app.asar: ${entries.size} entries; modules: ${[...packedModules].sort().join(', ')}`,
);
if (failures.length > 0) {
  for (const failure of failures) console.error(`FAIL: ${failure}`);
  console.error(`pack check failed: ${failures.length} problem(s) (${seconds} s)`);
  process.exit(1);
}
console.log(`pack check passed (${seconds} s)`);
