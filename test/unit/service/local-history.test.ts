import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { ChatMessageView } from '../../../src-shared/ipc/domain.ts';
import { LocalHistory, type LocalHistoryOptions } from '../../../src-main/service/local-history.ts';

const dirs: string[] = [];
const open: LocalHistory[] = [];
afterEach(() => {
  for (const h of open.splice(0)) h.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function history(
  dir = mkdtempSync(join(tmpdir(), 'parley-history-')),
  options: LocalHistoryOptions = {},
): {
  h: LocalHistory;
  dir: string;
} {
  if (!dirs.includes(dir)) dirs.push(dir);
  const h = LocalHistory.open(join(dir, 'history.sqlite'), options);
  open.push(h);
  return { h, dir };
}

const HOST = '127.0.0.1:7878';
const ME = 'M'.repeat(43);
const THEM = 'T'.repeat(43);

function msg(seq: number | undefined, overrides: Partial<ChatMessageView> = {}): ChatMessageView {
  return {
    room: 'lobby',
    id: `id-${seq ?? 'q'}-${overrides.text ?? ''}`,
    ...(seq === undefined ? {} : { seq }),
    from: 'them',
    fp: 'FP',
    key: THEM,
    text: `text ${seq}`,
    ts: 1000 + (seq ?? 0),
    own: false,
    status: 'sent',
    ...overrides,
  };
}

describe('LocalHistory', () => {
  it('stores messages once (dedupe by sender and id) and pages them oldest first', () => {
    const { h } = history();
    for (let seq = 1; seq <= 10; seq++) expect(h.storeReceived(HOST, msg(seq))).toBe('new');
    expect(h.storeReceived(HOST, msg(5))).toBe('known');
    const newest = h.page(HOST, 'lobby', undefined, 4);
    expect(newest.messages.map((m) => m.seq)).toEqual([7, 8, 9, 10]);
    expect(newest.more).toBe(true);
    const older = h.page(HOST, 'lobby', 7, 4);
    expect(older.messages.map((m) => m.seq)).toEqual([3, 4, 5, 6]);
    expect(h.page(HOST, 'lobby', 3, 4)).toMatchObject({ more: false });
    expect(h.page(HOST, 'lobby', 3, 4).messages.map((m) => m.seq)).toEqual([1, 2]);
    expect(h.oldestSeq(HOST, 'lobby')).toBe(1);
  });

  it('keeps hosts and rooms apart', () => {
    const { h } = history();
    h.storeReceived(HOST, msg(1));
    h.storeReceived('other:1', msg(1));
    h.storeReceived(HOST, msg(2, { room: 'dev' }));
    expect(h.page(HOST, 'lobby', undefined, 10).messages).toHaveLength(1);
    expect(h.page('other:1', 'dev', undefined, 10).messages).toHaveLength(0);
    expect(h.hasMessages(HOST, 'dev')).toBe(true);
    expect(h.hasMessages('other:1', 'dev')).toBe(false);
  });

  it('does not let another sender overwrite a message by reusing its id', () => {
    const { h } = history();
    h.storeReceived(HOST, msg(1, { id: 'same-id-123', text: 'original' }));
    expect(
      h.storeReceived(HOST, msg(2, { id: 'same-id-123', key: 'X'.repeat(43), text: 'forged' })),
    ).toBe('new');
    expect(h.page(HOST, 'lobby', undefined, 10).messages.map((m) => m.text)).toEqual([
      'original',
      'forged',
    ]);
  });

  it('shows our queued messages after the acknowledged ones, and updates them on ack', () => {
    const { h } = history();
    h.storeReceived(HOST, msg(1));
    const mine = msg(undefined, {
      id: 'mine-0001',
      key: ME,
      own: true,
      from: 'me',
      status: 'queued',
      ts: 5000,
    });
    h.storeQueued(HOST, mine);
    expect(h.page(HOST, 'lobby', undefined, 10).messages.map((m) => [m.id, m.status])).toEqual([
      [msg(1).id, 'sent'],
      ['mine-0001', 'queued'],
    ]);
    const acked = h.markSent(HOST, ME, 'mine-0001', 2, 2002);
    expect(acked).toMatchObject({ id: 'mine-0001', seq: 2, ts: 2002, status: 'sent', own: true });
    expect(h.page(HOST, 'lobby', undefined, 10).messages.map((m) => m.seq)).toEqual([1, 2]);
  });

  it('confirms a queued message that comes back in history (the ack was lost)', () => {
    const { h } = history();
    h.storeQueued(HOST, msg(undefined, { id: 'mine-0002', key: ME, own: true, status: 'queued' }));
    expect(h.storeReceived(HOST, msg(7, { id: 'mine-0002', key: ME, own: true }))).toBe(
      'confirmed',
    );
    expect(h.storeReceived(HOST, msg(7, { id: 'mine-0002', key: ME, own: true }))).toBe('known');
  });

  it('marks a refused message failed', () => {
    const { h } = history();
    h.storeQueued(HOST, msg(undefined, { id: 'mine-0003', key: ME, own: true, status: 'queued' }));
    expect(h.markFailed(HOST, ME, 'mine-0003')).toMatchObject({ status: 'failed' });
  });

  it('keeps the outbox per host, in order, across a reopen', async () => {
    const { h, dir } = history();
    const store = h.outboxStore(HOST);
    const entries = [
      { id: 'a-000001', room: 'lobby', text: 'one', queuedAt: 1 },
      { id: 'b-000002', room: 'dev', text: 'two', queuedAt: 2 },
    ];
    await store.save(entries);
    await h
      .outboxStore('other:1')
      .save([{ id: 'c-000003', room: 'x', text: 'three', queuedAt: 3 }]);
    await store.save(entries.slice(1));
    await store.save(entries);
    h.close();
    const { h: reopened } = history(dir);
    expect(await reopened.outboxStore(HOST).load()).toEqual(entries);
    expect(await reopened.outboxStore('nobody:1').load()).toEqual([]);
  });

  it('remembers joined rooms and lists rooms with history too', () => {
    const { h } = history();
    h.setJoined(HOST, 'lobby', true);
    h.setJoined(HOST, 'dev', true);
    h.setJoined(HOST, 'dev', false);
    h.storeReceived(HOST, msg(1, { room: 'old' }));
    expect(h.rooms(HOST)).toEqual([
      { room: 'dev', joined: false },
      { room: 'lobby', joined: true },
      { room: 'old', joined: false },
    ]);
  });

  it('ignores outbox saves after close (a session flushing during shutdown)', async () => {
    const { h } = history();
    h.close();
    await expect(h.outboxStore(HOST).save([])).resolves.toBeUndefined();
    await expect(h.outboxStore(HOST).load()).resolves.toEqual([]);
  });

  it('keeps the newest messages of each room within its retention bound', () => {
    const { h } = history(undefined, { maxMessagesPerRoom: 100 });
    for (let seq = 1; seq <= 1000; seq++) h.storeReceived(HOST, msg(seq));
    h.storeQueued(HOST, msg(undefined, { own: true, key: ME, text: 'mine', status: 'queued' }));
    const all = h.page(HOST, 'lobby', undefined, 500).messages;
    // Retention runs every few hundred messages, so between runs a room may hold a few more.
    expect(all.length).toBeLessThanOrEqual(100 + 256 + 1);
    expect(all.at(-2)?.seq).toBe(1000);
    expect(all.at(-1)?.text).toBe('mine'); // queued messages are never dropped
    expect(h.oldestSeq(HOST, 'lobby')).toBeGreaterThan(500);
  });

  it('neither stores nor serves a time no date can show', () => {
    const { h } = history();
    expect(h.storeReceived(HOST, msg(1, { ts: 8.64e15 + 1 }))).toBe('invalid');
    expect(h.storeReceived(HOST, msg(2, { ts: -1 }))).toBe('invalid');
    expect(h.storeReceived(HOST, msg(3))).toBe('new');
    expect(h.page(HOST, 'lobby', undefined, 10).messages.map((m) => m.seq)).toEqual([3]);
  });

  it('keeps the room list current without reading it again', () => {
    const { h } = history();
    expect(h.rooms(HOST)).toEqual([]);
    h.storeReceived(HOST, msg(1, { room: 'zeta' }));
    h.setJoined(HOST, 'alpha', true);
    h.storeQueued(HOST, msg(undefined, { room: 'mid', own: true, key: ME, status: 'queued' }));
    expect(h.rooms(HOST)).toEqual([
      { room: 'alpha', joined: true },
      { room: 'mid', joined: false },
      { room: 'zeta', joined: false },
    ]);
  });

  it("fails a write past its size limit with SQLite's error, and still reads", () => {
    const { h } = history(undefined, { maxBytes: 64 * 1024 });
    const text = 'z'.repeat(4000);
    let failure: unknown;
    let seq = 0;
    while (failure === undefined && seq < 200) {
      try {
        h.storeReceived(HOST, msg(++seq, { text: `${text}${seq}` }));
      } catch (error) {
        failure = error;
      }
    }
    expect(String(failure)).toMatch(/full/);
    expect(h.page(HOST, 'lobby', undefined, 5).messages.length).toBeGreaterThan(0);
  });

  it('keeps room events in the timeline, paged in one seq order with messages', () => {
    const { h } = history();
    const alice = { nick: 'alice', key: THEM, fp: 'FPA' };
    const bob = { nick: 'bob', key: 'B'.repeat(43), fp: 'FPB' };
    h.storeReceived(HOST, msg(1));
    const removed = {
      room: 'lobby',
      seq: 2,
      ts: 1002,
      action: 'removed' as const,
      actor: alice,
      target: bob,
    };
    expect(h.storeEvent(HOST, removed, ME)).toBe('new');
    expect(h.storeEvent(HOST, removed, ME)).toBe('known');
    // The host's operator: no actor.
    expect(h.storeEvent(HOST, { room: 'lobby', seq: 3, ts: 1003, action: 'opened' }, ME)).toBe(
      'new',
    );
    h.storeReceived(HOST, msg(4));
    const page = h.page(HOST, 'lobby', undefined, 10);
    expect(page.messages.map((m) => m.seq)).toEqual([1, 4]);
    expect(page.events).toEqual([removed, { room: 'lobby', seq: 3, ts: 1003, action: 'opened' }]);
    // A page counts both: the 3 newest rows are seq 2, 3, 4.
    const newest = h.page(HOST, 'lobby', undefined, 3);
    expect([...newest.messages, ...newest.events].map((r) => r.seq).sort()).toEqual([2, 3, 4]);
    expect(newest.more).toBe(true);
  });

  it('forgets a room whole: its messages, events and joined flag', () => {
    const { h } = history();
    h.storeReceived(HOST, msg(1));
    h.storeEvent(HOST, { room: 'lobby', seq: 2, ts: 1002, action: 'created' }, ME);
    h.setJoined(HOST, 'lobby', true);
    h.storeReceived(HOST, msg(1, { room: 'dev' }));
    h.forgetRoom(HOST, 'lobby');
    expect(h.rooms(HOST)).toEqual([{ room: 'dev', joined: false }]);
    expect(h.hasMessages(HOST, 'lobby')).toBe(false);
    expect(h.page(HOST, 'lobby', undefined, 10)).toEqual({ messages: [], events: [], more: false });
  });

  it('opens a history written before room events, keeping its messages', () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-history-'));
    dirs.push(dir);
    const db = new DatabaseSync(join(dir, 'history.sqlite'));
    db.exec(`CREATE TABLE messages (host TEXT NOT NULL, room TEXT NOT NULL, sender TEXT NOT NULL,
      id TEXT NOT NULL, seq INTEGER, ts INTEGER NOT NULL, nick TEXT NOT NULL, fp TEXT NOT NULL,
      text TEXT NOT NULL, own INTEGER NOT NULL, status TEXT NOT NULL,
      PRIMARY KEY (host, room, sender, id)) WITHOUT ROWID;
      CREATE INDEX messages_by_seq ON messages (host, room, seq);
      CREATE TABLE rooms (host TEXT NOT NULL, room TEXT NOT NULL, joined INTEGER NOT NULL,
      PRIMARY KEY (host, room)) WITHOUT ROWID;
      CREATE TABLE outbox (host TEXT NOT NULL, position INTEGER NOT NULL, id TEXT NOT NULL,
      room TEXT NOT NULL, text TEXT NOT NULL, queued_at INTEGER NOT NULL,
      PRIMARY KEY (host, position)) WITHOUT ROWID;
      INSERT INTO messages VALUES ('${HOST}', 'lobby', '${THEM}', 'abcdefgh', 7, 1007, 'them',
        'FP', 'old', 0, 'sent');
      PRAGMA user_version = 1;`);
    db.close();
    const { h } = history(dir);
    expect(h.page(HOST, 'lobby', undefined, 10)).toMatchObject({
      messages: [{ seq: 7, text: 'old' }],
      events: [],
    });
  });

  it('keeps what the host said of a room across a reopen, and forgets it with the room', () => {
    const { h, dir } = history();
    const peer = { nick: 'bob', key: THEM, fp: 'FPB' };
    h.setRoomInfo(HOST, 'dm.x', { kind: 'dm', role: 'member', open: false, peer });
    h.setRoomInfo(HOST, 'dev', { kind: 'room', role: 'owner', topic: 'ship it', open: false });
    expect(h.rooms(HOST)).toEqual([
      { room: 'dev', joined: false },
      { room: 'dm.x', joined: false },
    ]);
    h.close();
    const again = history(dir).h;
    expect(again.roomInfo(HOST).get('dm.x')).toEqual({
      kind: 'dm',
      role: 'member',
      open: false,
      peer,
    });
    again.forgetRoom(HOST, 'dev');
    expect([...again.roomInfo(HOST).keys()]).toEqual(['dm.x']);
  });
});
