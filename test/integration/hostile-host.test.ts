import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChatSession, type ChatSessionOptions } from '../../src-main/client/chat-session.ts';
import { createHostVerifier } from '../../src-main/client/host-trust.ts';
import type { ChatSessionEvents } from '../../src-main/client/session-events.ts';
import { KnownHosts } from '../../src-main/store/known-hosts.ts';
import { newKeyPair } from '../support/loopback.ts';
import {
  type HostileConnection,
  type HostileHost,
  fakeMember,
  fakeMessage,
  startHostileHost,
} from '../support/hostile-host.ts';

// The client core against a host that completes a genuine handshake and then misbehaves.

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function hostile(...args: Parameters<typeof startHostileHost>): Promise<HostileHost> {
  const h = await startHostileHost(...args);
  cleanups.push(() => h.close());
  return h;
}

async function session(h: HostileHost, options: Partial<ChatSessionOptions> = {}) {
  const knownHosts = await KnownHosts.load(join(tempDir('parley-client-'), 'known-hosts.json'));
  const s = new ChatSession({
    address: h.address,
    identity: newKeyPair(),
    nick: 'alice',
    rooms: ['lobby'],
    trust: createHostVerifier({
      address: h.address,
      inviteKey: h.publicKey,
      knownHosts,
      policy: { trustNewHost: false },
    }),
    reconnect: { initialDelayMs: 50, maxDelayMs: 200 },
    ...options,
  });
  cleanups.push(() => s.stop());
  const log = new Map<keyof ChatSessionEvents, unknown[]>();
  const of = <K extends keyof ChatSessionEvents>(name: K) =>
    (log.get(name) ?? []) as ChatSessionEvents[K][0][];
  const names = [
    'state',
    'welcome',
    'message',
    'members',
    'presence',
    'synced',
    'history-end',
    'fatal',
    'error',
  ] as const;
  for (const name of names) {
    s.on(name, (data: unknown) => log.set(name, [...(log.get(name) ?? []), data]));
  }
  return {
    s,
    of,
    async wait(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
      const start = Date.now();
      while (!check()) {
        if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
  };
}

describe('the hostile host', () => {
  it('behaves honestly by default: a session connects, joins and syncs', async () => {
    const h = await hostile();
    const alice = await session(h);
    alice.s.start();
    await alice.wait(() => alice.of('synced').length === 1, 'synced');
    const connection = await h.nextConnection();
    expect(connection.hello.nick).toBe('alice');
    expect(alice.s.members('lobby').map((m) => m.nick)).toEqual(['alice']);
  });
});

const MiB = 1024 * 1024;

/** Heap in use now, after a collection when the runtime allows one. */
function heapUsed(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
}

/** Answers a join honestly up to (not including) `synced`. */
function joinedWithoutSync(connection: HostileConnection, room: string): void {
  connection.send({ t: 'joined', room });
  connection.send({
    t: 'members',
    room,
    members: [{ nick: 'alice', fp: connection.fp, key: connection.key }],
    last: true,
  });
}

describe('the client core against a hostile host', () => {
  it('skips a message whose time no date can show, says so, and keeps the room', async () => {
    const h = await hostile();
    const alice = await session(h);
    alice.s.start();
    await alice.wait(() => alice.of('synced').length === 1, 'synced');
    const connection = await h.nextConnection();
    connection.send(fakeMessage('lobby', 1, { ts: 8.64e15 + 1 }));
    connection.send(fakeMessage('lobby', 2, { ts: Number.MAX_SAFE_INTEGER }));
    connection.send(fakeMessage('lobby', 3));
    await alice.wait(() => alice.of('message').length === 1, 'the valid message');
    expect(alice.of('message').map((m) => m.seq)).toEqual([3]);
    expect(alice.of('error').filter((e) => e.code === 'invalid-message')).toHaveLength(2);
    expect(alice.s.state).toBe('connected');
  });

  it('ignores what the host says about rooms it was not asked about', async () => {
    const h = await hostile({ rooms: ['lobby', 'dev'] });
    const alice = await session(h);
    alice.s.start();
    await alice.wait(() => alice.of('synced').length === 1, 'synced');
    const connection = await h.nextConnection();
    connection.send(fakeMessage('dev', 1));
    connection.send({ t: 'presence', room: 'dev', event: 'joined', ...fakeMember(1) });
    connection.send({ t: 'synced', room: 'dev' });
    connection.send(fakeMessage('lobby', 2));
    await alice.wait(() => alice.of('message').length === 1, 'the lobby message');
    expect(alice.of('message').map((m) => m.room)).toEqual(['lobby']);
    expect(alice.of('presence')).toEqual([]);
    expect(alice.of('synced')).toHaveLength(1);
  });

  it('gives up on a host that answers pings but never sends welcome, and reconnects', async () => {
    const h = await hostile({ welcome: false });
    const alice = await session(h, { welcomeTimeoutMs: 500, pingIntervalMs: 100 });
    alice.s.start();
    await alice.wait(
      () => alice.of('error').some((e) => e.code === 'host-timeout'),
      'the welcome deadline',
    );
    expect(alice.of('error').find((e) => e.code === 'host-timeout')?.message).toMatch(/welcome/);
    await alice.wait(() => h.connections.length >= 2, 'a second connection');
    expect(alice.of('state').map((c) => c.state)).toContain('reconnecting');
  });

  it('gives up on a join that never syncs and a history page that never ends', async () => {
    let joins = 0;
    const h = await hostile({
      onJoin: (connection, room) => {
        joinedWithoutSync(connection, room);
        if (++joins > 1) connection.send({ t: 'synced', room }); // the second time, honestly
      },
    });
    const alice = await session(h, { requestTimeoutMs: 600 });
    alice.s.start();
    await alice.wait(
      () => alice.of('error').some((e) => e.code === 'host-timeout'),
      'the join deadline',
    );
    expect(alice.of('error')[0]?.message).toMatch(/finish joining "lobby"/);
    await alice.wait(() => alice.of('synced').length === 1, 'synced on the second connection');
    expect(alice.s.loadOlder('lobby', 100, 50)).toBe(true); // never answered
    await alice.wait(
      () => alice.of('error').filter((e) => e.code === 'host-timeout').length === 2,
      'the history deadline',
    );
    expect(alice.of('error').at(-1)?.message).toMatch(/history/);
  });

  it('retries a join the host refused for now, without reconnecting', async () => {
    let joins = 0;
    const h = await hostile({
      onJoin: (connection, room) => {
        if (++joins === 1) {
          connection.send({
            t: 'error',
            code: 'rate-limited',
            message: 'too many joins',
            ref: room,
            retryAfterMs: 100,
          });
          return;
        }
        joinedWithoutSync(connection, room);
        connection.send({ t: 'synced', room });
      },
    });
    const alice = await session(h, { requestTimeoutMs: 5000 });
    alice.s.start();
    await alice.wait(() => alice.of('synced').length === 1, 'synced after the retry');
    expect(h.connections).toHaveLength(1);
    expect(alice.s.rooms).toEqual(['lobby']);
  });

  it('bounds endless member pages: a protocol error, a reconnect, no unbounded memory', async () => {
    const h = await hostile({
      onJoin: (connection, room) => {
        connection.send({ t: 'joined', room });
        const page = (i: number) => Array.from({ length: 500 }, (_, j) => fakeMember(i * 500 + j));
        connection.flood((i) => ({ t: 'members', room, members: page(i) }));
      },
    });
    const alice = await session(h);
    const before = heapUsed();
    alice.s.start();
    await alice.wait(
      () => alice.of('error').some((e) => e.code === 'protocol-error'),
      'the member bound',
      60_000,
    );
    expect(alice.of('error')[0]?.message).toMatch(/more than \d+ members/);
    await alice.wait(() => h.connections.length >= 2, 'a reconnect', 20_000);
    for (const connection of h.connections) connection.close();
    expect(heapUsed() - before).toBeLessThan(200 * MiB);
  }, 90_000);

  it('bounds a rejoin replay that never ends with synced', async () => {
    let joins = 0;
    const h = await hostile({
      onJoin: (connection, room) => {
        joinedWithoutSync(connection, room);
        if (++joins === 1) {
          connection.send(fakeMessage(room, 1, { history: true }));
          connection.send({ t: 'synced', room });
          return;
        }
        // The rejoin: history without end, each message as long as the host allows.
        const text = 'x'.repeat(16_000);
        connection.flood((i) => fakeMessage(room, 2 + i, { history: true, text }));
      },
    });
    const alice = await session(h, { requestTimeoutMs: 60_000 });
    alice.s.start();
    await alice.wait(() => alice.of('synced').length === 1, 'the first sync');
    const before = heapUsed();
    (await h.nextConnection()).close('shutdown', 'bye');
    await alice.wait(
      () => alice.of('error').some((e) => e.code === 'protocol-error'),
      'the replay bound',
      60_000,
    );
    expect(alice.of('error')[0]?.message).toMatch(/replayed more than \d+ messages/);
    for (const connection of h.connections) connection.close();
    expect(heapUsed() - before).toBeLessThan(400 * MiB);
  }, 90_000);

  it('keeps going when a listener throws: other listeners still hear, the session stays', async () => {
    const h = await hostile();
    const alice = await session(h);
    const heard: number[] = [];
    alice.s.on('message', () => {
      throw new Error('a broken listener');
    });
    alice.s.on('message', (m) => heard.push(m.seq));
    alice.s.start();
    await alice.wait(() => alice.of('synced').length === 1, 'synced');
    const connection = await h.nextConnection();
    connection.send(fakeMessage('lobby', 1));
    connection.send(fakeMessage('lobby', 2));
    await alice.wait(() => heard.length === 2, 'both messages');
    expect(heard).toEqual([1, 2]);
    const failures = alice.of('error').filter((e) => e.code === 'listener-failed');
    expect(failures).toHaveLength(2);
    expect(failures[0]?.message).toMatch(/"message"/);
    expect(alice.s.state).toBe('connected');
    expect(h.connections).toHaveLength(1);
  });
});
