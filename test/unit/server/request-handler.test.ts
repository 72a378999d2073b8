import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encodeBase64Url } from '../../../src-shared/base64url.ts';
import { encodeMessage } from '../../../src-main/protocol/wire/codec.ts';
import { loadHostSchemas } from '../../../src-main/protocol/wire/host-schemas-loader.ts';
import type { ClientMessage } from '../../../src-main/protocol/wire/messages.ts';
import { ConnectedClient } from '../../../src-main/server/connected-client.ts';
import type { Fanout, LocalFanout } from '../../../src-main/server/fanout.ts';
import { HostDatabase, type StoredMessage } from '../../../src-main/server/host-database.ts';
import { DEFAULT_LIMITS, type HostLimits } from '../../../src-main/server/host-limits.ts';
import type { LogLevel } from '../../../src-main/server/host-log.ts';
import { KeyBudgets } from '../../../src-main/server/key-budgets.ts';
import { NicknameRegistry } from '../../../src-main/server/nickname-registry.ts';
import { RequestHandler } from '../../../src-main/server/request-handler.ts';
import { RoomRegistry } from '../../../src-main/server/room-registry.ts';
import { RecordingChannel } from '../../support/recording-channel.ts';

// A host loads its schemas with its first connection (serve-after-schemas.ts); here there is none.
beforeAll(() => loadHostSchemas());

// The host's request handler driven directly: real rooms, budgets, nickname registry and a real
// HostDatabase (node:sqlite) in a temporary folder; recording channels instead of sockets, and
// the handler's clock in the test's hand, so limits are checked without waiting.

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

/** Chat messages only: the rows of room events (members joining) left out. */
const chat = (rows: StoredMessage[]) => rows.filter((row) => !row.event);

/** One turn of the event loop: group commit, coalesced presence and nickname claims run. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

let keySeed = 0;

function setup(overrides: Partial<HostLimits> = {}, fanout?: (local: LocalFanout) => Fanout) {
  const dir = mkdtempSync(join(tmpdir(), 'parley-handler-'));
  const file = join(dir, 'history.sqlite');
  const limits: HostLimits = { ...DEFAULT_LIMITS, ...overrides };
  // busyTimeoutMs 0: a write lock held elsewhere fails at once, as the host's 100 ms would.
  const db = HostDatabase.open(file, { historyLimit: limits.historyLimit, busyTimeoutMs: 0 });
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanups.push(() => db.close());
  const clock = { t: 1_700_000_000_000 };
  const now = () => clock.t;
  const logged: { level: LogLevel; event: string }[] = [];
  const log = (level: LogLevel, event: string) => logged.push({ level, event });
  const failures: unknown[] = [];
  const rooms = new RoomRegistry();
  // Two private rooms; each connection's key is made a member of both (see connect).
  for (const name of ['lobby', 'den']) {
    db.rooms.createRoom({ name, kind: 'room', open: false }, [], undefined, clock.t);
  }
  const nicknames = new NicknameRegistry(db, {
    onStoreError: () => log('error', 'nick-store-failed'),
    onCallbackError: () => log('error', 'nick-claim-failed'),
  });
  const handler = new RequestHandler({
    rooms,
    db,
    nicknames,
    limits,
    log,
    now,
    onClientFailure: (_client, error) => failures.push(error),
    ...(fanout ? { fanout } : {}),
  });
  cleanups.push(() => handler.flush()); // cleanups run in reverse: before the database closes
  const budgets = new KeyBudgets(limits);
  const channels: RecordingChannel[] = [];

  /** A welcomed connection under `nick`, its key owning the name; a new key unless given. */
  function connect(nick: string, key = new Uint8Array(32).fill(++keySeed)) {
    db.claimNick(nick, key);
    for (const room of ['lobby', 'den']) {
      if (!db.rooms.member(room, key)) db.rooms.addMember(room, { key, nick }, 'member', clock.t);
    }
    const channel = new RecordingChannel(key);
    channels.push(channel);
    const client = new ConnectedClient(
      channel,
      nick,
      limits,
      now(),
      budgets.for(encodeBase64Url(key), now()),
    );
    handler.connected(client);
    const request = (message: ClientMessage) => handler.handle(client, encodeMessage(message));
    return { client, channel, request, key };
  }

  /** Connects and joins `room`; then every channel forgets what it was sent so far. */
  async function member(nick: string, room = 'lobby') {
    const m = connect(nick);
    m.request({ t: 'join', room });
    await turn();
    for (const channel of channels) channel.clear();
    return m;
  }

  return { db, file, limits, clock, logged, failures, handler, connect, member };
}

describe('RequestHandler: join and leave', () => {
  it('answers a join with joined, the member list, recent history and synced; the room hears of it', async () => {
    const h = setup();
    const bob = await h.member('bob');
    bob.request({ t: 'send', room: 'lobby', id: 'bobby-01', text: 'before you came' });
    await turn();
    const alice = h.connect('alice');
    alice.request({ t: 'join', room: 'lobby' });
    // The room's events (who became a member) are in its timeline too; here only chat counts.
    expect(alice.channel.sent.map((m) => m.t).filter((t) => t !== 'event')).toEqual([
      'joined',
      'members',
      'msg',
      'synced',
    ]);
    expect(alice.channel.of('members')[0]).toMatchObject({ room: 'lobby', last: true });
    expect(
      alice.channel
        .of('members')[0]
        ?.members.map((m) => m.nick)
        .sort(),
    ).toEqual(['alice', 'bob']);
    expect(alice.channel.of('msg')[0]).toMatchObject({
      text: 'before you came',
      from: 'bob',
      history: true,
    });
    // Presence is told at the end of the turn, coalesced.
    expect(bob.channel.of('presence')).toEqual([]);
    await turn();
    expect(bob.channel.of('presence')).toMatchObject([
      { room: 'lobby', event: 'joined', nick: 'alice' },
    ]);
  });

  it('refuses a room that does not exist, and a leave of a room not joined', () => {
    const h = setup();
    const alice = h.connect('alice');
    alice.request({ t: 'join', room: 'attic' });
    alice.request({ t: 'leave', room: 'den' });
    expect(alice.channel.of('error')).toMatchObject([
      { code: 'unknown-room', ref: 'attic' },
      { code: 'not-in-room', ref: 'den' },
    ]);
    expect(alice.client.rooms.size).toBe(0);
  });

  it('a leave is answered `left` and the others see the member go', async () => {
    const h = setup();
    const alice = await h.member('alice');
    const bob = await h.member('bob');
    alice.channel.clear();
    bob.request({ t: 'leave', room: 'lobby' });
    expect(bob.channel.sent).toEqual([{ t: 'left', room: 'lobby' }]);
    await turn();
    expect(alice.channel.of('presence')).toMatchObject([{ event: 'left', nick: 'bob' }]);
    // A disconnection is told as such, and never answered to the one who is gone.
    h.handler.disconnected(alice.client, 'disconnected');
    await turn();
    expect(alice.channel.of('left')).toEqual([]);
  });

  it('joining again after a leave spends the membership budget; the first join is free', async () => {
    const h = setup({ membershipBurst: 2, membershipPerSecond: 1 });
    const alice = await h.member('alice');
    alice.request({ t: 'leave', room: 'lobby' }); // 1
    alice.request({ t: 'join', room: 'lobby' }); // 2
    alice.request({ t: 'leave', room: 'lobby' }); // refused
    expect(alice.channel.of('error')).toMatchObject([
      { code: 'rate-limited', ref: 'lobby', retryAfterMs: 1000 },
    ]);
    expect(alice.client.rooms.has('lobby')).toBe(true);
    expect(alice.client.budget.refused.membership).toBe(1);
    h.clock.t += 1000;
    alice.request({ t: 'leave', room: 'lobby' });
    expect(alice.client.rooms.has('lobby')).toBe(false);
  });
});

describe('RequestHandler: send', () => {
  it('stores a message, then acknowledges the sender and fans it out to the others', async () => {
    const h = setup();
    const alice = await h.member('alice');
    const bob = await h.member('bob');
    alice.request({ t: 'send', room: 'lobby', id: 'alice-01', text: 'hello' });
    // Nothing before the turn's commit: an ack means "on disk".
    expect(alice.channel.sent).toEqual([]);
    expect(bob.channel.of('msg')).toEqual([]);
    await turn();
    const [ack] = alice.channel.of('ack');
    expect(ack).toMatchObject({ room: 'lobby', id: 'alice-01', ts: h.clock.t });
    expect(alice.channel.of('msg')).toEqual([]); // an ack instead of an echo
    expect(bob.channel.of('msg')).toMatchObject([
      { room: 'lobby', id: 'alice-01', from: 'alice', text: 'hello', seq: ack?.seq },
    ]);
    expect(chat(h.db.recentMessages('lobby', 10)).map((m) => m.text)).toEqual(['hello']);
  });

  it('acknowledges a resend as a duplicate, and fans it out only once', async () => {
    const h = setup();
    const alice = await h.member('alice');
    const bob = await h.member('bob');
    alice.request({ t: 'send', room: 'lobby', id: 'alice-01', text: 'once' });
    await turn();
    alice.request({ t: 'send', room: 'lobby', id: 'alice-01', text: 'once' });
    await turn();
    const acks = alice.channel.of('ack');
    expect(acks).toHaveLength(2);
    expect(acks[1]).toMatchObject({ duplicate: true, seq: acks[0]?.seq });
    expect(bob.channel.of('msg')).toHaveLength(1);
  });

  it('refuses a send to a room the client is not in', async () => {
    const h = setup();
    const alice = await h.member('alice');
    alice.request({ t: 'send', room: 'den', id: 'alice-01', text: 'hi' });
    await turn();
    expect(alice.channel.sent).toMatchObject([
      { t: 'error', code: 'not-in-room', ref: 'alice-01' },
    ]);
  });

  it('refuses text over the byte limit, counted in UTF-8', async () => {
    const h = setup({ maxTextBytes: 10 });
    const alice = await h.member('alice');
    alice.request({ t: 'send', room: 'lobby', id: 'alice-01', text: 'ééééé' }); // 10 bytes
    alice.request({ t: 'send', room: 'lobby', id: 'alice-02', text: 'éééééé' }); // 12 bytes
    await turn();
    expect(alice.channel.of('ack').map((a) => a.id)).toEqual(['alice-01']);
    expect(alice.channel.of('error')).toMatchObject([{ code: 'text-too-long', ref: 'alice-02' }]);
  });

  it('refuses text within the byte limit whose escaped size cannot fit one record item, storing nothing', async () => {
    const h = setup();
    const alice = await h.member('alice');
    const bob = await h.member('bob');
    // 12 000 control characters: 12 000 UTF-8 bytes, under the limit, but six each in JSON.
    const text = '\u0001'.repeat(12_000);
    expect(Buffer.byteLength(text)).toBeLessThan(h.limits.maxTextBytes);
    alice.request({ t: 'send', room: 'lobby', id: 'alice-01', text });
    await turn();
    const [error] = alice.channel.of('error');
    expect(error).toMatchObject({ code: 'text-too-long', ref: 'alice-01' });
    expect(error?.message).toMatch(/escaped/);
    expect(alice.channel.of('ack')).toEqual([]);
    expect(bob.channel.of('msg')).toEqual([]);
    expect(chat(h.db.recentMessages('lobby', 10))).toEqual([]);
    // The same number of plain letters fits, and is delivered whole.
    alice.request({ t: 'send', room: 'lobby', id: 'alice-02', text: 'x'.repeat(12_000) });
    await turn();
    expect(bob.channel.of('msg')[0]?.text).toHaveLength(12_000);
  });

  it('rate-limits sends on the key budget, keeps refusing until the wait is over, then closes for flooding', async () => {
    const h = setup({ messageBurst: 2, messagesPerSecond: 1, floodStrikes: 3 });
    const alice = await h.member('alice');
    const send = (id: string) => alice.request({ t: 'send', room: 'lobby', id, text: id });
    send('msg-0001');
    send('msg-0002');
    send('msg-0003'); // refused: wait 1000 ms
    h.clock.t += 600; // 0.6 token back, and still inside the wait
    send('msg-0004');
    await turn();
    expect(alice.channel.of('ack').map((a) => a.id)).toEqual(['msg-0001', 'msg-0002']);
    expect(alice.channel.of('error')).toMatchObject([
      { code: 'rate-limited', ref: 'msg-0003', retryAfterMs: 1000 },
      { code: 'rate-limited', ref: 'msg-0004', retryAfterMs: 400 },
    ]);
    h.clock.t += 400;
    send('msg-0005'); // accepted: the refusals in a row start again
    send('msg-0006');
    send('msg-0007');
    send('msg-0008');
    expect(alice.channel.closedWith).toBeUndefined();
    send('msg-0009'); // the fourth refusal in a row
    expect(alice.channel.closedWith).toMatchObject({ code: 'flooding', discardPending: true });
    expect(alice.client.budget.refused.messages).toBe(6);
    expect(h.logged).toContainEqual({ level: 'warn', event: 'client-flooding' });
  });

  it('shares the message budget between the connections of one key', async () => {
    const h = setup({ messageBurst: 1, messagesPerSecond: 1 });
    const first = await h.member('alice');
    const second = h.connect('alice', first.key);
    second.request({ t: 'join', room: 'lobby' });
    first.request({ t: 'send', room: 'lobby', id: 'alice-01', text: 'one' });
    second.request({ t: 'send', room: 'lobby', id: 'alice-02', text: 'two' });
    await turn();
    expect(first.channel.of('ack')).toHaveLength(1);
    expect(second.channel.of('error')).toMatchObject([{ code: 'rate-limited', ref: 'alice-02' }]);
  });

  it('answers a send the store cannot take with `internal` and no ack; the resend is stored once', async () => {
    const h = setup();
    const alice = await h.member('alice');
    const bob = await h.member('bob');
    // A real fault: another connection holds SQLite's write lock.
    const other = new DatabaseSync(h.file);
    other.exec('BEGIN IMMEDIATE');
    alice.request({ t: 'send', room: 'lobby', id: 'alice-01', text: 'kept by the client' });
    await turn();
    expect(alice.channel.of('ack')).toEqual([]);
    expect(alice.channel.of('error')).toMatchObject([
      { code: 'internal', ref: 'alice-01', retryAfterMs: 1000 },
    ]);
    expect(bob.channel.of('msg')).toEqual([]);
    expect(h.logged).toContainEqual({ level: 'error', event: 'history-write-failed' });
    expect(alice.channel.closed).toBe(false);
    other.exec('ROLLBACK');
    other.close();
    alice.request({ t: 'send', room: 'lobby', id: 'alice-01', text: 'kept by the client' });
    await turn();
    expect(alice.channel.of('ack')).toMatchObject([{ id: 'alice-01' }]);
    expect(bob.channel.of('msg')).toMatchObject([{ id: 'alice-01' }]);
    expect(chat(h.db.recentMessages('lobby', 10))).toHaveLength(1);
  });

  it('answers a room it cannot read with `internal`, and leaves the client out of it', async () => {
    const h = setup();
    const alice = h.connect('alice');
    // A real fault under the handler: the history table is gone from the file.
    const other = new DatabaseSync(h.file);
    other.exec('ALTER TABLE messages RENAME TO gone');
    other.close();
    alice.request({ t: 'join', room: 'lobby' });
    expect(alice.channel.sent).toMatchObject([
      { t: 'error', code: 'internal', ref: 'lobby', retryAfterMs: 1000 },
    ]);
    expect(alice.client.rooms.size).toBe(0);
    expect(h.logged).toContainEqual({ level: 'error', event: 'storage-failed' });
  });
});

describe('RequestHandler: typing, nick, history, ping', () => {
  it('passes typing to the others in the room at most once per interval, and within its budget', async () => {
    const h = setup({ typingIntervalMs: 2000, typingBurst: 2, typingPerSecond: 0.1 });
    const alice = await h.member('alice');
    const bob = await h.member('bob');
    alice.request({ t: 'typing', room: 'lobby' });
    alice.request({ t: 'typing', room: 'lobby' }); // within the interval: dropped
    expect(bob.channel.of('typing')).toMatchObject([{ room: 'lobby', nick: 'alice' }]);
    expect(alice.channel.sent).toEqual([]);
    h.clock.t += 2000;
    alice.request({ t: 'typing', room: 'lobby' });
    h.clock.t += 2000;
    alice.request({ t: 'typing', room: 'lobby' }); // budget spent: dropped quietly
    alice.request({ t: 'typing', room: 'den' }); // not in the room: dropped quietly
    expect(bob.channel.of('typing')).toHaveLength(2);
    expect(alice.channel.sent).toEqual([]);
    expect(alice.client.budget.refused.typing).toBe(1);
  });

  it('renames every connection of the key, once the name is stored, and tells each room once', async () => {
    const h = setup();
    const alice = await h.member('alice');
    const again = h.connect('alice', alice.key);
    again.request({ t: 'join', room: 'den' });
    await turn();
    const bob = await h.member('bob');
    alice.channel.clear();
    again.channel.clear();
    alice.request({ t: 'nick', nick: 'ada' });
    expect(alice.channel.sent).toEqual([]); // a new name is a durable write: after the commit
    await turn();
    expect(alice.channel.sent).toEqual([{ t: 'nick', nick: 'ada' }]);
    // The key's other connection is in #den alone: it is told, and its member list updates.
    expect(again.channel.sent).toMatchObject([
      { t: 'nick', nick: 'ada' },
      { t: 'presence', room: 'den', event: 'renamed', nick: 'alice', newNick: 'ada' },
    ]);
    expect(again.client.nick).toBe('ada');
    expect(bob.channel.of('presence')).toMatchObject([
      { room: 'lobby', event: 'renamed', nick: 'alice', newNick: 'ada' },
    ]);
    expect(encodeBase64Url(h.db.nickOwner('ada') ?? new Uint8Array())).toBe(alice.client.keyText);
  });

  it('refuses a name another key owns, and answers the own name at once', async () => {
    const h = setup();
    const alice = await h.member('alice');
    await h.member('bob');
    alice.request({ t: 'nick', nick: 'bob' });
    alice.request({ t: 'nick', nick: 'alice' });
    expect(alice.channel.sent).toMatchObject([
      { t: 'error', code: 'nick-taken', ref: 'bob' },
      { t: 'nick', nick: 'alice' },
    ]);
    expect(alice.client.nick).toBe('alice');
  });

  it('spends the rename budget, and answers a name the store cannot save with `internal`', async () => {
    const h = setup({ renameBurst: 1, renamesPerMinute: 1 });
    const alice = await h.member('alice');
    const other = new DatabaseSync(h.file);
    other.exec('BEGIN IMMEDIATE');
    alice.request({ t: 'nick', nick: 'ada' });
    await turn();
    other.exec('ROLLBACK');
    other.close();
    alice.request({ t: 'nick', nick: 'ada' });
    await turn();
    expect(alice.channel.sent).toMatchObject([
      { t: 'error', code: 'internal', ref: 'ada', retryAfterMs: 1000 },
      { t: 'error', code: 'rate-limited', ref: 'ada', retryAfterMs: 60_000 },
    ]);
    expect(alice.client.nick).toBe('alice');
  });

  it('pages history backwards with `more`, only for members, within its budget', async () => {
    const h = setup({ historyBurst: 2, historyPagesPerSecond: 1 });
    const alice = await h.member('alice');
    for (let i = 1; i <= 5; i++) {
      alice.request({ t: 'send', room: 'lobby', id: `alice-0${i}`, text: `m${i}` });
      h.clock.t += 1000;
    }
    await turn();
    const seqs = alice.channel.of('ack').map((a) => a.seq);
    alice.channel.clear();
    alice.request({ t: 'history', room: 'lobby', before: seqs[4] ?? 0, limit: 2 });
    expect(alice.channel.sent).toMatchObject([
      { t: 'msg', text: 'm3', history: true },
      { t: 'msg', text: 'm4', history: true },
      { t: 'history-end', room: 'lobby', more: true },
    ]);
    alice.channel.clear();
    alice.request({ t: 'history', room: 'lobby', before: seqs[2] ?? 0, limit: 5 });
    expect(
      alice.channel.sent.filter((m) => m.t !== 'event').map((m) => (m.t === 'msg' ? m.text : m.t)),
    ).toEqual(['m1', 'm2', 'history-end']);
    expect(alice.channel.of('history-end')[0]?.more).toBe(false);
    alice.channel.clear();
    alice.request({ t: 'history', room: 'lobby', before: seqs[2] ?? 0, limit: 5 });
    alice.request({ t: 'history', room: 'den', before: 1, limit: 5 });
    expect(alice.channel.sent).toMatchObject([
      { t: 'error', code: 'rate-limited', ref: 'lobby' },
      { t: 'error', code: 'rate-limited', ref: 'den' },
    ]);
    h.clock.t += 1000;
    alice.channel.clear();
    alice.request({ t: 'history', room: 'den', before: 1, limit: 5 });
    expect(alice.channel.sent).toMatchObject([{ t: 'error', code: 'not-in-room', ref: 'den' }]);
  });

  it('answers a ping with a pong carrying its number, and ignores a pong', () => {
    const h = setup();
    const alice = h.connect('alice');
    alice.request({ t: 'ping', n: 42 });
    alice.request({ t: 'pong', n: 7 });
    expect(alice.channel.sent).toEqual([{ t: 'pong', n: 42 }]);
  });
});

describe('RequestHandler: removal within one turn', () => {
  it('a send waiting for the commit when its sender is removed is refused, not stored', async () => {
    const h = setup();
    const alice = await h.member('alice');
    h.db.rooms.setRole('lobby', { key: alice.key, nick: 'alice' }, 'owner', undefined, h.clock.t);
    const bob = await h.member('bob');
    const carol = await h.member('carol');
    // One turn: bob's send is queued for the group commit, then alice removes bob.
    bob.request({ t: 'send', room: 'lobby', id: 'bobby-01', text: 'too late' });
    alice.request({ t: 'remove', rid: 7, room: 'lobby', key: bob.client.keyText, ban: false });
    await turn();
    expect(alice.channel.of('done')).toEqual([{ t: 'done', rid: 7 }]);
    expect(bob.channel.sent.map((m) => m.t)).toEqual(['removed', 'error']);
    expect(bob.channel.of('error')).toMatchObject([{ code: 'unknown-room', ref: 'bobby-01' }]);
    expect(bob.channel.of('ack')).toEqual([]);
    expect(carol.channel.of('msg')).toEqual([]);
    expect(carol.channel.of('event')).toMatchObject([
      { action: 'removed', target: { nick: 'bob' }, actor: { nick: 'alice' } },
    ]);
    expect(carol.channel.of('presence')).toEqual([]); // the event says it
    expect(chat(h.db.recentMessages('lobby', 10))).toEqual([]);
    expect(bob.client.rooms.has('lobby')).toBe(false);
  });
});

describe('RequestHandler: fan-out', () => {
  /**
   * The fan-out a cluster node would wrap: records each call, and while `muted` delivers
   * nothing (a cluster node replays these on the other nodes; nothing must bypass them).
   */
  function recording() {
    const calls: string[] = [];
    const state = { muted: false };
    const wrap = (local: LocalFanout): Fanout => ({
      toRoom: (...args) => {
        calls.push('toRoom');
        if (!state.muted) local.toRoom(...args);
      },
      toRoomExceptKey: (...args) => {
        calls.push('toRoomExceptKey');
        if (!state.muted) local.toRoomExceptKey(...args);
      },
      toKey: (...args) => {
        calls.push('toKey');
        if (!state.muted) local.toKey(...args);
      },
      removeFromRoom: (...args) => {
        calls.push('removeFromRoom');
        if (!state.muted) local.removeFromRoom(...args);
      },
      toDevice: (...args) => {
        calls.push('toDevice');
        if (!state.muted) local.toDevice(...args);
      },
      renameKey: (...args) => {
        calls.push('renameKey');
        if (!state.muted) local.renameKey(...args);
      },
      toNonMembers: (...args) => {
        calls.push('toNonMembers');
        if (!state.muted) local.toNonMembers(...args);
      },
      present: (...args) => local.present(...args),
      presentElsewhere: () => false,
      roomsElsewhere: () => [],
    });
    return { calls, state, wrap };
  }

  it('sends every delivery to another connection through the fanout it was given', async () => {
    const fanout = recording();
    const h = setup({}, fanout.wrap);
    const alice = await h.member('alice');
    h.db.rooms.setRole('lobby', { key: alice.key, nick: 'alice' }, 'owner', undefined, h.clock.t);
    const again = h.connect('alice', alice.key);
    again.request({ t: 'join', room: 'lobby' });
    const bob = await h.member('bob');
    const carol = await h.member('carol');
    const onlooker = h.connect('dave'); // in no room: hears of rooms opened
    expect(fanout.calls).toContain('toRoomExceptKey'); // the joins' presence
    fanout.calls.length = 0;
    fanout.state.muted = true;
    alice.request({ t: 'send', room: 'lobby', id: 'alice-01', text: 'hello' });
    alice.request({ t: 'typing', room: 'lobby' });
    alice.request({ t: 'nick', nick: 'ada' });
    alice.request({ t: 'create', rid: 1, room: 'plaza', open: true });
    alice.request({ t: 'remove', rid: 2, room: 'lobby', key: bob.client.keyText, ban: false });
    await turn();
    // The requester still gets its answers, straight.
    expect(alice.channel.sent.map((m) => m.t).sort()).toEqual(['ack', 'done', 'nick', 'room']);
    expect(alice.channel.of('room')[0]).toMatchObject({ rid: 1 });
    // Nobody else gets anything: the fan-out dropped it all.
    for (const other of [again, bob, carol, onlooker]) expect(other.channel.sent).toEqual([]);
    expect(again.client.nick).toBe('alice');
    expect(bob.client.rooms.has('lobby')).toBe(true);
    expect(new Set(fanout.calls)).toEqual(
      new Set(['toRoom', 'renameKey', 'toKey', 'toNonMembers', 'removeFromRoom']),
    );
    expect(h.failures).toEqual([]);
  });

  it('delivers through the local fanout as before when the wrapper passes everything on', async () => {
    const fanout = recording();
    const h = setup({}, fanout.wrap);
    const alice = await h.member('alice');
    const again = h.connect('alice', alice.key);
    again.request({ t: 'join', room: 'lobby' });
    const bob = await h.member('bob');
    alice.request({ t: 'nick', nick: 'ada' });
    await turn();
    expect(again.channel.sent).toMatchObject([
      { t: 'nick', nick: 'ada' },
      { t: 'presence', room: 'lobby', event: 'renamed', nick: 'alice', newNick: 'ada' },
    ]);
    expect(bob.channel.of('presence')).toMatchObject([
      { room: 'lobby', event: 'renamed', nick: 'alice', newNick: 'ada' },
    ]);
    expect(alice.channel.sent).toEqual([{ t: 'nick', nick: 'ada' }]);
  });
});

describe('RequestHandler: what it will not take', () => {
  it('closes a connection beyond its request budget for flooding, whatever the requests', () => {
    const h = setup({ requestBurst: 3, requestsPerSecond: 1 });
    const alice = h.connect('alice');
    for (let i = 0; i < 3; i++) alice.request({ t: 'ping', n: i });
    expect(alice.channel.closedWith).toBeUndefined();
    alice.request({ t: 'ping', n: 3 });
    expect(alice.channel.closedWith).toMatchObject({ code: 'flooding', discardPending: true });
    expect(alice.channel.of('pong')).toHaveLength(3);
  });

  it('closes a connection that sends something that is not a request, with the reason', () => {
    const h = setup();
    const alice = h.connect('alice');
    h.handler.handle(alice.client, encodeMessage({ t: 'shout', room: 'lobby' }));
    expect(alice.channel.closedWith?.code).toBe('protocol-error');
    expect(alice.channel.closedWith?.reason).not.toBe('');
    expect(h.failures).toEqual([]);
  });
});
