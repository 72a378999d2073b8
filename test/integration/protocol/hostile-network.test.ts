import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import net, { type AddressInfo, type Socket } from 'node:net';
import { once } from 'node:events';
import { join } from 'node:path';
import { fingerprint } from '../../../src-shared/fingerprint.ts';
import type { HostAddress } from '../../../src-shared/invite.ts';
import { ChatSession, type ChatSessionOptions } from '../../../src-main/client/chat-session.ts';
import { type TrustPolicy, createHostVerifier } from '../../../src-main/client/host-trust.ts';
import type { ChatSessionEvents } from '../../../src-main/client/session-events.ts';
import type { KeyPair } from '../../../src-main/protocol/crypto/crypto-backend.ts';
import { acceptChannel } from '../../../src-main/protocol/host-handshake.ts';
import { pinnedHostKey } from '../../../src-main/protocol/host-key.ts';
import type { CloseInfo, SecureChannel } from '../../../src-main/protocol/secure-channel.ts';
import { type RunningHost, startHost } from '../../../src-main/server/host.ts';
import { KnownHosts } from '../../../src-main/store/known-hosts.ts';
import { runsWithin } from '../../fuzz/kit.ts';
import {
  type FaultPlan,
  type UnitRewriter,
  dropFrame,
  duplicateFrame,
  flipBit,
  replayFrame,
  startFaultProxy,
  startMitmProxy,
  swapFrames,
} from '../../support/fault-proxy.ts';
import { connectTestClient, decoder, encoder, newKeyPair } from '../../support/loopback.ts';
import { connectWireClient } from '../../support/wire-client.ts';
import { cleanupsAfterEach, sleep } from '../../support/lifecycle.ts';

// The network between a client and its host is hostile: it splits, merges, delays, cuts, flips
// bits, replays, reorders, and may be a man in the middle with its own key. These tests put the
// fault proxy (test/support/fault-proxy.ts) between real clients and real hosts on 127.0.0.1.

const cleanups = cleanupsAfterEach();

async function host(): Promise<RunningHost> {
  const h = await startHost({
    host: '127.0.0.1',
    port: 0,
    dataDir: cleanups.tempDir('parley-hostile-'),
    rooms: ['lobby'],
    openRooms: true, // the network is under test here, not who may join
    limits: { messagesPerSecond: 1000, messageBurst: 1000 },
  });
  cleanups.push(() => h.stop());
  return h;
}

async function proxy(target: number, plan: (connection: number) => FaultPlan = () => ({})) {
  const p = await startFaultProxy(target, plan);
  cleanups.push(() => p.close());
  return p;
}

interface SessionOptions extends Partial<ChatSessionOptions> {
  readonly inviteKey?: Uint8Array;
  readonly policy?: TrustPolicy;
  readonly knownHostsPath?: string;
}

/** A ChatSession with an event log, like the user's app would run it. */
async function session(address: HostAddress, nick: string, options: SessionOptions = {}) {
  const path =
    options.knownHostsPath ?? join(cleanups.tempDir('parley-client-'), 'known-hosts.json');
  const knownHosts = await KnownHosts.load(path);
  const s = new ChatSession({
    address,
    identity: newKeyPair(),
    nick,
    rooms: ['lobby'],
    trust: createHostVerifier({
      address,
      ...(options.inviteKey ? { inviteKey: options.inviteKey } : {}),
      knownHosts,
      policy: options.policy ?? { trustNewHost: false },
    }),
    reconnect: { initialDelayMs: 30, maxDelayMs: 150 },
    ...options,
  });
  cleanups.push(() => s.stop());
  const log = new Map<keyof ChatSessionEvents, unknown[]>();
  const of = <K extends keyof ChatSessionEvents>(name: K) =>
    (log.get(name) ?? []) as ChatSessionEvents[K][0][];
  for (const name of ['state', 'welcome', 'message', 'ack', 'synced', 'fatal'] as const) {
    s.on(name, (data: unknown) => log.set(name, [...(log.get(name) ?? []), data]));
  }
  s.on('error', () => undefined);
  return {
    s,
    of,
    live: () => of('message').filter((m) => !m.history),
    async wait(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
      const start = Date.now();
      while (!check()) {
        if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
        await sleep(5);
      }
    },
  };
}

const local = (port: number): HostAddress => ({ host: '127.0.0.1', port });

describe('a chat through a network that splits, merges and delays', () => {
  it('works when every byte travels in its own write, both ways', async () => {
    const h = await host();
    const p = await proxy(h.address.port, () => ({
      toHost: { splitInto: 1 },
      toClient: { splitInto: 1 },
    }));
    const reads: number[] = [];
    const alice = await session(local(p.port), 'alice', {
      inviteKey: h.publicKey,
      connect: (address) => {
        const socket = net.connect(address.port, address.host);
        socket.on('data', (chunk: Buffer) => reads.push(chunk.length));
        return socket;
      },
    });
    const bob = await session(local(p.port), 'bob', { inviteKey: h.publicKey });
    alice.s.start();
    bob.s.start();
    await alice.wait(() => alice.of('synced').length > 0, 'alice synced');
    await bob.wait(() => bob.of('synced').length > 0, 'bob synced');
    const texts = Array.from({ length: 15 }, (_, i) => `split message ${i} ✓`);
    for (const text of texts) alice.s.send('lobby', text);
    await bob.wait(() => bob.live().length === texts.length, 'bob receives all', 20_000);
    await alice.wait(() => alice.s.pending.length === 0, 'alice acknowledged', 20_000);
    expect(bob.live().map((m) => m.text)).toEqual(texts);
    // The proxy really wrote byte by byte, and the client really read (mostly) single bytes.
    for (const c of p.connections) {
      expect(c.forwarded.toHost.writes).toBe(c.forwarded.toHost.bytes);
      expect(c.forwarded.toClient.writes).toBe(c.forwarded.toClient.bytes);
    }
    expect(reads.filter((n) => n === 1).length / reads.length).toBeGreaterThan(0.5);
  }, 40_000);

  it('works when writes are held back and merged, and delayed', async () => {
    const h = await host();
    const shaping = { coalesceMs: 25, delayMs: 15 };
    const p = await proxy(h.address.port, () => ({ toHost: shaping, toClient: shaping }));
    const alice = await session(local(p.port), 'alice', { inviteKey: h.publicKey });
    const bob = await session(local(p.port), 'bob', { inviteKey: h.publicKey });
    alice.s.start();
    bob.s.start();
    await alice.wait(() => alice.of('synced').length > 0, 'alice synced');
    await bob.wait(() => bob.of('synced').length > 0, 'bob synced');
    const texts = Array.from({ length: 40 }, (_, i) => `merged ${i}`);
    for (const [i, text] of texts.entries()) {
      alice.s.send('lobby', text);
      if (i % 4 === 0) await sleep(3); // several records per merge window
    }
    await bob.wait(() => bob.live().length === texts.length, 'bob receives all');
    expect(bob.live().map((m) => m.text)).toEqual(texts);
    // Merging happened: fewer writes left the proxy than reads arrived at it.
    const toHost = p.connections[0]!;
    expect(toHost.forwarded.toHost.writes).toBeLessThan(toHost.received.toHost.length);
  });
});

// ── tampering ──────────────────────────────────────────────────────────────────────────

/** A bare host for channel-level tests: one accept result per connection, in order. */
interface BareHost {
  port: number;
  keyPair: KeyPair;
  handshakeTimeoutMs: number;
  accepted: Promise<SecureChannel>[];
  close(): Promise<void>;
}

async function startBareHost(handshakeTimeoutMs: number): Promise<BareHost> {
  const keyPair = newKeyPair();
  const accepted: Promise<SecureChannel>[] = [];
  const sockets = new Set<Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const result = acceptChannel(socket, {
      staticKeyPair: keyPair,
      hostInfo: encoder.encode('{}'),
      handshakeTimeoutMs,
    });
    result.catch(() => undefined);
    accepted.push(result);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    keyPair,
    handshakeTimeoutMs,
    accepted,
    async close() {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

/** Patient, for sessions that must be established under load; quick, for handshakes that stall. */
let patient: BareHost;
let quick: BareHost;
beforeAll(async () => {
  patient = await startBareHost(10_000);
  quick = await startBareHost(400);
});
afterAll(async () => {
  await patient.close();
  await quick.close();
});

const K = 6; // application messages each side sends, one record each, then a goodbye record

interface Side {
  delivered: string[];
  closed: CloseInfo | undefined;
}

/**
 * One session through a proxy that applies `rewrite` to the frames going `direction`. Both
 * sides send K numbered messages, one record each. The sending side of `direction` then waits
 * for the other's K messages and says goodbye; the receiving side (the one under attack) never
 * ends the session itself, so how it ends is the attack's doing. Returns what each side
 * delivered and how it closed.
 */
async function exchange(
  bare: BareHost,
  rewrite: UnitRewriter,
  direction: 'toHost' | 'toClient',
): Promise<{ client: Side; host: Side; established: boolean }> {
  const p = await startFaultProxy(bare.port, () => ({ rewrite }));
  const index = bare.accepted.length;
  const client: Side = { delivered: [], closed: undefined };
  const hostSide: Side = { delivered: [], closed: undefined };
  try {
    const clientChannel = await connectTestClient(p.port, {
      staticKeyPair: newKeyPair(),
      verifyHost: pinnedHostKey(bare.keyPair.publicKey),
      handshakeTimeoutMs: bare.handshakeTimeoutMs,
    }).catch(() => undefined);
    while (bare.accepted.length <= index) await sleep(2);
    const hostChannel = await bare.accepted[index]!.catch(() => undefined);
    const run = async (
      channel: SecureChannel | undefined,
      side: Side,
      prefix: string,
      saysBye: boolean,
    ) => {
      if (!channel) return;
      const closed = new Promise<void>((resolve) =>
        channel.on('close', (info) => {
          side.closed = info;
          resolve();
        }),
      );
      channel.on('message', (m) => side.delivered.push(decoder.decode(m)));
      channel.start();
      for (let i = 0; i < K && !channel.closed; i++) {
        channel.send(encoder.encode(`${prefix}${i}`));
        await sleep(3); // one record per message
      }
      if (saysBye) {
        for (let t = 0; t < 300 && side.delivered.length < K && !channel.closed; t++)
          await sleep(5);
        channel.close('bye', 'done');
      }
      await Promise.race([closed, sleep(3000)]);
    };
    await Promise.all([
      run(clientChannel, client, 'c', direction === 'toHost'),
      run(hostChannel, hostSide, 'h', direction === 'toClient'),
    ]);
    return { client, host: hostSide, established: Boolean(clientChannel && hostChannel) };
  } finally {
    await p.close();
  }
}

const sent = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
/** Frames before the first transport record: toHost msg 1 and msg 3; toClient msg 2. */
const HANDSHAKE_FRAMES = { toHost: 2, toClient: 1 } as const;

type Attack =
  | { kind: 'flip'; bit: number }
  | { kind: 'drop' }
  | { kind: 'duplicate' }
  | { kind: 'replay'; after: number }
  | { kind: 'swap' };

const attackArb: fc.Arbitrary<Attack> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .integer({ min: 0, max: 8 * 40 - 1 })
      .map((bit) => ({ kind: 'flip' as const, bit })),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'drop' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'duplicate' as const }) },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 1, max: 3 }).map((after) => ({ kind: 'replay' as const, after })),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'swap' as const }) },
);

function rewriterFor(
  attack: Attack,
  target: { direction: 'toHost' | 'toClient'; index: number },
): UnitRewriter {
  switch (attack.kind) {
    case 'flip':
      return flipBit(target, attack.bit);
    case 'drop':
      return dropFrame(target);
    case 'duplicate':
      return duplicateFrame(target);
    case 'replay':
      return replayFrame(target, attack.after);
    case 'swap':
      return swapFrames(target);
  }
}

/** What the receiver must have delivered when the attack hits transport record `j`. */
function expectedPrefix(attack: Attack, j: number, all: string[]): string[] {
  switch (attack.kind) {
    case 'duplicate':
      return all.slice(0, j + 1); // the original once; its copy ends the session
    case 'replay':
      return all.slice(0, j + attack.after + 1); // up to the frame the copy follows
    default:
      return all.slice(0, j); // from the altered/missing/early frame on, nothing
  }
}

describe('a network that alters, drops, replays or reorders frames', () => {
  it('any altered, dropped, repeated or reordered record ends the session; nothing forged is delivered', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('toHost' as const, 'toClient' as const),
        fc.integer({ min: 0, max: K }), // record j; K is the goodbye record
        attackArb,
        async (direction, j, attack) => {
          // A copy or a reordering needs a record after it (a copy of the goodbye is ignored:
          // the session is over by then, which is what the sender wanted).
          fc.pre(attack.kind !== 'replay' || j + attack.after < K);
          fc.pre((attack.kind !== 'swap' && attack.kind !== 'duplicate') || j < K);
          const target = { direction, index: HANDSHAKE_FRAMES[direction] + j };
          const {
            client,
            host: hostSide,
            established,
          } = await exchange(patient, rewriterFor(attack, target), direction);
          expect(established).toBe(true);
          const [victim, other, all, otherAll] =
            direction === 'toHost'
              ? [hostSide, client, sent('c', K), sent('h', K)]
              : [client, hostSide, sent('h', K), sent('c', K)];
          // The receiver delivered exactly the untouched frames before the attack...
          expect(victim.delivered).toEqual(expectedPrefix(attack, j, all));
          // ...and the session ended on an error, not on a goodbye.
          expect(victim.closed?.by).toBe('error');
          expect(['decrypt-failed', 'bad-frame', 'connection-lost']).toContain(victim.closed?.code);
          // The other direction was not forged either: a prefix of what was sent.
          expect(otherAll.slice(0, other.delivered.length)).toEqual(other.delivered);
        },
      ),
      runsWithin(20, 500, 0.1), // 20 in npm test, 500 in npm run fuzz
    );
  }, 600_000);

  it('any fault in the handshake: it fails, or the session dies at once; nothing is delivered', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.record({
            direction: fc.constant('toHost' as const),
            index: fc.integer({ min: 0, max: 1 }),
          }),
          fc.record({ direction: fc.constant('toClient' as const), index: fc.constant(0) }),
        ),
        attackArb,
        async (target, attack) => {
          fc.pre(attack.kind === 'flip' || attack.kind === 'drop' || attack.kind === 'duplicate');
          const { client, host: hostSide } = await exchange(
            quick,
            rewriterFor(attack, target),
            target.direction,
          );
          // A tampered handshake never carries anything: neither side delivers a message,
          // and a side that thought it was through sees its session fail, not end politely.
          expect(hostSide.delivered).toEqual([]);
          expect(client.delivered).toEqual([]);
          for (const side of [hostSide, client]) {
            if (side.closed) expect(side.closed.code).not.toBe('bye');
          }
        },
      ),
      runsWithin(10, 300, 0.05),
    );
  }, 600_000);

  it('a whole recorded session replayed to the host delivers nothing and stores nothing', async () => {
    const h = await host();
    const p = await proxy(h.address.port);
    const alice = await connectWireClient(p.port, h.publicKey, 'alice');
    await alice.waitFor('welcome');
    alice.send({ t: 'join', room: 'lobby' });
    alice.send({ t: 'send', room: 'lobby', id: 'pay-once-0001', text: 'pay bob 100' });
    await alice.waitFor('ack');
    alice.close();
    await alice.closed;
    await p.connections[0]!.closed;
    const recorded = p.received('toHost');

    // The attacker replays every byte alice sent, on a fresh connection.
    const socket = net.connect(h.address.port, '127.0.0.1');
    socket.on('error', () => undefined); // the host may reset it: that is the point
    await once(socket, 'connect');
    const answer: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => answer.push(chunk));
    socket.write(recorded);
    await once(socket, 'close');
    // It got a fresh msg 2 (another ephemeral key), so the recorded msg 3 cannot complete.
    expect(Buffer.concat(answer).subarray(0, 12).toString()).toBe('PARLEY/1 OK\n');

    const carol = await connectWireClient(h.address.port, h.publicKey, 'carol');
    carol.send({ t: 'join', room: 'lobby' });
    await carol.waitFor('synced');
    expect(carol.of('msg').map((m) => m.text)).toEqual(['pay bob 100']);
    carol.close();
  });
});

// ── truncation ─────────────────────────────────────────────────────────────────────────

describe('a network that cuts or swallows the connection', () => {
  it('a cut in the middle of a frame is a lost connection, not a goodbye: the client reconnects', async () => {
    const h = await host();
    // The first connection is cut inside a host→client frame after ~600 bytes; later ones pass.
    const p = await proxy(h.address.port, (connection) =>
      connection === 0 ? { toClient: { truncateAfter: 600 } } : {},
    );
    const alice = await session(local(p.port), 'alice', { inviteKey: h.publicKey });
    const bob = await session(local(h.address.port), 'bob', { inviteKey: h.publicKey });
    bob.s.start();
    await bob.wait(() => bob.of('synced').length > 0, 'bob synced');
    alice.s.start();
    await alice.wait(() => alice.of('synced').length > 0, 'alice synced');
    const texts = Array.from({ length: 30 }, (_, i) => `around the cut ${i} ${'x'.repeat(40)}`);
    for (const text of texts) {
      alice.s.send('lobby', text);
      await sleep(2);
    }
    await alice.wait(() => alice.s.pending.length === 0, 'everything acknowledged');
    await bob.wait(() => bob.live().length >= texts.length, 'bob has them');
    await sleep(100);

    const states = alice.of('state').map((s) => s.state);
    expect(states).toEqual(expect.arrayContaining(['connected', 'reconnecting']));
    expect(states.lastIndexOf('connected')).toBeGreaterThan(states.indexOf('reconnecting'));
    const lost = alice.of('state').find((s) => s.state === 'reconnecting');
    expect(lost?.reason).toMatch(/^connection-lost/); // no end-of-session item arrived
    expect(lost?.reason).not.toMatch(/shutdown/);
    // Exactly once, in order, across the cut.
    expect(bob.live().map((m) => m.text)).toEqual(texts);
    expect(p.connections.length).toBeGreaterThanOrEqual(2);
  });

  it('a network that silently swallows everything is noticed by the keepalive, then reconnected', async () => {
    const h = await host();
    const swallow = { blackholeAfter: 0 };
    let swallowing = false;
    const p = await proxy(h.address.port, () =>
      swallowing ? { toHost: swallow, toClient: swallow } : {},
    );
    const alice = await session(local(p.port), 'alice', {
      inviteKey: h.publicKey,
      pingIntervalMs: 100,
      timeoutMs: 400,
      handshakeTimeoutMs: 400,
    });
    alice.s.start();
    await alice.wait(() => alice.of('synced').length > 0, 'alice synced');
    // From now on, new connections go into a black hole; the current one is swallowed too.
    swallowing = true;
    const current = p.connections[0]!;
    const started = Date.now();
    current.cut();
    await alice.wait(() => alice.s.state === 'reconnecting', 'alice notices');
    await sleep(1200); // attempts into the black hole time out
    const reasons = alice
      .of('state')
      .filter((s) => s.state === 'reconnecting')
      .map((s) => s.reason);
    expect(reasons.some((r) => /handshake-timeout/.test(r ?? ''))).toBe(true);
    swallowing = false;
    await alice.wait(() => alice.s.state === 'connected', 'alice back', 5000);
    expect(Date.now() - started).toBeLessThan(8000);
  });
});

// ── the man in the middle ──────────────────────────────────────────────────────────────

describe('a man in the middle with its own key', () => {
  const PREFACE_AND_MSG1 = 'PARLEY/1 Noise_XX_25519_ChaChaPoly_SHA256\n'.length + 2 + 32;

  async function mitm(h: RunningHost) {
    const m = await startMitmProxy(h.address.port, newKeyPair());
    cleanups.push(() => m.close());
    return m;
  }

  const bytesFromClient = (c: { fromClient: Uint8Array[] }) =>
    c.fromClient.reduce((n, chunk) => n + chunk.length, 0);

  it('works, and reads everything, when a client trusts whatever key it is shown (the control)', async () => {
    const h = await host();
    const m = await mitm(h);
    const alice = await session(local(m.port), 'alice', { policy: { trustNewHost: true } });
    const bob = await session(local(h.address.port), 'bob', { inviteKey: h.publicKey });
    bob.s.start();
    await bob.wait(() => bob.of('synced').length > 0, 'bob synced');
    alice.s.start();
    await alice.wait(() => alice.of('synced').length > 0, 'alice synced');
    alice.s.send('lobby', 'meet me at noon');
    await bob.wait(() => bob.live().length === 1, 'bob receives');
    expect(alice.of('welcome')[0]?.host.fingerprint).toBe(fingerprint(m.publicKey));
    expect(m.connections[0]!.plaintext.toHost.join('\n')).toContain('meet me at noon');
  });

  it('is refused by a client that has the host pinned, before the client sends message 3', async () => {
    const h = await host();
    const m = await mitm(h);
    const alice = await session(local(m.port), 'alice', { inviteKey: h.publicKey });
    alice.s.start();
    await alice.wait(() => alice.of('fatal').length > 0, 'refusal');
    expect(alice.of('fatal')[0]).toMatchObject({
      code: 'host-key-mismatch',
      expectedFingerprint: h.fingerprint,
      actualFingerprint: fingerprint(m.publicKey),
    });
    const seen = m.connections[0]!;
    await seen.done;
    // The MITM got the preface and message 1 — nothing more: no msg 3, no hello, no nickname.
    expect(seen.clientHello).toBeUndefined();
    expect(bytesFromClient(seen)).toBe(PREFACE_AND_MSG1);
    expect(alice.s.state).toBe('stopped');
    expect(m.connections).toHaveLength(1); // and it does not retry
  });

  it('shows a first-time client the fingerprint it would be trusting: the MITM’s', async () => {
    const h = await host();
    const m = await mitm(h);
    const shown: string[] = [];
    const asking = await session(local(m.port), 'alice', {
      policy: {
        confirmNewHost: (print) => {
          shown.push(print);
          return Promise.resolve(false); // the user compares it with the owner's and says no
        },
      },
    });
    asking.s.start();
    await asking.wait(() => asking.of('fatal').length > 0, 'declined');
    expect(shown).toEqual([fingerprint(m.publicKey)]);
    expect(shown[0]).not.toBe(h.fingerprint);
    expect(asking.of('fatal')[0]).toMatchObject({
      code: 'host-key-unknown',
      fingerprint: fingerprint(m.publicKey),
    });

    // A client that cannot ask (a script) stops with HostKeyUnknown carrying the same print.
    const script = await session(local(m.port), 'bob');
    script.s.start();
    await script.wait(() => script.of('fatal').length > 0, 'refused');
    expect(script.of('fatal')[0]).toMatchObject({
      code: 'host-key-unknown',
      fingerprint: fingerprint(m.publicKey),
    });
    for (const seen of m.connections) {
      await seen.done;
      expect(seen.clientHello).toBeUndefined();
      expect(bytesFromClient(seen)).toBe(PREFACE_AND_MSG1);
    }
  });

  it('gives a client with a stale pin the changed-key error, and leaves the pin alone', async () => {
    const h = await host();
    const m = await mitm(h);
    const path = join(cleanups.tempDir('parley-pins-'), 'known-hosts.json');
    const old = newKeyPair().publicKey;
    await (await KnownHosts.load(path)).pin(local(m.port), old, 'first-use');
    const before = readFileSync(path, 'utf8');
    const alice = await session(local(m.port), 'alice', { knownHostsPath: path });
    alice.s.start();
    await alice.wait(() => alice.of('fatal').length > 0, 'refusal');
    expect(alice.of('fatal')[0]).toMatchObject({
      code: 'host-key-mismatch',
      expectedFingerprint: fingerprint(old),
      actualFingerprint: fingerprint(m.publicKey),
    });
    expect(readFileSync(path, 'utf8')).toBe(before);
    await m.connections[0]!.done;
    expect(m.connections[0]!.clientHello).toBeUndefined();
    expect(bytesFromClient(m.connections[0]!)).toBe(PREFACE_AND_MSG1);
  });
});
