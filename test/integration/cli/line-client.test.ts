import { describe, expect, it } from 'vitest';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { runConnect } from '../../../src-main/cli/connect-command.ts';
import { ChatSession } from '../../../src-main/client/chat-session.ts';
import { createHostVerifier } from '../../../src-main/client/host-trust.ts';
import type { ChatMessage } from '../../../src-main/protocol/wire/messages.ts';
import { type HostOptions, type RunningHost, startHost } from '../../../src-main/server/host.ts';
import { KnownHosts } from '../../../src-main/store/known-hosts.ts';
import { fakeMember, fakeMessage, startHostileHost } from '../../support/hostile-host.ts';
import { newKeyPair } from '../../support/loopback.ts';
import { TIME, type LineProcess, spawnLineClient } from './line-process.ts';
import { cleanupsAfterEach, until } from '../../support/lifecycle.ts';

// The line client as users and scripts run it: a real `node src-main/index.ts --connect`
// process against a real host on 127.0.0.1.

const cleanups = cleanupsAfterEach();

const tempDir = (prefix = 'parley-line-'): string => cleanups.tempDir(prefix);

async function host(options: Partial<HostOptions> = {}): Promise<RunningHost> {
  const h = await startHost({
    host: '127.0.0.1',
    port: 0,
    rooms: ['lobby', 'dev'],
    // The line client's input and output, not membership, are tested here: anyone may join
    // (line-client-membership.test.ts has private rooms).
    openRooms: true,
    limits: { messagesPerSecond: 1000, messageBurst: 1000 },
    ...options,
    dataDir: options.dataDir ?? tempDir('parley-host-'),
  });
  cleanups.push(() => h.stop());
  return h;
}

const lineClient = (args: string[], input?: string): LineProcess =>
  spawnLineClient(cleanups, args, { input, defaultTimeoutMs: 15_000 });

async function chatSession(h: RunningHost, nick: string, rooms = ['lobby']) {
  const address = h.address;
  const s = new ChatSession({
    address,
    identity: newKeyPair(),
    nick,
    rooms,
    trust: createHostVerifier({
      address,
      inviteKey: h.publicKey,
      knownHosts: await KnownHosts.load(join(tempDir(), 'known-hosts.json')),
      policy: { trustNewHost: false },
    }),
  });
  cleanups.push(() => s.stop());
  const messages: ChatMessage[] = [];
  s.on('message', (m) => messages.push(m));
  const synced = new Promise<void>((resolve) => s.on('synced', () => resolve()));
  s.start();
  await synced;
  return { s, messages };
}

describe('the line client (parley --connect)', () => {
  it('chats: prints one escaped line per event and sends each input line to the room', async () => {
    const h = await host({ name: 'Line test' });
    const alice = lineClient([
      '--connect',
      h.invite('lobby'),
      '--nick',
      'alice',
      '--data-dir',
      tempDir(),
    ]);
    const connected = await alice.waitForLine(/ connected to /);
    expect(connected).toMatch(
      new RegExp(
        `^\\*\\*\\* ${TIME} connected to 127\\.0\\.0\\.1:${h.address.port} as alice: ` +
          `host "Line test", fingerprint ${h.fingerprint} \\(pinned by invite, just now\\)$`,
      ),
    );
    await alice.waitForLine(/^\*\*\* \S+ #lobby synced: live messages follow$/);

    // A hostile sender cannot forge a line or reach the terminal.
    const mallory = await chatSession(h, 'mallory');
    await alice.waitForLine(/#lobby joined mallory \(/);
    mallory.s.send('lobby', 'hi\n*** 2026-01-01T00:00:00.000Z #lobby joined admin\x1b[2J\\');
    const forged = await alice.waitForLine(/mallory: hi/);
    expect(forged).toMatch(
      new RegExp(
        `^msg ${TIME} #lobby #\\d+ mallory: hi\\\\n\\*\\*\\* 2026-01-01T00:00:00\\.000Z #lobby joined admin\\\\x1b\\[2J\\\\\\\\$`,
      ),
    );
    expect(alice.lines.filter((l) => l.includes('joined admin'))).toHaveLength(1);

    alice.proc.stdin.write('hello from alice\n/who\n/frobnicate\n//slash\n');
    const received = () => mallory.messages.filter((m) => m.from === 'alice').map((m) => m.text);
    await until(() => received().length === 2, 'mallory gets two lines');
    expect(received()).toEqual(['hello from alice', '/slash']);
    await alice.waitForLine(/#lobby members 2: /);
    expect(await alice.waitForLine(/unknown command/)).toMatch(
      /^\*\*\* \S+ unknown command \/frobnicate: nothing was sent/,
    );

    mallory.s.setNick('mal');
    await alice.waitForLine(/#lobby renamed mallory \(\S.*\) to mal$/);
    alice.proc.stdin.write('/join dev\nin dev now\n');
    await alice.waitForLine(/^\*\*\* \S+ #dev synced/);
    alice.proc.stdin.end('/quit\n');
    expect(await alice.exited).toBe(0);
    expect(alice.stderr()).toBe('');
    const devSession = await chatSession(h, 'devreader', ['dev']);
    expect(devSession.messages.map((m) => m.text)).toContain('in dev now');
  });

  it('at the end of input waits for every line to be acknowledged, then exits 0', async () => {
    const h = await host();
    const reader = await chatSession(h, 'reader');
    const input = Array.from({ length: 200 }, (_, i) => `line ${i}`);
    const writer = lineClient(
      ['--connect', h.invite(), '--nick', 'writer', '--data-dir', tempDir()],
      input.join('\n') + '\n',
    );
    expect(await writer.exited).toBe(0);
    await until(() => reader.messages.length === 200, 'all 200 lines');
    expect(reader.messages.map((m) => m.text)).toEqual(input);
    expect(writer.stderr()).not.toMatch(/not acknowledged|refused|could not/);
  });

  it('delivers all of a piped input at the pace the host allows, with progress on stderr', async () => {
    // The host's default rate (10 per second, burst 30): 200 lines take about 20 s, longer
    // than any fixed wait; the client waits as long as the host keeps acknowledging.
    const h = await host({ limits: { messagesPerSecond: 10, messageBurst: 30 } });
    const reader = await chatSession(h, 'reader');
    const input = Array.from({ length: 200 }, (_, i) => String(i + 1));
    const writer = lineClient(
      ['--connect', h.invite(), '--nick', 'writer', '--data-dir', tempDir()],
      input.join('\n') + '\n',
    );
    expect(await writer.exited).toBe(0);
    await until(() => reader.messages.length === 200, 'all 200 lines');
    expect(reader.messages.map((m) => m.text)).toEqual(input);
    expect(writer.stderr()).toMatch(
      /^parley --connect: sending: \d+ acknowledged, \d+ waiting \(the host allows 10 per second\)$/m,
    );
    expect(writer.stderr()).not.toMatch(/not acknowledged|refused/);
  }, 90_000);

  it('exits 6 when it never connected, keeps unsent lines in the outbox, and sends them on the next run', async () => {
    const hostDir = tempDir('parley-host-');
    const gone = await host({ dataDir: hostDir });
    const invite = gone.invite();
    const port = gone.address.port;
    await gone.stop(); // nothing listens there any more
    const dataDir = tempDir();
    const runInProcess = async (input: string) => {
      const stdin = new PassThrough();
      const stdout = new PassThrough().resume();
      const stderr = new PassThrough();
      let err = '';
      stderr.on('data', (c: Buffer) => (err += c.toString()));
      stdin.end(input);
      const code = await runConnect(
        ['--connect', invite, '--nick', 'alice', '--data-dir', dataDir],
        {
          stdin,
          stdout,
          stderr,
          isTTY: false,
          env: {},
          drainTimeoutMs: 1000,
        },
      );
      return { code, err };
    };

    // Nothing to send, but never connected: not a success either.
    const empty = await runInProcess('');
    expect(empty.code).toBe(6);
    expect(empty.err).toMatch(
      /^parley --connect: could not connect to 127\.0\.0\.1:\d+: connection refused: nothing listens at that address and port \(ECONNREFUSED\)$/m,
    );
    expect(empty.err).not.toMatch(/handshake/);

    const first = await runInProcess('private words\nmore words\n');
    expect(first.code).toBe(6);
    const outbox = join(dataDir, 'outbox', `127.0.0.1_${port}.json`);
    expect(first.err).toContain(`2 messages not sent; kept in ${outbox} for the next run`);
    expect(first.err).not.toContain('private words');
    expect(statSync(outbox).mode & 0o777).toBe(0o600);

    // The host is back (same key, same port): the next run sends what was kept, first.
    const back = await host({ dataDir: hostDir, port });
    const reader = await chatSession(back, 'reader');
    const second = await runInProcess('third line\n');
    expect(second.err).toContain('2 messages from an earlier run wait in');
    expect(second.code).toBe(0);
    await until(() => reader.messages.length === 3, 'the kept lines and the new one');
    expect(reader.messages.map((m) => m.text)).toEqual([
      'private words',
      'more words',
      'third line',
    ]);
    expect(JSON.parse(readFileSync(outbox, 'utf8'))).toMatchObject({ entries: [] });
  }, 60_000);

  it('exits 1 when the host refused a message, or a line could not be sent at all', async () => {
    const refusing = await startHostileHost({
      onMessage: (c, m) => {
        if (m.t === 'send')
          c.send({ t: 'error', code: 'text-too-long', message: 'too long', ref: m.id });
      },
    });
    cleanups.push(() => refusing.close());
    const refused = lineClient(
      ['--connect', refusing.invite(), '--nick', 'alice', '--data-dir', tempDir()],
      'refused words\n',
    );
    expect(await refused.exited).toBe(1);
    expect(await refused.waitForLine(/error text-too-long/)).toMatch(
      /\(that message was not sent\)$/,
    );
    expect(refused.stderr()).toContain('1 message was refused and not sent');

    const h = await host();
    const tooLong = lineClient(
      ['--connect', h.invite(), '--nick', 'bob', '--data-dir', tempDir()],
      'x'.repeat(16 * 1024 + 1) + '\nfine\n',
    );
    expect(await tooLong.exited).toBe(1);
    expect(tooLong.stderr()).toContain('1 message was refused and not sent');
  });

  it('refuses an unknown host (exit 4) unless trusted, then refuses a changed key (exit 3)', async () => {
    const dataDir = tempDir();
    const first = await host();
    const target = `127.0.0.1:${first.address.port}`;

    const refused = lineClient(['--connect', target, '--nick', 'alice', '--data-dir', dataDir]);
    refused.proc.stdin.end('never sent\n');
    expect(await refused.exited).toBe(4);
    expect(refused.stderr()).toContain(first.fingerprint);
    expect(refused.stderr()).toContain('--trust-new-host');
    expect(refused.stderr()).not.toContain('never sent');

    const trusting = lineClient(
      ['--connect', target, '--nick', 'alice', '--data-dir', dataDir, '--trust-new-host'],
      'first message\n',
    );
    expect(await trusting.exited).toBe(0);
    expect(trusting.lines.join('\n')).toContain('(pinned on first use, just now)');
    const known = JSON.parse(readFileSync(join(dataDir, 'known-hosts.json'), 'utf8')) as {
      hosts: Record<string, { method: string }>;
    };
    expect(known.hosts[target]).toMatchObject({ method: 'first-use' });

    const port = first.address.port;
    await first.stop();
    const impostor = await host({ port });
    const fooled = lineClient(
      ['--connect', target, '--nick', 'alice', '--data-dir', dataDir, '--trust-new-host'],
      'secret plans\n',
    );
    expect(await fooled.exited).toBe(3);
    expect(fooled.stderr()).toContain(`expected fingerprint: ${first.fingerprint}`);
    expect(fooled.stderr()).toContain(`actual fingerprint:   ${impostor.fingerprint}`);
    expect(fooled.stderr()).not.toContain('secret plans');
    expect(impostor.clientCount).toBe(0);
  });

  it('says the invite link names another key than the host has, not that a pin changed', async () => {
    const h = await host();
    const other = await host();
    // The address of one host with the key of the other: a stale or tampered invite.
    const invite = h.invite().replace(/#.*$/, other.invite().replace(/^.*#/, '#'));
    const dataDir = tempDir();
    const client = lineClient(
      ['--connect', invite, '--nick', 'alice', '--data-dir', dataDir],
      'hi\n',
    );
    expect(await client.exited).toBe(3);
    const err = client.stderr();
    expect(err).toContain(
      `the host at 127.0.0.1:${h.address.port} does not have the key in the invite link`,
    );
    expect(err).toContain(`the invite's fingerprint: ${other.fingerprint}`);
    expect(err).toContain(`the host's fingerprint:   ${h.fingerprint}`);
    expect(err).not.toMatch(/HAS CHANGED|known-hosts/);
    // The line was never sent; it waits, on disk, for a host with the right key.
    const outbox = join(dataDir, 'outbox', `127.0.0.1_${h.address.port}.json`);
    expect(err).toContain(`1 message not sent; kept in ${outbox} for the next run`);
    expect(JSON.parse(readFileSync(outbox, 'utf8'))).toMatchObject({ entries: [{ text: 'hi' }] });
  });

  it('exits 5 when the nickname belongs to another key, and 2 on bad arguments', async () => {
    const h = await host();
    await chatSession(h, 'alice');
    const taken = lineClient(
      ['--connect', h.invite(), '--nick', 'alice', '--data-dir', tempDir()],
      'hello\n',
    );
    expect(await taken.exited).toBe(5);
    expect(taken.stderr()).toMatch(/alice.*belongs to another key/);

    const bad = lineClient(['--connect', h.invite(), '--nick', 'alice', '--port', '1'], '');
    expect(await bad.exited).toBe(2);
    expect(bad.stderr()).toContain("unknown option '--port'");
  });

  it('on a terminal, asks before trusting an unknown host (default no)', async () => {
    const h = await host();
    const target = `127.0.0.1:${h.address.port}`;
    const ask = async (answer: string, dataDir: string) => {
      const stdin = new PassThrough();
      const stdout = new PassThrough();
      const stderr = new PassThrough();
      let out = '';
      let err = '';
      stdout.on('data', (c: Buffer) => (out += c.toString()));
      stderr.on('data', (c: Buffer) => {
        err += c.toString();
        if (err.endsWith('[y/N] ')) stdin.write(`${answer}\n`);
      });
      const code = runConnect(['--connect', target, '--nick', 'tty', '--data-dir', dataDir], {
        stdin,
        stdout,
        stderr,
        isTTY: true,
        env: {},
      });
      await until(() => out.includes('synced') || err.includes('not trusted'), 'an outcome');
      stdin.end();
      return { code: await code, out, err };
    };
    const no = await ask('', tempDir());
    expect(no.code).toBe(4);
    expect(no.err).toContain(h.fingerprint);
    const dataDir = tempDir();
    const yes = await ask('y', dataDir);
    expect(yes.code).toBe(0);
    expect(yes.out).toContain(`fingerprint ${h.fingerprint} (pinned on first use, just now)`);
    expect((await KnownHosts.load(join(dataDir, 'known-hosts.json'))).get(h.address)?.key).toEqual(
      h.publicKey,
    );
  });
});

describe('the line client and rooms', () => {
  it('/join of a room the host does not have sends the lines meant for it nowhere', async () => {
    const h = await host();
    const reader = await chatSession(h, 'reader');
    // Piped: the lines after /join were meant for that room, so they must not reach the lobby.
    const piped = lineClient(
      ['--connect', h.invite(), '--nick', 'piped', '--data-dir', tempDir()],
      '/join nowhere\nmeant for nowhere\n/join lobby\nback in lobby\n',
    );
    expect(await piped.exited).toBe(1); // a line was not sent
    const out = piped.lines.join('\n');
    expect(out).toMatch(
      new RegExp(
        `^\\*\\*\\* ${TIME} cannot join nowhere: no such room, or a private one you are not a member of; ` +
          'you may join #dev, #lobby; no room is current \\(/join lobby to talk there again\\)$',
        'm',
      ),
    );
    expect(out).toMatch(/error no-room: that message was not sent: \/join nowhere failed/);

    // Typed: the room list is known by then.
    const typed = lineClient(['--connect', h.invite(), '--nick', 'typed', '--data-dir', tempDir()]);
    await typed.waitForLine(/#lobby synced/);
    typed.proc.stdin.write('/join nowhere\n');
    await typed.waitForLine(/cannot join nowhere: no such room, .*; no room is current/);
    typed.proc.stdin.write('typed for nowhere\n');
    await typed.waitForLine(/error no-room: that message was not sent/);
    typed.proc.stdin.end('/join lobby\ntyped in lobby\n');
    expect(await typed.exited).toBe(1);
    await until(() => reader.messages.length === 2, 'the lines meant for the lobby');
    expect(reader.messages.map((m) => [m.room, m.text])).toEqual([
      ['lobby', 'back in lobby'],
      ['lobby', 'typed in lobby'],
    ]);
  });

  it('an invite for a room the host does not have exits 7 and lists the rooms', async () => {
    const h = await host();
    const invite = h.link().replace('/lobby#', '/nowhere#');
    const dataDir = tempDir();
    const client = lineClient(
      ['--connect', invite, '--nick', 'alice', '--data-dir', dataDir],
      'hello\n',
    );
    expect(await client.exited).toBe(7);
    expect(client.stderr()).toContain(
      `cannot join #nowhere on 127.0.0.1:${h.address.port}: no such room, or a private one you ` +
        'are not a member of (ask for an invite); you may join #dev, #lobby; 1 message not sent',
    );
    // The line can never be sent: it does not wait in the outbox for a next run.
    const outbox = join(dataDir, 'outbox', `127.0.0.1_${h.address.port}.json`);
    expect(JSON.parse(readFileSync(outbox, 'utf8'))).toMatchObject({ entries: [] });
  });

  it('a clean /quit shows as left to the others, not disconnected', async () => {
    const h = await host();
    const watcher = await chatSession(h, 'watcher');
    const events: string[] = [];
    watcher.s.on('presence', (p) => events.push(`${p.event} ${p.nick}`));
    const alice = lineClient(['--connect', h.invite(), '--nick', 'alice', '--data-dir', tempDir()]);
    await alice.waitForLine(/#lobby synced/);
    await until(() => events.includes('joined alice'), 'alice joins');
    alice.proc.stdin.write('/quit\n'); // stdin stays open: /quit alone ends the session
    expect(await alice.exited).toBe(0);
    await until(() => events.length === 2, 'alice goes');
    expect(events).toEqual(['joined alice', 'left alice']);
  });
});

/** The line client in this process, with a short wait for progress at the end of input. */
async function runInProcess(argv: string[], input: string, drainTimeoutMs = 1500) {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  stdin.end(input);
  const started = Date.now();
  const code = await runConnect(argv, {
    stdin,
    stdout,
    stderr,
    isTTY: false,
    env: {},
    drainTimeoutMs,
  });
  return { code, out, err, ms: Date.now() - started };
}

describe('the line client against a hostile host', () => {
  it('exit codes tell the truth: a host that never acknowledges, one that drops us after every join, one that never welcomes', async () => {
    const swallowing = await startHostileHost(); // joins fine, ignores every send
    const neverAcked = await runInProcess(
      ['--connect', swallowing.invite(), '--nick', 'alice', '--data-dir', tempDir()],
      'into the void\n',
    );
    expect(neverAcked.code).toBe(1);
    expect(neverAcked.err).toMatch(
      /1 message was not acknowledged by the host; kept in \S+ for the next run/,
    );

    const cycling = await startHostileHost({
      onJoin: (c, room) => {
        c.send({ t: 'joined', room });
        c.send({ t: 'synced', room });
        c.close('shutdown', 'come back later');
      },
    });
    const dropped = await runInProcess(
      ['--connect', cycling.invite(), '--nick', 'alice', '--data-dir', tempDir()],
      'never acknowledged\n',
    );
    expect(dropped.code).toBe(1);
    expect(cycling.connections.length).toBeGreaterThan(1);
    expect(dropped.ms).toBeLessThan(30_000);

    const silent = await startHostileHost({ welcome: false });
    const neverWelcomed = await runInProcess(
      ['--connect', silent.invite(), '--nick', 'alice', '--data-dir', tempDir()],
      'hello?\n',
    );
    expect(neverWelcomed.code).toBe(6);
    expect(neverWelcomed.err).toMatch(/could not connect to 127\.0\.0\.1:\d+/);
    for (const h of [swallowing, cycling, silent]) await h.close();
  }, 90_000);

  // Anything a terminal would act on: C0/C1 controls (ESC, BEL, CR…), DEL, bidi overrides.
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  const UNSAFE_OUTPUT = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/u;
  const EVENT_LINE = new RegExp(`^(?:msg|history) (?:${TIME}|invalid-time) #|^\\*\\*\\* ${TIME} `);
  const FORGED = '\x1b[2J\x1b[H\n*** 2026-01-01T00:00:00.000Z #lobby joined admin\r\u202e';

  it('prints nothing the host sent unescaped: errors, names, presence, reasons, times', async () => {
    const hostile = await startHostileHost({
      name: `evil\x1b]0;owned\x07${FORGED}`,
      onConnection: (c) => {
        c.send({ t: 'error', code: 'unknown-room', message: `gone${FORGED}`, ref: FORGED });
        c.send({ t: 'error', code: 'bad-request', message: FORGED, ref: `id${FORGED}` });
      },
      onJoin: (c, room) => {
        c.send({ t: 'joined', room });
        c.send({ t: 'members', room, members: [{ ...fakeMember(1), fp: FORGED }], last: true });
        c.send(fakeMessage(room, 1, { history: true, text: `old${FORGED}` }));
        c.send({ t: 'synced', room });
        c.send({ ...fakeMember(2), t: 'presence', room, event: 'joined', fp: `fp${FORGED}` });
        c.send(fakeMessage(room, 2, { text: `far future${FORGED}`, ts: 9e15 }));
        c.send(fakeMessage(room, 3, { text: 'after' }));
      },
    });
    cleanups.push(() => hostile.close());
    const client = lineClient([
      '--connect',
      hostile.invite(),
      '--nick',
      'alice',
      '--data-dir',
      tempDir(),
    ]);
    const connection = await hostile.nextConnection();
    await client.waitForLine(/#lobby synced/);
    await until(() => client.lines.some((l) => l.includes('joined m2')), 'the presence line');
    connection.close('bad-hello', `go away${FORGED}`);
    const code = await client.exited;
    const everything = [...client.lines, client.stderr()].join('\n');
    expect(everything).not.toMatch(UNSAFE_OUTPUT);
    for (const line of client.lines.filter((l) => l !== '')) expect(line).toMatch(EVENT_LINE);
    expect(client.lines.filter((l) => l.includes('joined admin'))).toHaveLength(
      client.lines.filter((l) => l.includes('\\n*** 2026-01-01T00:00:00.000Z #lobby joined admin'))
        .length,
    );
    expect(client.lines.join('\n')).toContain('host "evil\\x1b]0;owned\\x07\\x1b[2J');
    expect(client.stderr()).toContain('go away\\x1b[2J\\x1b[H\\n');
    expect(client.stderr()).not.toMatch(/RangeError|\n\s+at /);
    // The host refused our hello: that is a failure, not a success.
    expect(code).toBe(1);
  });
});
