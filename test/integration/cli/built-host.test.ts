// `parley --serve` from the built JavaScript (out/host, `npm run build:host`), and what happens
// when the sources change after the build. Each test works on a copy of the checkout's code in
// a temporary folder (node_modules linked), so building it races with nobody's edits.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseInvite } from '../../../src-shared/invite.ts';
import { connectWireClient } from '../../support/wire-client.ts';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const COPIED = ['bin', 'src-main', 'src-shared', 'scripts/build-host.ts', 'package.json'];
const FROM_SOURCE = /running the host from source/;

let checkout: string;
const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-built-data-'));
  dirs.push(dir);
  return dir;
};

function build(): void {
  const result = spawnSync(process.execPath, [join(checkout, 'scripts/build-host.ts')], {
    cwd: checkout,
    encoding: 'utf8',
  });
  expect(result.status, result.stderr).toBe(0);
}

/** `node [flags] bin/parley.js args…` in the copy: stdout, stderr and the exit code. */
function parley(flags: string[], args: string[]) {
  const result = spawnSync(process.execPath, [...flags, join(checkout, 'bin/parley.js'), ...args], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { stdout: result.stdout, stderr: result.stderr, status: result.status };
}

beforeAll(() => {
  checkout = mkdtempSync(join(tmpdir(), 'parley-built-'));
  for (const path of COPIED) {
    mkdirSync(dirname(join(checkout, path)), { recursive: true });
    cpSync(join(ROOT, path), join(checkout, path), { recursive: true });
  }
  symlinkSync(join(ROOT, 'node_modules'), join(checkout, 'node_modules'));
  build();
}, 120_000);

afterAll(() => {
  rmSync(checkout, { recursive: true, force: true });
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/**
 * Starts the built host as `npm run serve` does and waits for its last start line. `stderr()`
 * reads what it has written there so far; `stop()` ends it.
 */
async function startBuiltHost(extraArgs: string[] = []) {
  const host = spawn(
    process.execPath,
    [
      '--max-semi-space-size=2',
      join(checkout, 'bin/parley.js'),
      '--serve',
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--data-dir',
      tempDir(),
      ...extraArgs,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  host.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const stop = async () => {
    host.kill('SIGTERM');
    if (host.exitCode === null) await once(host, 'exit');
  };
  try {
    const started = await new Promise<string>((resolve, reject) => {
      host.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString('utf8');
        if (/^link /m.test(stdout)) resolve(stdout);
      });
      host.once('exit', (code) => reject(new Error(`exited with ${code}: ${stderr}`)));
    });
    const port = Number(/^listening 127\.0\.0\.1:(\d+)$/m.exec(started)?.[1]);
    return { host, started, port, stderr: () => stderr, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

describe('the built host', () => {
  it('starts as `npm run serve` does, prints its fingerprint and invite, and serves a client', async () => {
    const { started, port, stderr, stop } = await startBuiltHost();
    try {
      expect(started).toMatch(/^fingerprint [A-Z2-7]{4}( [A-Z2-7]{4}){7}$/m);
      const invite = /^invite (\S+)$/m.exec(started)?.[1];
      expect(invite).toBeDefined();
      // The build was fresh: no fallback to type stripping.
      expect(stderr()).not.toMatch(FROM_SOURCE);

      const parsed = parseInvite(invite ?? '');
      if (!parsed.ok) throw new Error(parsed.error.message);
      const alice = await connectWireClient(port, parsed.value.hostKey, 'alice');
      expect(await alice.redeem(invite ?? '')).toMatchObject({ t: 'redeemed', role: 'member' });
      await alice.waitFor('room', (m) => m.info.room === 'lobby' && m.info.role === 'member');
      alice.close();
    } finally {
      await stop();
    }
  });

  // It loads its zod schemas with its first connection, not at start (serve-after-schemas.ts):
  // the connections that arrive while they load wait, and are served like any other.
  it('serves the connections that arrive together as its first ones, one of them reset', async () => {
    const { host, started, port, stderr, stop } = await startBuiltHost(['--open']);
    try {
      const link = parseInvite(/^link (\S+)$/m.exec(started)?.[1] ?? '');
      if (!link.ok) throw new Error(link.error.message);
      // First: a connection reset at once, while the schemas load (it must not take the host down).
      const reset = connect(port, '127.0.0.1', () => reset.resetAndDestroy());
      reset.on('error', () => {});
      const clients = await Promise.all(
        ['alice', 'bob', 'carol'].map((nick) => connectWireClient(port, link.value.hostKey, nick)),
      );
      for (const client of clients) {
        client.send({ t: 'join', room: 'lobby' });
        await client.waitFor('synced', (m) => m.room === 'lobby');
      }
      clients[0]?.send({ t: 'send', room: 'lobby', id: 'first-msg-1', text: 'hello' });
      await clients[2]?.waitFor('msg', (m) => m.text === 'hello');
      for (const client of clients) client.close();
      expect(host.exitCode).toBeNull();
      expect(stderr()).not.toMatch(/schemas-not-loaded|uncaught|Error/);
    } finally {
      await stop();
    }
  });

  it('is what runs, not the sources, while it is a build of them', () => {
    const dir = join(checkout, 'out/host');
    const built = readdirSync(dir)
      .map((name) => join(dir, name))
      .find(
        (path) => path.endsWith('.js') && readFileSync(path, 'utf8').includes('Hosts chat rooms.'),
      );
    if (built === undefined) throw new Error('no chunk of out/host holds the --serve help');
    const text = readFileSync(built, 'utf8');
    writeFileSync(built, text.replace('Hosts chat rooms.', 'Hosts chat rooms, from the build.'));
    const result = parley(['--max-semi-space-size=2'], ['--serve', '--help']);
    expect(result.stdout).toContain('Hosts chat rooms, from the build.');
    expect(result.stderr).toBe('');
  });

  it('is not run once a source changed after the build: the edit runs, with a note', () => {
    const serveCommand = join(checkout, 'src-main/cli/serve-command.ts');
    const original = readFileSync(serveCommand, 'utf8');
    expect(original).toContain('Hosts chat rooms.');
    writeFileSync(serveCommand, original.replace('Hosts chat rooms.', 'Hosts chat rooms, edited.'));
    // Without Node flags, as `npx parley` starts it: bin/parley.js re-executes with them.
    const stale = parley([], ['--serve', '--help']);
    expect(stale.status).toBe(0);
    expect(stale.stdout).toContain('Hosts chat rooms, edited.');
    expect(stale.stderr).toMatch(/the sources changed after the build/);
    expect(stale.stderr).toMatch(FROM_SOURCE);

    build();
    const rebuilt = parley([], ['--serve', '--help']);
    expect(rebuilt.stdout).toContain('Hosts chat rooms, edited.');
    expect(rebuilt.stderr).not.toMatch(FROM_SOURCE);
  }, 120_000);

  it('runs from source, with a note, when there is no build', () => {
    rmSync(join(checkout, 'out'), { recursive: true, force: true });
    const result = parley(['--max-semi-space-size=2'], ['--serve', '--help']);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('Usage: parley --serve');
    expect(result.stderr).toMatch(/no build in out\/host/);
  });
});
