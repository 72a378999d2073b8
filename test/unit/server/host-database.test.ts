import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SCHEMA_VERSION } from '../../../src-main/server/db/schema.ts';
import {
  HostDatabase,
  HostDatabaseError,
  type HostDatabaseOptions,
  type NewMessage,
} from '../../../src-main/server/host-database.ts';

const alice = new Uint8Array(32).fill(0xa1);
const bob = new Uint8Array(32).fill(0xb0);
const carol = new Uint8Array(32).fill(0xc4);

let dir: string;
let file: string;
const open: HostDatabase[] = [];

function openDb(options?: HostDatabaseOptions): HostDatabase {
  const db = HostDatabase.open(file, options);
  open.push(db);
  return db;
}

let counter = 0;
function msg(overrides: Partial<NewMessage> = {}): NewMessage {
  counter++;
  return {
    room: 'lobby',
    senderKey: alice,
    nick: 'alice',
    text: `hello ${counter}`,
    clientMsgId: `m${counter}`,
    sentAt: 1_700_000_000_000 + counter,
    ...overrides,
  };
}

function rowCount(room: string): number {
  const raw = new DatabaseSync(file, { readOnly: true });
  try {
    const row = raw.prepare('SELECT count(*) AS n FROM messages WHERE room = ?').get(room);
    return Number(row?.['n']);
  } finally {
    raw.close();
  }
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-'));
  file = path.join(dir, 'host.db');
});

afterEach(() => {
  for (const db of open.splice(0)) db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('HostDatabase appending and reading', () => {
  it('returns appended messages oldest first with everything that was stored', () => {
    const db = openDb();
    const batch = [
      msg({ text: 'first' }),
      msg({ text: 'zweite Nachricht ✓ 🦜', nick: 'Bøb', senderKey: bob }),
      msg({ text: 'third' }),
    ];
    const results = db.appendMessages(batch);

    expect(results.map((r) => r.duplicate)).toEqual([false, false, false]);
    const seqs = results.map((r) => r.message.seq);
    expect(seqs[1]).toBeGreaterThan(seqs[0] ?? Infinity);
    expect(seqs[2]).toBeGreaterThan(seqs[1] ?? Infinity);

    const recent = db.recentMessages('lobby', 10);
    expect(recent).toEqual(results.map((r) => r.message));
    expect(recent.map((m) => m.text)).toEqual(['first', 'zweite Nachricht ✓ 🦜', 'third']);
    expect(recent[1]?.senderKey).toEqual(bob);
    expect(recent[1]?.nick).toBe('Bøb');
    expect(recent[0]?.sentAt).toBe(batch[0]?.sentAt);
    expect(recent[0]?.clientMsgId).toBe(batch[0]?.clientMsgId);
  });

  it('limits recentMessages to the newest ones and keeps rooms apart', () => {
    const db = openDb();
    db.appendMessages([msg({ text: 'a' }), msg({ room: 'other', text: 'x' })]);
    db.appendMessages([msg({ text: 'b' }), msg({ text: 'c' })]);

    expect(db.recentMessages('lobby', 2).map((m) => m.text)).toEqual(['b', 'c']);
    expect(db.recentMessages('other', 10).map((m) => m.text)).toEqual(['x']);
    expect(db.recentMessages('nowhere', 10)).toEqual([]);
    expect(db.recentMessages('lobby', 0)).toEqual([]);
    expect(db.appendMessages([])).toEqual([]);
  });

  it('lists the rooms that have history', () => {
    const db = openDb();
    expect(db.rooms.rooms().map((r) => r.name)).toEqual([]);
    db.appendMessages([msg({ room: 'zeta' }), msg({ room: 'alpha' }), msg({ room: 'zeta' })]);
    expect(db.rooms.rooms().map((r) => r.name)).toEqual(['alpha', 'zeta']);
  });

  it('pages backwards with messagesBefore', () => {
    const db = openDb();
    const all = db
      .appendMessages(Array.from({ length: 23 }, (_, i) => msg({ text: `n${i}` })))
      .map((r) => r.message);
    db.appendMessages([msg({ room: 'other' })]); // interleaved seqs from another room are skipped

    const pages: string[][] = [];
    let cursor = db.recentMessages('lobby', 5);
    pages.push(cursor.map((m) => m.text));
    while (cursor.length > 0) {
      cursor = db.messagesBefore('lobby', cursor[0]?.seq ?? 0, 5);
      if (cursor.length > 0) pages.push(cursor.map((m) => m.text));
    }
    expect(pages.map((p) => p.length)).toEqual([5, 5, 5, 5, 3]);
    expect(pages.reverse().flat()).toEqual(all.map((m) => m.text));

    const last = all[all.length - 1]?.seq ?? 0;
    expect(db.messagesBefore('lobby', last + 1000, 2).map((m) => m.text)).toEqual(['n21', 'n22']);
    expect(db.messagesBefore('lobby', all[0]?.seq ?? 0, 10)).toEqual([]);
    expect(db.messagesBefore('lobby', last, 0)).toEqual([]);
  });

  it('rejects a malformed key before writing anything of the batch', () => {
    const db = openDb();
    expect(() => db.appendMessages([msg(), msg({ senderKey: new Uint8Array(31) })])).toThrow(
      RangeError,
    );
    expect(db.recentMessages('lobby', 10)).toEqual([]);
  });
});

describe('HostDatabase resend detection', () => {
  it('stores a duplicate inside one batch once and returns the original seq', () => {
    const db = openDb();
    const original = msg();
    const results = db.appendMessages([original, msg(), { ...original, text: 'changed' }]);

    expect(results.map((r) => r.duplicate)).toEqual([false, false, true]);
    expect(results[2]?.message).toEqual(results[0]?.message);
    expect(results[2]?.message.text).toBe(original.text);
    expect(rowCount('lobby')).toBe(2);
  });

  it('recognises a resend in a later batch and returns the stored message', () => {
    const db = openDb();
    const original = msg();
    const [first] = db.appendMessages([original]);
    db.appendMessages([msg(), msg()]);
    const [again] = db.appendMessages([{ ...original, sentAt: original.sentAt + 60_000 }]);

    expect(again?.duplicate).toBe(true);
    expect(again?.message).toEqual(first?.message);
    expect(rowCount('lobby')).toBe(3);
  });

  it('treats the same clientMsgId from different senders as different messages', () => {
    const db = openDb();
    const results = db.appendMessages([
      msg({ clientMsgId: 'same' }),
      msg({ clientMsgId: 'same', senderKey: bob }),
    ]);
    expect(results.map((r) => r.duplicate)).toEqual([false, false]);
    expect(rowCount('lobby')).toBe(2);
  });

  it('still recognises a resend after the original was trimmed from history', () => {
    const db = openDb({ historyLimit: 2 });
    const original = msg({ nick: 'alice-then' });
    const [first] = db.appendMessages([original]);
    db.appendMessages([msg(), msg(), msg()]);
    expect(db.recentMessages('lobby', 10).map((m) => m.seq)).not.toContain(first?.message.seq);

    const [again] = db.appendMessages([{ ...original, nick: 'alice-now' }]);
    expect(again?.duplicate).toBe(true);
    expect(again?.message.seq).toBe(first?.message.seq);
    expect(again?.message.sentAt).toBe(original.sentAt);
    expect(again?.message.nick).toBe('alice-then');
    expect(again?.message.room).toBe('lobby');
    expect(again?.message.text).toBe(original.text); // the resend's text: the original is gone
    expect(rowCount('lobby')).toBe(2);
  });

  it('keeps the newest dedupeWindow ids per sender, however old they are', () => {
    const db = openDb({ dedupeWindow: 3 });
    const longAgo = 1_000_000_000_000; // 2001: no age limit applies
    const [a1, a2, a3, a4] = [1, 2, 3, 4].map((i) =>
      msg({ clientMsgId: `a${i}`, sentAt: longAgo + i }),
    );
    const fromBob = msg({ senderKey: bob, clientMsgId: 'b1' });
    if (!a1 || !a2 || !a3 || !a4) throw new Error('unreachable');
    db.appendMessages([fromBob, a1, a2]);
    db.appendMessages([a3, a4]); // alice now has 4 ids: a1 falls out of her window

    const results = db.appendMessages([a2, a3, a4, fromBob]);
    expect(results.map((r) => r.duplicate)).toEqual([true, true, true, true]);
    const [forgotten] = db.appendMessages([a1]);
    expect(forgotten?.duplicate).toBe(false);
    // Bob's window is his own: alice's traffic did not push his id out.
    expect(db.appendMessages([fromBob])[0]?.duplicate).toBe(true);
  });
});

describe('HostDatabase history trimming', () => {
  it('keeps at most historyLimit messages per room, newest ones', () => {
    const db = openDb({ historyLimit: 3 });
    for (let i = 0; i < 5; i++) db.appendMessages([msg({ text: `l${i}` })]);
    db.appendMessages([msg({ room: 'quiet', text: 'q0' })]);
    db.appendMessages(Array.from({ length: 7 }, (_, i) => msg({ text: `big${i}` })));

    expect(db.recentMessages('lobby', 100).map((m) => m.text)).toEqual(['big4', 'big5', 'big6']);
    expect(db.recentMessages('quiet', 100).map((m) => m.text)).toEqual(['q0']);
    expect(rowCount('lobby')).toBe(3);
    expect(db.rooms.rooms().map((r) => r.name)).toEqual(['lobby', 'quiet']);
  });

  it('applies a lower limit after reopening and never reuses a seq', () => {
    const big = openDb({ historyLimit: 10 });
    const before = big.appendMessages(Array.from({ length: 8 }, () => msg()));
    big.close();

    const small = openDb({ historyLimit: 2 });
    const [next] = small.appendMessages([msg()]);
    expect(small.recentMessages('lobby', 100)).toHaveLength(2);
    expect(next?.message.seq).toBeGreaterThan(before[7]?.message.seq ?? Infinity);
  });
});

describe('HostDatabase nicknames', () => {
  it('binds a nickname to the first key, case- and Unicode-insensitively', () => {
    const db = openDb();
    expect(db.claimNick('Alice', alice)).toEqual({ ok: true });
    expect(db.claimNick('alice', alice)).toEqual({ ok: true });
    expect(db.claimNick('ＡＬＩＣＥ', alice)).toEqual({ ok: true }); // full-width

    for (const variant of ['alice', 'ALICE', 'Ａｌｉｃｅ', 'aLiCe']) {
      expect(db.claimNick(variant, bob)).toEqual({ ok: false, ownerKey: alice });
    }
    // Composed and decomposed é are one name; so are a ligature and its letters.
    expect(db.claimNick('Ren\u00e9', bob)).toEqual({ ok: true });
    expect(db.claimNick('RENE\u0301', carol)).toEqual({ ok: false, ownerKey: bob });
    expect(db.claimNick('\ufb01sh', carol)).toEqual({ ok: true });
    expect(db.claimNick('FISH', alice)).toEqual({ ok: false, ownerKey: carol });
    // Different names stay different.
    expect(db.claimNick('alice2', bob)).toEqual({ ok: true });
  });

  it('keeps the old nickname registered when a key takes a new one', () => {
    const db = openDb();
    expect(db.claimNick('alice', alice)).toEqual({ ok: true });
    expect(db.claimNick('alicia', alice)).toEqual({ ok: true });
    expect(db.claimNick('Alice', bob)).toEqual({ ok: false, ownerKey: alice });
    expect(db.claimNick('alice', alice)).toEqual({ ok: true });
  });

  it('rejects an empty nickname and a malformed key', () => {
    const db = openDb();
    expect(() => db.claimNick('', alice)).toThrow(RangeError);
    expect(() => db.claimNick('x', new Uint8Array(16))).toThrow(RangeError);
  });
});

describe('HostDatabase file and lifecycle', () => {
  it('keeps messages, resend ids and nicknames across close and reopen', () => {
    const first = openDb();
    const original = msg();
    const appended = first.appendMessages([original, msg({ room: 'other' }), msg()]);
    first.claimNick('alice', alice);
    first.close();

    const second = openDb();
    expect(second.recentMessages('lobby', 10)).toEqual(
      [appended[0], appended[2]].map((r) => r?.message),
    );
    expect(second.rooms.rooms().map((r) => r.name)).toEqual(['lobby', 'other']);
    expect(second.claimNick('ALICE', bob)).toEqual({ ok: false, ownerKey: alice });
    const [again, fresh] = second.appendMessages([original, msg()]);
    expect(again?.duplicate).toBe(true);
    expect(again?.message.seq).toBe(appended[0]?.message.seq);
    expect(fresh?.message.seq).toBeGreaterThan(appended[2]?.message.seq ?? Infinity);
  });

  it.skipIf(process.platform === 'win32')('creates the database and its WAL with mode 0600', () => {
    const db = openDb();
    db.appendMessages([msg()]);
    for (const name of ['host.db', 'host.db-wal', 'host.db-shm']) {
      expect((fs.statSync(path.join(dir, name)).mode & 0o777).toString(8)).toBe('600');
    }
  });

  it.skipIf(process.platform === 'win32')('tightens an existing file to 0600', () => {
    fs.writeFileSync(file, '', { mode: 0o644 });
    fs.chmodSync(file, 0o644);
    openDb();
    expect((fs.statSync(file).mode & 0o777).toString(8)).toBe('600');
  });

  it('uses WAL and records the schema version', () => {
    openDb().close();
    const raw = new DatabaseSync(file, { readOnly: true });
    try {
      expect(raw.prepare('PRAGMA journal_mode').get()?.['journal_mode']).toBe('wal');
      expect(raw.prepare('PRAGMA user_version').get()?.['user_version']).toBe(SCHEMA_VERSION);
      expect(raw.prepare('PRAGMA integrity_check').get()?.['integrity_check']).toBe('ok');
    } finally {
      raw.close();
    }
  });

  it('truncates the WAL on checkpoint', () => {
    const db = openDb();
    db.appendMessages(Array.from({ length: 50 }, () => msg()));
    expect(fs.statSync(`${file}-wal`).size).toBeGreaterThan(0);
    db.checkpoint();
    expect(fs.statSync(`${file}-wal`).size).toBe(0);
    expect(db.recentMessages('lobby', 100)).toHaveLength(50);
  });

  it('refuses use after close, and close is idempotent', () => {
    const db = openDb();
    db.close();
    db.close();
    expect(() => db.recentMessages('lobby', 1)).toThrow(/closed/);
    expect(() => db.appendMessages([msg()])).toThrow(/closed/);
  });
});

describe('HostDatabase errors', () => {
  function caught(fn: () => unknown): HostDatabaseError {
    try {
      fn();
    } catch (error) {
      expect(error).toBeInstanceOf(HostDatabaseError);
      return error as HostDatabaseError;
    }
    throw new Error('expected a HostDatabaseError');
  }

  it('refuses a database written by a newer schema', () => {
    openDb().close();
    const raw = new DatabaseSync(file);
    raw.exec('PRAGMA user_version = 99');
    raw.close();
    const error = caught(() => HostDatabase.open(file));
    expect(error.code).toBe('schema');
    expect(error.message).toMatch(/99/);
  });

  it('reports a file that is not a database as corrupt', () => {
    fs.writeFileSync(file, 'this is not a database, just some text. '.repeat(200), {
      mode: 0o600,
    });
    expect(caught(() => HostDatabase.open(file)).code).toBe('corrupt');
  });

  it('reports a missing directory as an I/O error', () => {
    const error = caught(() => HostDatabase.open(path.join(dir, 'missing', 'host.db')));
    expect(error.code).toBe('io');
  });

  it('reports a write lock held elsewhere as locked, without the message text', () => {
    const db = openDb({ busyTimeoutMs: 50 });
    db.appendMessages([msg()]);
    const other = new DatabaseSync(file);
    try {
      other.exec('BEGIN IMMEDIATE');
      const secret = msg({ text: 'top secret words', nick: 'secret-nick' });
      const error = caught(() => db.appendMessages([secret]));
      expect(error.code).toBe('locked');
      expect(error.message).not.toContain('top secret');
      expect(error.message).not.toContain('secret-nick');
      other.exec('ROLLBACK');
    } finally {
      other.close();
    }
    // The failed batch left nothing behind and the store still works.
    expect(db.recentMessages('lobby', 10)).toHaveLength(1);
    expect(db.appendMessages([msg()])[0]?.duplicate).toBe(false);
  });
});
