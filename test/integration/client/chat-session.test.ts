import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeBase64Url } from '../../../src-shared/base64url.ts';
import { fingerprint } from '../../../src-shared/fingerprint.ts';
import {
  ChatSession,
  type ChatSessionOptions,
  ChatSessionError,
} from '../../../src-main/client/chat-session.ts';
import { createHostVerifier } from '../../../src-main/client/host-trust.ts';
import { memoryOutboxStore } from '../../../src-main/client/outbox.ts';
import type {
  ChatSessionEvents,
  SessionFatal,
  StateChange,
} from '../../../src-main/client/session-events.ts';
import type { HostInfo, HostMessage, Member } from '../../../src-main/protocol/wire/messages.ts';
import { WIRE_VERSION } from '../../../src-main/protocol/wire/messages.ts';
import { KnownHosts } from '../../../src-main/store/known-hosts.ts';
import { type TestHost, newKeyPair } from '../../support/loopback.ts';
import { Peer, scriptedHost, sessionTo, trustAnything } from '../../support/scripted-host.ts';
import { cleanupsAfterEach, until } from '../../support/lifecycle.ts';

// A scripted host built from acceptChannel: each test plays the host's side by hand, so it
// can send what a real host rarely does (rate limits, malformed messages, silence).

const cleanups = cleanupsAfterEach();

const HOST_INFO: HostInfo = {
  v: WIRE_VERSION,
  name: 'Fake',
  software: 'test',
  rooms: ['lobby', 'dev'],
  limits: { maxTextBytes: 16384, messagesPerSecond: 1000 },
};

function fakeHost(info: object = HOST_INFO): Promise<TestHost> {
  return scriptedHost(cleanups, info);
}

function session(h: TestHost, options: Partial<ChatSessionOptions> = {}) {
  const s = sessionTo(cleanups, h, options);
  const events = record(s);
  return { s, events };
}

/** Every event the session emitted, in order. */
function record(s: ChatSession) {
  const log: { name: keyof ChatSessionEvents; data: unknown }[] = [];
  const names: (keyof ChatSessionEvents)[] = [
    'state',
    'welcome',
    'message',
    'ack',
    'presence',
    'members',
    'synced',
    'typing',
    'nick',
    'history-end',
    'error',
    'fatal',
  ];
  for (const name of names) s.on(name, (data: unknown) => log.push({ name, data }));
  const of = <K extends keyof ChatSessionEvents>(name: K) =>
    log.filter((e) => e.name === name).map((e) => e.data as ChatSessionEvents[K][0]);
  return {
    log,
    of,
    wait: async <K extends keyof ChatSessionEvents>(name: K, count = 1) => {
      await until(() => of(name).length >= count, `${count} × ${name} event`);
      return of(name);
    },
  };
}

const member = (nick: string): Member => ({
  nick,
  fp: `FP-${nick}`,
  key: encodeBase64Url(new Uint8Array(32).fill(nick.length)),
});

const chat = (seq: number, history: boolean): Extract<HostMessage, { t: 'msg' }> => ({
  t: 'msg',
  room: 'lobby',
  seq,
  id: `message-${seq}`,
  from: 'bob',
  key: member('bob').key,
  text: `m${seq}`,
  ts: seq,
  ...(history ? { history: true } : {}),
});

const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Messages 1 and 2 arrive live, the connection drops, and the host admits the session again. */
async function rejoinAfterAbsence(h: TestHost, s: ChatSession, events: ReturnType<typeof record>) {
  let next = h.nextChannel();
  s.start();
  const first = new Peer(await next);
  await first.admit();
  first.send(chat(1, false), chat(2, false));
  await events.wait('message', 2);
  next = h.nextChannel();
  first.channel.close('shutdown', 'restart');
  await until(() => s.state !== 'connected', 'the connection to drop');
  const second = new Peer(await next);
  second.send({ t: 'welcome', nick: 'alice', fp: 'ME' });
  await second.waitFor('join');
  return second;
}

/** A ping the session answers: everything it wrote before the pong has arrived. */
async function roundTrip(peer: Peer): Promise<void> {
  const n = peer.of('pong').length;
  peer.send({ t: 'ping', n: 1000 + n });
  await peer.waitFor('pong', n + 1);
}

/** What rejoinAfterAbsence's first connection and the second's welcome and join produce. */
const FIRST_VISIT = ['welcome', 'members', 'synced', 'l1', 'l2', 'welcome', 'members'];

/** Event names and message seqs in order, without state changes. */
const timeline = (events: ReturnType<typeof record>) =>
  events.log
    .filter((e) => e.name !== 'state')
    .map((e) => {
      if (e.name !== 'message') return e.name;
      const m = e.data as Extract<HostMessage, { t: 'msg' }>;
      return `${m.history ? 'h' : 'l'}${m.seq}`;
    });

describe('ChatSession against a scripted host', () => {
  it('says hello, joins its rooms once welcomed and writes only once a room is synced', async () => {
    const h = await fakeHost();
    const { s, events } = session(h, { rooms: ['lobby', 'dev'] });
    const next = h.nextChannel();
    const early = s.send('lobby', 'typed before connecting');
    s.start();
    const peer = new Peer(await next);
    expect(peer.hello).toEqual({ v: WIRE_VERSION, nick: 'alice', software: 'parley/0.1.0' });
    peer.send({ t: 'welcome', nick: 'alice', fp: 'ME' });
    const joins = await peer.waitFor('join', 2);
    expect(joins.map((j) => j.room)).toEqual(['lobby', 'dev']);
    expect(s.state).toBe('connected');
    expect(peer.of('send')).toEqual([]);

    peer.send(
      { t: 'joined', room: 'lobby' },
      { t: 'members', room: 'lobby', members: [member('a'), member('bb')] },
      { t: 'members', room: 'lobby', members: [member('ccc')] },
      {
        t: 'msg',
        room: 'lobby',
        seq: 4,
        id: 'old-message-1',
        from: 'a',
        key: member('a').key,
        text: 'earlier',
        ts: 1,
        history: true,
      },
      { t: 'synced', room: 'lobby' },
    );
    const [sent] = await peer.waitFor('send');
    expect(sent).toEqual({ t: 'send', room: 'lobby', id: early, text: 'typed before connecting' });
    // Pages arrive as one list, before the history, which comes before `synced`.
    const order = events.log.map((e) => e.name).filter((n) => n !== 'state');
    expect(order).toEqual(['welcome', 'members', 'message', 'synced']);
    expect(events.of('members')[0]?.members.map((m) => m.nick)).toEqual(['a', 'bb', 'ccc']);
    expect(s.members('lobby')).toHaveLength(3);
    expect(events.of('message')[0]).toMatchObject({ text: 'earlier', history: true });

    peer.send({ t: 'ack', room: 'lobby', id: early, seq: 5, ts: 2 });
    expect(await events.wait('ack')).toEqual([
      { room: 'lobby', id: early, seq: 5, ts: 2, duplicate: false },
    ]);
    expect(s.pending).toEqual([]);
  });

  it('keeps members current from presence, and forwards typing and history answers', async () => {
    const h = await fakeHost();
    const { s, events } = session(h);
    const next = h.nextChannel();
    s.start();
    const peer = new Peer(await next);
    await peer.admit('alice', [member('a')]);
    await events.wait('synced');
    const bob = member('bob');
    peer.send(
      { t: 'presence', room: 'lobby', event: 'joined', ...bob },
      { t: 'presence', room: 'lobby', event: 'renamed', ...bob, newNick: 'robert' },
      { t: 'typing', room: 'lobby', nick: 'robert', fp: bob.fp },
    );
    await events.wait('typing');
    expect(s.members('lobby').map((m) => m.nick)).toEqual(['a', 'robert']);
    peer.send({ t: 'presence', room: 'lobby', event: 'disconnected', ...bob, nick: 'robert' });
    await events.wait('presence', 3);
    expect(s.members('lobby').map((m) => m.nick)).toEqual(['a']);

    expect(s.loadOlder('lobby', 100, 50)).toBe(true);
    expect((await peer.waitFor('history'))[0]).toEqual({
      t: 'history',
      room: 'lobby',
      before: 100,
      limit: 50,
    });
    peer.send({ t: 'history-end', room: 'lobby', more: false });
    expect(await events.wait('history-end')).toEqual([{ room: 'lobby', more: false }]);
  });

  it('throttles typing notices to one per room per 3 s', async () => {
    let now = 1_000_000;
    const h = await fakeHost();
    const { s, events } = session(h, { rooms: ['lobby', 'dev'], now: () => now });
    const next = h.nextChannel();
    s.start();
    const peer = new Peer(await next);
    await peer.admit();
    await events.wait('synced', 2);
    expect([s.typing('lobby'), s.typing('lobby'), s.typing('dev')]).toEqual([true, false, true]);
    now += 2999;
    expect(s.typing('lobby')).toBe(false);
    now += 1;
    expect(s.typing('lobby')).toBe(true);
    await peer.waitFor('typing', 3);
    expect(peer.of('typing').map((t) => t.room)).toEqual(['lobby', 'dev', 'lobby']);
  });

  it('resends a rate-limited message after retryAfterMs, keeping the order', async () => {
    const h = await fakeHost();
    const { s, events } = session(h);
    const next = h.nextChannel();
    s.start();
    const peer = new Peer(await next);
    await peer.admit();
    await events.wait('synced');
    const ids = ['one', 'two', 'three', 'four'].map((text) => s.send('lobby', text));
    await peer.waitFor('send', 4);
    const refusedAt = Date.now();
    peer.send({ t: 'ack', room: 'lobby', id: ids[0]!, seq: 1, ts: 1 });
    for (const id of ids.slice(1)) {
      peer.send({
        t: 'error',
        code: 'rate-limited',
        message: 'slow down',
        ref: id,
        retryAfterMs: 150,
      });
    }
    const sends = await peer.waitFor('send', 7);
    expect(Date.now() - refusedAt).toBeGreaterThanOrEqual(140);
    expect(sends.map((m) => m.text)).toEqual([
      'one',
      'two',
      'three',
      'four',
      'two',
      'three',
      'four',
    ]);
    expect(sends.slice(4).map((m) => m.id)).toEqual(ids.slice(1)); // same ids: the host dedupes
    for (const [i, id] of ids.slice(1).entries()) {
      peer.send({ t: 'ack', room: 'lobby', id, seq: i + 2, ts: 1 });
    }
    await events.wait('ack', 4);
    expect(events.of('ack').map((a) => a.id)).toEqual(ids);
    expect(events.of('error')[0]).toMatchObject({
      code: 'rate-limited',
      ref: ids[1],
      room: 'lobby',
    });
  });

  it('drops a message the host finds too long and hands it back in the error', async () => {
    const h = await fakeHost();
    const { s, events } = session(h);
    const next = h.nextChannel();
    s.start();
    const peer = new Peer(await next);
    await peer.admit();
    await events.wait('synced');
    const id = s.send('lobby', 'x'.repeat(500));
    await peer.waitFor('send');
    peer.send({ t: 'error', code: 'text-too-long', message: 'at most 100 bytes', ref: id });
    const [error] = await events.wait('error');
    expect(error).toMatchObject({ code: 'text-too-long', room: 'lobby', dropped: { id } });
    expect(s.pending).toEqual([]);
  });

  it('refuses what can never be sent, synchronously', async () => {
    const h = await fakeHost();
    const { s } = session(h);
    expect(() => s.send('lobby', '')).toThrow(ChatSessionError);
    expect(() => s.send('lobby', 'é'.repeat(8193))).toThrow(/16384 bytes/);
    expect(() => s.send('elsewhere', 'hi')).toThrow(/join "elsewhere"/);
    expect(() => s.setNick('no spaces')).toThrow(ChatSessionError);
    expect(() => s.join('Not A Room')).toThrow(ChatSessionError);
    expect(
      () =>
        new ChatSession({
          address: { host: '127.0.0.1', port: 1 },
          identity: newKeyPair(),
          nick: '',
          trust: trustAnything(1),
          rooms: [],
        }),
    ).toThrow(ChatSessionError);
  });

  it('after the host shuts down, reconnects and resends what was not acknowledged, same ids', async () => {
    const h = await fakeHost();
    const { s, events } = session(h);
    let next = h.nextChannel();
    s.start();
    const first = new Peer(await next);
    await first.admit();
    await events.wait('synced');
    const ids = [s.send('lobby', 'acked'), s.send('lobby', 'lost in flight')];
    await first.waitFor('send', 2);
    first.send({ t: 'ack', room: 'lobby', id: ids[0]!, seq: 1, ts: 1 });
    await events.wait('ack');
    next = h.nextChannel();
    first.channel.close('shutdown', 'restarting');
    await until(() => s.state !== 'connected', 'the connection to drop');
    const queued = s.send('lobby', 'written while away');
    const second = new Peer(await next);
    await second.admit();
    const resent = await second.waitFor('send', 2);
    expect(resent.map((m) => [m.id, m.text])).toEqual([
      [ids[1], 'lost in flight'],
      [queued, 'written while away'],
    ]);
    const reconnect = events.of('state').find((e) => e.state === 'reconnecting');
    expect(reconnect).toMatchObject({ attempt: 1, reason: 'shutdown: restarting' });
    expect(reconnect?.retryInMs).toBeLessThan(20);
  });

  it('does not deliver history it already delivered when it rejoins', async () => {
    const h = await fakeHost();
    const { s, events } = session(h);
    let next = h.nextChannel();
    s.start();
    const msg = chat;
    const first = new Peer(await next);
    await first.admit();
    first.send(msg(1, false), msg(2, false));
    await events.wait('message', 2);
    next = h.nextChannel();
    first.channel.close('shutdown', 'restart');
    const second = new Peer(await next);
    second.send({ t: 'welcome', nick: 'alice', fp: 'ME' });
    await second.waitFor('join');
    second.send(
      { t: 'joined', room: 'lobby' },
      { t: 'members', room: 'lobby', members: [] },
      msg(1, true),
      msg(2, true),
      msg(3, true), // missed while away
      { t: 'synced', room: 'lobby' },
      msg(4, false),
    );
    await events.wait('message', 4);
    expect(events.of('message').map((m) => [m.seq, m.history ?? false])).toEqual([
      [1, false],
      [2, false],
      [3, true],
      [4, false],
    ]); // The replay reached back to message 2: nothing to page back for.
    await roundTrip(second);
    expect(second.of('history')).toEqual([]);
  });

  it('pages back over two requests when a rejoin missed more than the host replays', async () => {
    const h = await fakeHost();
    const { s, events } = session(h);
    const peer = await rejoinAfterAbsence(h, s, events);
    peer.send(
      { t: 'joined', room: 'lobby' },
      { t: 'members', room: 'lobby', members: [] },
      ...range(10, 12).map((seq) => chat(seq, true)),
      { t: 'synced', room: 'lobby' },
    );
    expect(await peer.waitFor('history')).toEqual([
      { t: 'history', room: 'lobby', before: 10, limit: 500 },
    ]);
    peer.send(...range(6, 9).map((seq) => chat(seq, true)), {
      t: 'history-end',
      room: 'lobby',
      more: true,
    });
    expect((await peer.waitFor('history', 2))[1]).toMatchObject({ before: 6, limit: 500 });
    expect(events.of('synced')).toHaveLength(1); // the first join's only
    // This page reaches message 2, which was delivered live: the gap is closed.
    peer.send(...range(1, 5).map((seq) => chat(seq, true)), {
      t: 'history-end',
      room: 'lobby',
      more: true,
    });
    await events.wait('synced', 2);
    await roundTrip(peer);
    expect(peer.of('history')).toHaveLength(2);
    expect(timeline(events)).toEqual([
      ...FIRST_VISIT,
      ...range(3, 12).map((seq) => `h${seq}`),
      'synced',
    ]);
    expect(events.of('history-end')).toEqual([]); // gap pages are not the UI's business

    // Paging back by hand still ends in history-end.
    expect(s.loadOlder('lobby', 1, 50)).toBe(true);
    await peer.waitFor('history', 3);
    peer.send(chat(0, true), { t: 'history-end', room: 'lobby', more: false });
    expect(await events.wait('history-end')).toEqual([{ room: 'lobby', more: false }]);
    expect(events.of('message').at(-1)).toMatchObject({ seq: 0, history: true });
  });

  it('holds live messages and the outbox while paging back, then delivers them in order', async () => {
    const h = await fakeHost();
    const { s, events } = session(h);
    const peer = await rejoinAfterAbsence(h, s, events);
    const id = s.send('lobby', 'written while away');
    peer.send(
      { t: 'joined', room: 'lobby' },
      { t: 'members', room: 'lobby', members: [] },
      ...range(10, 12).map((seq) => chat(seq, true)),
      { t: 'synced', room: 'lobby' },
    );
    await peer.waitFor('history');
    peer.send(chat(13, false), chat(14, false));
    await roundTrip(peer);
    expect(events.of('message')).toHaveLength(2); // still the first two
    expect(peer.of('send')).toEqual([]); // the outbox waits for synced
    peer.send(...range(3, 9).map((seq) => chat(seq, true)), {
      t: 'history-end',
      room: 'lobby',
      more: false,
    });
    expect((await peer.waitFor('send'))[0]).toMatchObject({ id, text: 'written while away' });
    expect(timeline(events)).toEqual([
      ...FIRST_VISIT,
      ...range(3, 12).map((seq) => `h${seq}`),
      'synced',
      'l13',
      'l14',
    ]);
    expect(peer.of('history')).toHaveLength(1);
  });

  it('stops paging back after 20 pages and says older messages were not loaded', async () => {
    const h = await fakeHost();
    const { s, events } = session(h);
    const peer = await rejoinAfterAbsence(h, s, events);
    peer.send(
      { t: 'joined', room: 'lobby' },
      { t: 'members', room: 'lobby', members: [] },
      chat(1000, true),
      { t: 'synced', room: 'lobby' },
    );
    // A host that always has more: one message per page.
    for (let page = 1; page <= 20; page++) {
      const request = (await peer.waitFor('history', page))[page - 1]!;
      expect(request.before).toBe(1001 - page);
      peer.send(chat(request.before - 1, true), { t: 'history-end', room: 'lobby', more: true });
    }
    await events.wait('synced', 2);
    await roundTrip(peer);
    expect(peer.of('history')).toHaveLength(20);
    expect(events.of('error')).toEqual([
      expect.objectContaining({ code: 'history-gap', room: 'lobby' }),
    ]);
    expect(timeline(events)).toEqual([
      ...FIRST_VISIT,
      'error',
      ...range(980, 1000).map((seq) => `h${seq}`),
      'synced',
    ]);
  });

  it('answers pings, pings when idle, and reconnects when the host falls silent', async () => {
    const h = await fakeHost();
    const { s, events } = session(h, { pingIntervalMs: 60, timeoutMs: 300 });
    let next = h.nextChannel();
    s.start();
    const first = new Peer(await next);
    await first.admit();
    first.send({ t: 'ping', n: 42 });
    expect((await first.waitFor('pong'))[0]).toEqual({ t: 'pong', n: 42 });
    next = h.nextChannel();
    const pings = await first.waitFor('ping', 2); // and never answered
    expect(pings[1]!.n).toBeGreaterThan(pings[0]!.n);
    await events.wait('state', 4);
    const reconnecting = events.of('state').find((e) => e.state === 'reconnecting');
    expect(reconnecting?.reason).toMatch(/^connection-lost: no traffic from the host for 0\.\d s$/);
    const second = new Peer(await next);
    await second.admit();
    await until(() => s.state === 'connected', 'connected again');
  });

  it('closes a connection that breaks the protocol, then reconnects', async () => {
    const h = await fakeHost();
    const { s, events } = session(h);
    let next = h.nextChannel();
    s.start();
    const first = new Peer(await next);
    const closed = new Promise((resolve) => first.channel.on('close', resolve));
    await first.admit();
    next = h.nextChannel();
    first.channel.send(new TextEncoder().encode('{"t":"msg","room":"lobby"}'));
    expect(await closed).toMatchObject({ by: 'peer', code: 'protocol-error' });
    await next;
    expect(events.of('state').find((e) => e.state === 'reconnecting')?.reason).toMatch(
      /^protocol-error: invalid seq/,
    );
    expect(s.state).not.toBe('stopped');
  });

  it('a nick-taken close is fatal: no reconnect', async () => {
    const h = await fakeHost();
    const { s, events } = session(h);
    const next = h.nextChannel();
    s.start();
    const peer = new Peer(await next);
    peer.channel.close('nick-taken', 'the nickname "alice" belongs to another key');
    const [fatal] = await events.wait('fatal');
    expect(fatal).toEqual({
      code: 'nick-taken',
      message: 'the nickname "alice" belongs to another key',
    });
    await until(() => s.state === 'stopped', 'stopped');
    await new Promise((r) => setTimeout(r, 100));
    expect(h.channels).toHaveLength(1);
    expect(() => s.send('lobby', 'hi')).toThrow(/stopped/);
  });

  it('refuses a host whose info it cannot read', async () => {
    const h = await fakeHost({ v: 2, name: 'future' });
    const { s, events } = session(h);
    s.start();
    const [fatal] = await events.wait('fatal');
    expect(fatal?.code).toBe('incompatible-host');
  });

  it('stop() says goodbye and keeps unacknowledged messages in the outbox store', async () => {
    const h = await fakeHost();
    const store = memoryOutboxStore();
    const { s, events } = session(h, { outboxStore: store });
    const next = h.nextChannel();
    s.start();
    const peer = new Peer(await next);
    const closed = new Promise((resolve) => peer.channel.on('close', resolve));
    await peer.admit();
    await events.wait('synced');
    const id = s.send('lobby', 'not acknowledged');
    await peer.waitFor('send');
    await s.stop();
    expect(await closed).toMatchObject({ by: 'peer', code: 'bye' });
    expect(s.state).toBe('stopped');
    expect((await store.load()).map((e) => e.id)).toEqual([id]);

    const { s: later } = session(h, { outboxStore: store });
    const again = h.nextChannel();
    later.start();
    const peer2 = new Peer(await again);
    await peer2.admit();
    expect((await peer2.waitFor('send'))[0]).toMatchObject({ id, text: 'not acknowledged' });
  });
});

describe('ChatSession host checks', () => {
  async function knownHosts(): Promise<KnownHosts> {
    const dir = mkdtempSync(join(tmpdir(), 'parley-session-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    return KnownHosts.load(join(dir, 'known-hosts.json'));
  }

  it('a changed key is fatal and nothing is sent', async () => {
    const h = await fakeHost();
    const known = await knownHosts();
    const address = { host: '127.0.0.1', port: h.port };
    const pinned = newKeyPair().publicKey;
    await known.pin(address, pinned, 'invite');
    const trust = createHostVerifier({
      address,
      knownHosts: known,
      policy: { trustNewHost: true },
    });
    const { s, events } = session(h, { trust });
    s.start();
    const [fatal] = await events.wait('fatal');
    expect(fatal).toMatchObject({
      code: 'host-key-mismatch',
      expectedFingerprint: fingerprint(pinned),
      actualFingerprint: fingerprint(h.keyPair.publicKey),
    } satisfies Partial<SessionFatal>);
    expect(h.channels).toHaveLength(0);
    expect(known.get(address)?.key).toEqual(pinned);
  });

  it('asks about an unknown host outside the handshake, then connects and pins it', async () => {
    const h = await fakeHost();
    const known = await knownHosts();
    const address = { host: '127.0.0.1', port: h.port };
    const asked: string[] = [];
    const trust = createHostVerifier({
      address,
      knownHosts: known,
      policy: {
        confirmNewHost: async (print) => {
          asked.push(print);
          await new Promise((r) => setTimeout(r, 100)); // a person reading
          return true;
        },
      },
    });
    const { s, events } = session(h, { trust, handshakeTimeoutMs: 50 });
    const next = h.nextChannel();
    s.start();
    const peer = new Peer(await next);
    await peer.admit();
    const [welcome] = await events.wait('welcome');
    expect(asked).toEqual([fingerprint(h.keyPair.publicKey)]);
    expect(welcome?.host.trust).toMatchObject({ method: 'first-use', newlyPinned: true });
    expect(known.get(address)?.key).toEqual(h.keyPair.publicKey);
    expect(events.of('state').map((e: StateChange) => e.state)).not.toContain('reconnecting');
  });

  it('an unknown host that nobody vouches for is fatal, with its fingerprint', async () => {
    const h = await fakeHost();
    const trust = createHostVerifier({
      address: { host: '127.0.0.1', port: h.port },
      knownHosts: await knownHosts(),
      policy: { trustNewHost: false },
    });
    const { s, events } = session(h, { trust });
    s.start();
    const [fatal] = await events.wait('fatal');
    expect(fatal).toMatchObject({
      code: 'host-key-unknown',
      fingerprint: fingerprint(h.keyPair.publicKey),
    });
  });
});
