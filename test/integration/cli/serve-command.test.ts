import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseInvite } from '../../../src-shared/invite.ts';
import { fingerprint } from '../../../src-shared/fingerprint.ts';
import { type Proc, run, serve } from '../../support/processes.ts';
import { connectWireClient } from '../../support/wire-client.ts';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const dirs: string[] = [];
const procs: Proc[] = [];
afterEach(() => {
  for (const p of procs.splice(0)) p.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'parley-serve-'));
  dirs.push(d);
  return d;
};

describe('parley --serve', () => {
  it('prints per room an owner invite, a member invite and its link; a restart only the links', async () => {
    const dataDir = tempDir();
    const first = await serve(dataDir, [
      '--room',
      'lobby',
      '--room',
      'dev',
      '--public-host',
      'chat.example.org',
    ]);
    procs.push(first.proc);
    await first.proc.waitForLine(/^link .*\/dev#/);
    expect(first.proc.stdout).toContain(`data ${dataDir}`);
    const rooms = first.proc.stdout.filter((l) => /^(owner-invite|invite|link) /.test(l));
    expect(rooms.map((l) => l.split(' ')[0])).toEqual([
      ...['owner-invite', 'invite', 'link'],
      ...['owner-invite', 'invite', 'link'],
    ]);
    const parsed = rooms.map((l) => {
      const invite = parseInvite(l.split(' ')[1] ?? '');
      if (!invite.ok) throw new Error(invite.error.message);
      return invite.value;
    });
    expect(parsed.map((i) => i.room)).toEqual(['lobby', 'lobby', 'lobby', 'dev', 'dev', 'dev']);
    expect(parsed.map((i) => i.token !== undefined)).toEqual([
      true,
      true,
      false,
      true,
      true,
      false,
    ]);
    expect(parsed[0]).toMatchObject({ host: 'chat.example.org', port: first.port });
    expect(fingerprint(parsed[0]!.hostKey)).toBe(first.fingerprint);
    expect(first.memberInvite).toBe(rooms[1]?.slice('invite '.length));
    expect(statSync(join(dataDir, 'host.key')).mode & 0o777).toBe(0o600);
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);

    // Whoever opens the owner invite owns the room; then a restart has nothing new to print.
    const alice = await connectWireClient(first.port, parsed[0]!.hostKey, 'alice');
    expect(await alice.redeem(rooms[0]!)).toMatchObject({ t: 'redeemed', role: 'owner' });
    expect(await alice.redeem(rooms[3]!)).toMatchObject({ t: 'redeemed', role: 'owner' });
    alice.close();
    first.proc.kill('SIGTERM');
    expect(await first.proc.exited()).toEqual({ code: 0, signal: null });
    const second = await serve(dataDir, ['--room', 'lobby', '--room', 'dev']);
    procs.push(second.proc);
    await second.proc.waitForLine(/^link .*\/dev#/);
    expect(second.fingerprint).toBe(first.fingerprint);
    expect(second.proc.stdout.filter((l) => /^(owner-invite|invite|link) /.test(l))).toEqual([
      expect.stringMatching(/^link parley:\/\/[^?]*\/lobby#/),
      expect.stringMatching(/^link parley:\/\/[^?]*\/dev#/),
    ]);
    expect(second.memberInvite).toBeUndefined();
  });

  it('--open: anyone who connects may join, with the link alone', async () => {
    const host = await serve(tempDir(), ['--open']);
    procs.push(host.proc);
    const link = parseInvite(host.link);
    if (!link.ok) throw new Error(link.error.message);
    expect(link.value.token).toBeUndefined();
    const walker = await connectWireClient(host.port, link.value.hostKey, 'walker');
    expect(walker.hostInfo.rooms).toEqual(['lobby']);
    await walker.join('lobby');
    await walker.waitFor('room', (m) => m.info.room === 'lobby' && m.info.role === 'member');
    walker.close();
  });

  it('without --open a link alone admits nobody new', async () => {
    const host = await serve(tempDir());
    procs.push(host.proc);
    const link = parseInvite(host.link);
    if (!link.ok) throw new Error(link.error.message);
    const eve = await connectWireClient(host.port, link.value.hostKey, 'eve');
    expect(eve.hostInfo.rooms).toEqual([]);
    await expect(eve.join('lobby')).rejects.toThrow(/unknown-room/);
    eve.close();
  });

  it('shuts down on SIGTERM within seconds: clients are told why and exit code is 0', async () => {
    const host = await serve(tempDir());
    procs.push(host.proc);
    const invite = parseInvite(host.invite);
    if (!invite.ok) throw new Error(invite.error.message);
    const alice = await connectWireClient(host.port, invite.value.hostKey, 'alice');
    await alice.waitFor('welcome');
    const started = Date.now();
    host.proc.kill('SIGTERM');
    expect(await alice.closed).toMatchObject({ by: 'peer', code: 'shutdown' });
    expect(await host.proc.exited()).toEqual({ code: 0, signal: null });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(host.proc.stderr.join('\n')).toMatch(/shutdown-requested signal=SIGTERM/);
  });

  it('shuts down gracefully when Ctrl-C arrives twice (the terminal and `npx parley` both send it)', async () => {
    const host = await serve(tempDir());
    procs.push(host.proc);
    const invite = parseInvite(host.invite);
    if (!invite.ok) throw new Error(invite.error.message);
    const alice = await connectWireClient(host.port, invite.value.hostKey, 'alice');
    await alice.waitFor('welcome');
    // A connection that never finishes its handshake keeps the shutdown waiting (up to 2 s),
    // so the second signal lands while the host is still shutting down.
    const stalled = net.connect(host.port, '127.0.0.1');
    stalled.on('error', () => undefined);
    await once(stalled, 'connect');
    host.proc.kill('SIGINT');
    expect(await alice.closed).toMatchObject({ by: 'peer', code: 'shutdown' });
    host.proc.kill('SIGINT');
    expect(await host.proc.exited()).toEqual({ code: 0, signal: null });
    stalled.destroy();
  });

  it('never logs message text', async () => {
    // Plaintext rooms: the host reads their text, so that is where a log could leak it (in an
    // end-to-end encrypted room the host never has the text: line-client-e2ee.test.ts).
    const host = await serve(tempDir(), ['--log-level', 'debug', '--no-e2ee']);
    procs.push(host.proc);
    const invite = parseInvite(host.invite);
    if (!invite.ok) throw new Error(invite.error.message);
    const alice = await connectWireClient(host.port, invite.value.hostKey, 'alice');
    await alice.redeem(host.invite);
    alice.send({ t: 'join', room: 'lobby' });
    alice.send({
      t: 'send',
      room: 'lobby',
      id: 'secret-message-1',
      text: 'the password is hunter2',
    });
    await alice.waitFor('ack');
    alice.close();
    host.proc.kill('SIGTERM');
    await host.proc.exited();
    const logs = host.proc.stderr.join('\n');
    expect(logs).toMatch(/client-joined/);
    expect(logs).not.toMatch(/hunter2/);
    // Nor the invites' secrets.
    for (const line of host.proc.stdout.filter((l) => /invite /.test(l))) {
      const token = /invite=([^#]+)/.exec(line)?.[1];
      expect(token).toBeDefined();
      expect(logs).not.toContain(token);
    }
  });

  it.each([
    [['--serve', '--bogus'], /unknown option '--bogus'/],
    [['--serve', '--port', 'abc'], /--port must be a whole number/],
    [['--serve', '--room', 'Not A Room'], /is not a room name/],
    [['--serve', '--room', 'dm.0123456789abcdef0123456789abcdef'], /are for direct messages/],
    [['--serve', '--history', '0'], /--history must be/],
    [['--serve', 'stray'], /positional|unexpected/i],
    [['--serve', '--data-dir', ''], /--data-dir must name a folder/],
    [['--serve', '--public-host', 'bad host!'], /--public-host must be a host name/],
    [['--serve', '--public-host', 'example.org:80'], /--public-host must be a host name/],
    [['--serve', '--port'], /^parley --serve: --port needs a port number$/m],
    [['--serve', '--port', '1', '--port', '2'], /--port was given more than once/],
    [['--bogus'], /^parley: unknown option '--bogus'$/m],
    [['--nick', 'alice'], /^parley: '--nick' belongs to a mode: add --connect TARGET or --serve$/m],
  ])('refuses %j with a clear message and exit code 2', async (args, message) => {
    const proc = run(args);
    expect((await proc.exited()).code).toBe(2);
    expect(proc.stderr.join('\n')).toMatch(message);
  });

  it('runs as `npx parley --serve` in a checkout, even when the Node on PATH is older', async () => {
    // As a user types it: no node_modules/.bin on PATH; npx finds the package's bin.
    const PATH = (process.env['PATH'] ?? '')
      .split(delimiter)
      .filter((dir) => !dir.includes('node_modules'))
      .join(delimiter);
    const started = (command: string, args: string[]) => {
      const dataDir = tempDir();
      const child = spawn(
        command,
        [...args, '--serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir],
        {
          cwd: ROOT,
          env: { ...process.env, PATH },
          detached: true,
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let out = '';
      let err = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      const exited = once(child, 'exit');
      return {
        dataDir,
        output: () => out,
        async lines(timeoutMs = 60_000) {
          const start = Date.now();
          while (!/^invite /m.test(out)) {
            if (Date.now() - start > timeoutMs || child.exitCode !== null) {
              throw new Error(`no invite line from ${command}:\n${out}\n${err}`);
            }
            await new Promise((r) => setTimeout(r, 50));
          }
          return out.split('\n');
        },
        async stop() {
          if (child.exitCode !== null || child.pid === undefined) return;
          process.kill(-child.pid, 'SIGTERM'); // npx and its children
          await exited;
        },
      };
    };

    const viaNpx = started('npx', ['--offline', 'parley']);
    try {
      const lines = await viaNpx.lines();
      expect(lines).toContain(`data ${viaNpx.dataDir}`);
      expect(lines.some((l) => /^listening 127\.0\.0\.1:\d+$/.test(l))).toBe(true);
    } finally {
      await viaNpx.stop();
    }

    // A Node older than 24 first on PATH (the system's, here): the bin hands over to Node 24.
    const older = PATH.split(delimiter)
      .map((dir) => join(dir, 'node'))
      .find((candidate) => existsSync(candidate));
    if (!older) return;
    const viaOldNode = started(older, [join(ROOT, 'bin', 'parley.js')]);
    try {
      expect(await viaOldNode.lines()).toContain(`data ${viaOldNode.dataDir}`);
    } finally {
      await viaOldNode.stop();
    }
  }, 120_000);

  it('prints help with exit code 0', async () => {
    const proc = run(['--serve', '--help']);
    expect((await proc.exited()).code).toBe(0);
    expect(proc.stdout.join('\n')).toMatch(/--public-host/);
  });

  it('says clearly when the port is taken', async () => {
    const host = await serve(tempDir());
    procs.push(host.proc);
    const proc = run([
      '--serve',
      '--host',
      '127.0.0.1',
      '--port',
      String(host.port),
      '--data-dir',
      tempDir(),
    ]);
    expect((await proc.exited()).code).toBe(1);
    expect(proc.stderr.join('\n')).toMatch(/already in use/);
  });
});
