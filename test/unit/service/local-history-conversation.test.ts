// The local history's record of the conversation (#17): replies quote our own copy (or say it is
// missing), edits apply only from the sender and the newest wins, a deletion leaves a tombstone
// and its text, edits, reactions and file leave the file's bytes, reactions toggle per sender and
// emoji with the newest event winning, the read position never goes back, and a history written
// by the previous schema opens and keeps its rows.
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { FileRef } from '../../../src-main/protocol/wire/chat-event.ts';
import { THEIR_KEY, diskBytes, localHistories, received } from '../../support/local-history.ts';

const HOST = '127.0.0.1:7878';
const ME = 'M'.repeat(43);
const OTHER = 'O'.repeat(43);
const { tempDir, openAt } = localHistories('parley-conv-', { ownKey: ME });

const FILE: FileRef = {
  id: 'F'.repeat(22),
  name: '../../etc/quarterly-report.pdf',
  mime: 'application/pdf',
  size: 1234,
  chunks: 1,
  key: 'K'.repeat(43),
};

describe('LocalHistory: the conversation', () => {
  it('quotes the answered message from its own copy, or says it is missing', () => {
    const h = openAt(tempDir());
    h.storeReceived(HOST, received(1, 'the original words'), { file: FILE });
    h.storeReceived(HOST, received(2, 'an answer'), { reply: 1 });
    h.storeReceived(HOST, received(3, 'answering the unknown'), { reply: 99 });
    const [first, answer, orphan] = h.page(HOST, 'lobby', undefined, 10).messages;
    expect(first?.file).toEqual({
      name: 'quarterly-report.pdf',
      mime: 'application/pdf',
      size: 1234,
      image: false,
    });
    expect(answer?.replyTo).toEqual({
      seq: 1,
      from: 'them',
      text: 'the original words',
      file: 'quarterly-report.pdf',
    });
    expect(orphan?.replyTo).toEqual({ seq: 99, from: '', text: '', missing: true });
    expect(h.fileOf(HOST, 'lobby', 1)).toEqual(FILE);
  });

  it("applies only the sender's own edits, the newest by seq, also one that came first", () => {
    const h = openAt(tempDir());
    // An edit that arrives before its target (paging back) applies once the target is held.
    expect(h.applyEdit(HOST, 'lobby', { target: 1, seq: 5, sender: THEIR_KEY, text: 'v3' })).toBe(
      undefined,
    );
    h.storeReceived(HOST, received(1, 'v1'));
    expect(h.messageAt(HOST, 'lobby', 1)).toMatchObject({ text: 'v3', edited: true });
    // An older edit arriving late does not win; someone else's is ignored.
    expect(h.applyEdit(HOST, 'lobby', { target: 1, seq: 3, sender: THEIR_KEY, text: 'v2' })).toBe(
      undefined,
    );
    expect(h.applyEdit(HOST, 'lobby', { target: 1, seq: 6, sender: OTHER, text: 'x' })).toBe(
      undefined,
    );
    expect(h.messageAt(HOST, 'lobby', 1)?.text).toBe('v3');
    const newer = h.applyEdit(HOST, 'lobby', { target: 1, seq: 7, sender: THEIR_KEY, text: 'v4' });
    expect(newer).toMatchObject({ id: 'id-1', text: 'v4', edited: true });
  });

  it('toggles reactions per sender and emoji; the newest event wins, replays change nothing', () => {
    const h = openAt(tempDir(), new Uint8Array(randomBytes(32)));
    h.storeReceived(HOST, received(1, 'react to me'));
    const react = (seq: number, sender: string, nick: string, emoji: string, on: boolean) =>
      h.applyReaction(HOST, 'lobby', { target: 1, seq, sender, nick, emoji, on });
    react(2, THEIR_KEY, 'them', '👍', true);
    react(3, ME, 'me', '👍', true);
    react(4, ME, 'me', '🎉', true);
    expect(h.messageAt(HOST, 'lobby', 1)?.reactions).toEqual([
      { emoji: '👍', count: 2, mine: true, by: ['them', 'me'] },
      { emoji: '🎉', count: 1, mine: true, by: ['me'] },
    ]);
    expect(react(5, ME, 'me', '👍', false)?.reactions).toEqual([
      { emoji: '👍', count: 1, mine: false, by: ['them'] },
      { emoji: '🎉', count: 1, mine: true, by: ['me'] },
    ]);
    // The older "on" replayed later does not undo the newer "off".
    expect(react(3, ME, 'me', '👍', true)).toBeUndefined();
    expect(h.messageAt(HOST, 'lobby', 1)?.reactions?.[0]?.count).toBe(1);
    // Unknown targets are ignored.
    expect(
      h.applyReaction(HOST, 'lobby', {
        target: 42,
        seq: 9,
        sender: THEIR_KEY,
        nick: 'them',
        emoji: '👍',
        on: true,
      }),
    ).toBeUndefined();
  });

  it('moves the read position forward only', () => {
    const h = openAt(tempDir());
    expect(h.readUpTo(HOST, 'lobby')).toBeUndefined();
    expect(h.setReadUpTo(HOST, 'lobby', 10)).toBe(true);
    expect(h.setReadUpTo(HOST, 'lobby', 4)).toBe(false);
    expect(h.readUpTo(HOST, 'lobby')).toBe(10);
    expect(h.setReadUpTo(HOST, 'lobby', 12)).toBe(true);
    expect(h.readUpTo(HOST, 'lobby')).toBe(12);
  });

  it.each([
    { sealed: false, what: 'plain rows' },
    { sealed: true, what: 'sealed rows' },
  ])(
    'a deletion leaves a tombstone and erases its text, edits, reactions and file from the file bytes ($what)',
    ({ sealed }) => {
      const dir = tempDir();
      const h = openAt(dir, sealed ? new Uint8Array(randomBytes(32)) : undefined);
      h.storeReceived(HOST, received(1, 'the words to take back, original'), { file: FILE });
      h.applyEdit(HOST, 'lobby', {
        target: 1,
        seq: 2,
        sender: THEIR_KEY,
        text: 'the words to take back, edited',
      });
      h.applyReaction(HOST, 'lobby', {
        target: 1,
        seq: 3,
        sender: ME,
        nick: 'me',
        emoji: '🦄',
        on: true,
      });
      h.storeReceived(HOST, received(4, 'a reply that stays'), { reply: 1 });
      for (let seq = 10; seq < 60; seq++) h.storeReceived(HOST, received(seq, `filler ${seq}`));
      // What the file holds of the message before: its sealed or plain forms.
      const db = new DatabaseSync(join(dir, 'history.sqlite'));
      const stored = [
        String(db.prepare('SELECT text FROM messages WHERE seq = 1').get()?.['text']),
        String(db.prepare('SELECT meta FROM messages WHERE seq = 1').get()?.['meta']),
        String(db.prepare('SELECT text FROM edits').get()?.['text']),
        String(db.prepare('SELECT emoji FROM reactions').get()?.['emoji']),
      ];
      db.close();
      const before = diskBytes(dir);
      for (const value of stored) expect(before.includes(Buffer.from(value))).toBe(true);

      // Someone else (not an admin) may not delete it; its sender may.
      expect(h.applyDelete(HOST, 'lobby', 1, (sender) => sender === OTHER)).toBe('forbidden');
      const tombstone = h.applyDelete(HOST, 'lobby', 1, (sender) => sender === THEIR_KEY);
      expect(tombstone).toMatchObject({ id: 'id-1', seq: 1, text: '', deleted: true });
      expect(tombstone === 'forbidden' ? undefined : tombstone?.file).toBeUndefined();
      expect(h.fileOf(HOST, 'lobby', 1)).toBeUndefined();
      expect(h.messageAt(HOST, 'lobby', 4)?.replyTo).toEqual({
        seq: 1,
        from: 'them',
        text: '',
        deleted: true,
      });
      // Deleted again (a replay): nothing changes.
      expect(h.applyDelete(HOST, 'lobby', 1, () => true)).toBeUndefined();
      const after = diskBytes(dir);
      for (const value of stored) expect(after.includes(Buffer.from(value))).toBe(false);
      if (!sealed) {
        expect(after.includes(Buffer.from('words to take back'))).toBe(false);
        expect(after.includes(Buffer.from('quarterly-report'))).toBe(false);
      }
      h.close();
      expect(diskBytes(dir).includes(Buffer.from('words to take back'))).toBe(false);
      const again = openAt(dir);
      expect(again.messageAt(HOST, 'lobby', 1)).toMatchObject({ deleted: true, text: '' });
    },
  );

  it('a tombstone from the host turns a stored message into one', () => {
    const h = openAt(tempDir());
    h.storeReceived(HOST, received(1, 'soon gone'));
    expect(h.storeReceived(HOST, received(1, '', { deleted: true }))).toBe('new');
    expect(h.messageAt(HOST, 'lobby', 1)).toMatchObject({ deleted: true, text: '' });
    expect(h.storeReceived(HOST, received(2, '', { deleted: true }))).toBe('new');
    expect(h.page(HOST, 'lobby', undefined, 10).messages.map((m) => m.deleted)).toEqual([
      true,
      true,
    ]);
  });

  it('pages the window around a seq, and lists what search may find', () => {
    const h = openAt(tempDir());
    for (let seq = 1; seq <= 20; seq++) h.storeReceived(HOST, received(seq, `line ${seq}`));
    h.applyEdit(HOST, 'lobby', {
      target: 3,
      seq: 21,
      sender: THEIR_KEY,
      text: 'line three, edited',
    });
    h.applyDelete(HOST, 'lobby', 4, () => true);
    const page = h.around(HOST, 'lobby', 10, 6);
    expect(page.messages.map((m) => m.seq)).toEqual([8, 9, 10, 11, 12, 13]);
    expect(page.more).toBe(true);
    expect(h.around(HOST, 'lobby', 2, 6).more).toBe(false);
    const docs = h.searchDocs();
    expect(docs).toHaveLength(19);
    expect(docs.find((d) => d.seq === 3)?.text).toBe('line three, edited');
    expect(docs.some((d) => d.seq === 4)).toBe(false);
    expect(h.newestSeq(HOST, 'lobby')).toBe(20);
  });

  it('keeps an outbox event sealed and reads it back', async () => {
    const dir = tempDir();
    const h = openAt(dir, new Uint8Array(randomBytes(32)));
    const event = { type: 'edit' as const, target: 3, text: 'a correction nobody may read' };
    await h
      .outboxStore(HOST)
      .save([{ id: 'out-1', room: 'lobby', text: event.text, event, queuedAt: 5 }]);
    expect(diskBytes(dir).includes(Buffer.from('correction'))).toBe(false);
    expect(await h.outboxStore(HOST).load()).toEqual([
      { id: 'out-1', room: 'lobby', text: event.text, event, queuedAt: 5 },
    ]);
  });

  it('opens a history of the previous schema and keeps its rows', () => {
    const dir = tempDir();
    const path = join(dir, 'history.sqlite');
    const db = new DatabaseSync(path);
    db.exec(`
      CREATE TABLE messages (host TEXT NOT NULL, room TEXT NOT NULL, sender TEXT NOT NULL,
        id TEXT NOT NULL, seq INTEGER, ts INTEGER NOT NULL, nick TEXT NOT NULL, fp TEXT NOT NULL,
        text TEXT NOT NULL, own INTEGER NOT NULL, status TEXT NOT NULL, event TEXT,
        sealed INTEGER NOT NULL DEFAULT 0, e2ee TEXT, PRIMARY KEY (host, room, sender, id))
        WITHOUT ROWID;
      CREATE INDEX messages_by_seq ON messages (host, room, seq);
      CREATE TABLE rooms (host TEXT NOT NULL, room TEXT NOT NULL, joined INTEGER NOT NULL,
        info TEXT, PRIMARY KEY (host, room)) WITHOUT ROWID;
      CREATE TABLE outbox (host TEXT NOT NULL, position INTEGER NOT NULL, id TEXT NOT NULL,
        room TEXT NOT NULL, text TEXT NOT NULL, queued_at INTEGER NOT NULL,
        sealed INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (host, position)) WITHOUT ROWID;
      INSERT INTO messages VALUES ('${HOST}', 'lobby', '${THEIR_KEY}', 'old-1', 1, 1001, 'them', 'FP',
        'from before', 0, 'sent', NULL, 0, NULL);
      PRAGMA user_version = 4;
    `);
    db.close();
    const h = openAt(dir);
    expect(h.page(HOST, 'lobby', undefined, 10).messages).toMatchObject([
      { id: 'old-1', text: 'from before' },
    ]);
    h.applyReaction(HOST, 'lobby', {
      target: 1,
      seq: 2,
      sender: THEIR_KEY,
      nick: 'them',
      emoji: '👍',
      on: true,
    });
    expect(h.messageAt(HOST, 'lobby', 1)?.reactions?.[0]?.count).toBe(1);
  });
});
