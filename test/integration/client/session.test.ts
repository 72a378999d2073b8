import { describe, expect, it } from 'vitest';
import net from 'node:net';
import { type ChatSessionOptions } from '../../../src-main/client/chat-session.ts';
import type { StateChange } from '../../../src-main/client/session-events.ts';
import type { ChatMessage } from '../../../src-main/protocol/wire/messages.ts';
import { type HostOptions, type RunningHost, startHost } from '../../../src-main/server/host.ts';
import { cleanupsAfterEach } from '../../support/lifecycle.ts';
import { recordedSession } from '../../support/recorded-session.ts';

// ChatSession against the real host, over real TCP on 127.0.0.1.

const cleanups = cleanupsAfterEach();

async function host(
  options: Partial<HostOptions> = {},
): Promise<RunningHost & { dataDir: string }> {
  const dataDir = options.dataDir ?? cleanups.tempDir('parley-host-');
  const h = await startHost({
    host: '127.0.0.1',
    port: 0,
    rooms: ['lobby', 'dev'],
    // Delivery, not membership, is tested here: anyone who connects may join (membership.test.ts).
    openRooms: true,
    limits: { messagesPerSecond: 1000, messageBurst: 1000 },
    ...options,
    dataDir,
  });
  cleanups.push(() => h.stop());
  return Object.assign(h, { dataDir });
}

function session(
  address: { host: string; port: number },
  hostKey: Uint8Array,
  nick: string,
  options: Partial<ChatSessionOptions> = {},
) {
  return recordedSession(cleanups, { address, hostKey }, { nick, ...options });
}

/** A loopback port nothing listens on: connecting there is refused at once. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const live = (messages: ChatMessage[]) => messages.filter((m) => !m.history);

describe('ChatSession with a real host', () => {
  it('connects, joins, sends and gets acknowledgements in order', async () => {
    const h = await host({ name: 'Integration' });
    const alice = await session(h.address, h.publicKey, 'alice');
    alice.s.start();
    await alice.wait(() => alice.of('synced').length === 1, 'synced');
    const [welcome] = alice.of('welcome');
    expect(welcome).toMatchObject({
      nick: 'alice',
      host: { name: 'Integration', fingerprint: h.fingerprint },
    });
    // Host info names the open rooms (in the host's order); `rooms` lists them for this key.
    expect([...(welcome?.host.rooms ?? [])].sort()).toEqual(['dev', 'lobby']);
    expect(alice.s.roomInfo('dev')).toMatchObject({ open: true });
    expect(welcome?.host.trust).toMatchObject({ method: 'invite', newlyPinned: true });
    expect(alice.s.members('lobby').map((m) => m.nick)).toEqual(['alice']);
    const ids = ['one', 'two', 'three'].map((text) => alice.s.send('lobby', text));
    await alice.wait(() => alice.of('ack').length === 3, 'three acks');
    const acks = alice.of('ack');
    expect(acks.map((a) => a.id)).toEqual(ids);
    expect(acks.every((a) => !a.duplicate)).toBe(true);
    expect(acks.map((a) => a.seq)).toEqual([...acks.map((a) => a.seq)].sort((x, y) => x - y));
    expect(alice.s.pending).toEqual([]);
  });

  it('two sessions exchange messages exactly once and in order', async () => {
    const h = await host();
    const alice = await session(h.address, h.publicKey, 'alice');
    const bob = await session(h.address, h.publicKey, 'bob');
    alice.s.start();
    bob.s.start();
    await alice.wait(() => alice.of('synced').length === 1, 'alice synced');
    await bob.wait(() => bob.of('synced').length === 1, 'bob synced');
    const count = 60;
    for (let i = 0; i < count; i++) {
      alice.s.send('lobby', `a${i}`);
      bob.s.send('lobby', `b${i}`);
    }
    await alice.wait(() => live(alice.of('message')).length === count, 'alice receives');
    await bob.wait(() => live(bob.of('message')).length === count, 'bob receives');
    await new Promise((r) => setTimeout(r, 200)); // nothing more arrives
    const expected = (p: string) => Array.from({ length: count }, (_, i) => `${p}${i}`);
    expect(live(alice.of('message')).map((m) => m.text)).toEqual(expected('b'));
    expect(live(bob.of('message')).map((m) => m.text)).toEqual(expected('a'));
    expect(live(bob.of('message')).every((m) => m.from === 'alice')).toBe(true);
  });

  it('paces a burst to the host rate instead of being refused', async () => {
    const h = await host({ limits: { messagesPerSecond: 50, messageBurst: 50 } });
    const alice = await session(h.address, h.publicKey, 'alice');
    alice.s.start();
    await alice.wait(() => alice.of('synced').length === 1, 'synced');
    const started = Date.now();
    for (let i = 0; i < 80; i++) alice.s.send('lobby', `m${i}`);
    await alice.wait(() => alice.of('ack').length === 80, 'all acks');
    expect(Date.now() - started).toBeGreaterThanOrEqual(500); // 50 at once, then 50/s
    expect(alice.of('error').filter((e) => e.code === 'rate-limited')).toEqual([]);
  });

  it('the outbox survives a host restart: each message is delivered exactly once', async () => {
    const first = await host();
    const { address, publicKey, dataDir } = first;
    const alice = await session(address, publicKey, 'alice');
    const bob = await session(address, publicKey, 'bob');
    alice.s.start();
    bob.s.start();
    await alice.wait(() => alice.of('synced').length === 1, 'alice synced');
    await bob.wait(() => bob.of('synced').length === 1, 'bob synced');

    const before = alice.s.send('lobby', 'just before the restart');
    await first.stop(); // commits and acknowledges what it received, then says goodbye
    await alice.wait(() => alice.s.state === 'reconnecting', 'alice notices');
    const whileDown = ['while down 1', 'while down 2', 'while down 3'].map((t) =>
      alice.s.send('lobby', t),
    );
    expect(alice.s.pending.map((e) => e.id)).toEqual(expect.arrayContaining(whileDown));
    await new Promise((r) => setTimeout(r, 300)); // a few refused reconnects

    await host({ dataDir, port: address.port });
    await alice.wait(() => alice.s.pending.length === 0, 'everything acknowledged');
    const texts = ['just before the restart', 'while down 1', 'while down 2', 'while down 3'];
    await bob.wait(
      () => bob.of('message').filter((m) => texts.includes(m.text ?? '')).length >= 4,
      'bob has them',
    );
    await new Promise((r) => setTimeout(r, 200));
    const atBob = bob.of('message').filter((m) => texts.includes(m.text ?? ''));
    expect(atBob.map((m) => m.text)).toEqual(texts);
    expect(new Set(atBob.map((m) => m.seq)).size).toBe(4);

    // The host's history holds each once, in order: a newcomer's replay shows it.
    const carol = await session(address, publicKey, 'carol');
    carol.s.start();
    await carol.wait(() => carol.of('synced').length === 1, 'carol synced');
    expect(carol.of('message').map((m) => m.text)).toEqual(texts);
    expect(alice.of('ack').map((a) => a.id)).toEqual(
      expect.arrayContaining([before, ...whileDown]),
    );
  });

  it('reports reconnect countdowns with growing backoff, and resets it once connected', async () => {
    const probe = await host();
    const { address, publicKey, dataDir } = probe;
    await probe.stop();
    const alice = await session(address, publicKey, 'alice', {
      reconnect: { initialDelayMs: 40, maxDelayMs: 160 },
      random: () => 0.999,
    });
    alice.s.start();
    await alice.wait(
      () => alice.of('state').filter((e) => e.state === 'reconnecting').length >= 4,
      'four refused attempts',
    );
    const countdowns = alice
      .of('state')
      .filter((e: StateChange) => e.state === 'reconnecting')
      .slice(0, 4);
    expect(countdowns.map((e) => [e.attempt, e.retryInMs])).toEqual([
      [1, 39],
      [2, 79],
      [3, 159],
      [4, 159],
    ]);
    expect(countdowns[0]?.reason).toMatch(/ECONNREFUSED|connection/);
    await host({ dataDir, port: address.port });
    await alice.wait(() => alice.s.state === 'connected', 'connected');
    expect(alice.of('state').at(-1)).toEqual({ state: 'connected', attempt: 0 });
  });

  it('a host with another key is refused before hello, and a taken nick is fatal', async () => {
    const h = await host();
    const impostor = await host();
    const mallory = await session(impostor.address, h.publicKey, 'alice');
    mallory.s.start();
    await mallory.wait(() => mallory.of('fatal').length === 1, 'fatal');
    expect(mallory.of('fatal')[0]).toMatchObject({
      code: 'host-key-mismatch',
      expectedFingerprint: h.fingerprint,
      actualFingerprint: impostor.fingerprint,
    });
    expect(impostor.clientCount).toBe(0);

    const alice = await session(h.address, h.publicKey, 'alice');
    alice.s.start();
    await alice.wait(() => alice.of('synced').length === 1, 'alice synced');
    const other = await session(h.address, h.publicKey, 'alice');
    other.s.start();
    await other.wait(() => other.of('fatal').length === 1, 'nick taken');
    expect(other.of('fatal')[0]?.code).toBe('nick-taken');
    expect(other.s.state).toBe('stopped');
  });
});

describe('ChatSession rejoining after missing more than the host replays', () => {
  it('pages back to what it had: every missed message once, in seq order, before live ones', async () => {
    const h = await host({
      limits: { historyOnJoin: 10, messagesPerSecond: 1000, messageBurst: 1000 },
    });
    // Alice's connections go through a gate, so the test can take her offline while the host runs.
    const deadPort = await closedPort();
    let offline = false;
    let socket: net.Socket | undefined;
    const alice = await session(h.address, h.publicKey, 'alice', {
      connect: (address) => {
        socket = net.connect({ host: address.host, port: offline ? deadPort : address.port });
        return socket;
      },
    });
    const bob = await session(h.address, h.publicKey, 'bob');
    const order: string[] = [];
    alice.s.on('message', (m) => order.push(`${m.history ? 'history' : 'live'} ${m.text}`));
    alice.s.on('synced', () => order.push('synced'));
    alice.s.start();
    bob.s.start();
    await alice.wait(() => alice.of('synced').length === 1, 'alice synced');
    await bob.wait(() => bob.of('synced').length === 1, 'bob synced');
    const texts = (prefix: string, n: number) =>
      Array.from({ length: n }, (_, i) => `${prefix}${i}`);
    for (const text of texts('before', 5)) bob.s.send('lobby', text);
    await alice.wait(() => alice.of('message').length === 5, 'alice sees the first five');

    offline = true;
    socket?.destroy();
    await alice.wait(() => alice.s.state === 'reconnecting', 'alice offline');
    for (const text of texts('away', 35)) bob.s.send('lobby', text);
    await bob.wait(() => bob.of('ack').length === 40, 'bob acknowledged');

    offline = false;
    await alice.wait(() => alice.of('synced').length === 2, 'alice synced again');
    for (const text of texts('after', 3)) bob.s.send('lobby', text);
    await alice.wait(() => alice.of('message').at(-1)?.text === 'after2', 'the live ones');
    await new Promise((r) => setTimeout(r, 200)); // nothing more arrives

    const messages = alice.of('message');
    expect(messages.map((m) => m.text)).toEqual([
      ...texts('before', 5),
      ...texts('away', 35),
      ...texts('after', 3),
    ]);
    const seqs = messages.map((m) => m.seq);
    expect(seqs).toEqual([...new Set(seqs)].sort((a, b) => a - b));
    expect(order).toEqual([
      'synced',
      ...texts('live before', 5),
      ...texts('history away', 35),
      'synced',
      ...texts('live after', 3),
    ]);
  });
});
