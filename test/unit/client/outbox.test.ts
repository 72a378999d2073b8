import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Outbox,
  type OutboxEntry,
  memoryOutboxStore,
  newMessageId,
} from '../../../src-main/client/outbox.ts';
import { fileOutboxStore } from '../../../src-main/store/outbox-file.ts';

const entry = (id: string, room = 'lobby'): OutboxEntry => ({ id, room, text: id, queuedAt: 0 });
const ids = (entries: readonly OutboxEntry[]) => entries.map((e) => e.id);
const all = () => true;

describe('the outbox', () => {
  it('makes 22-character base64url message ids that the wire schema accepts', () => {
    const id = newMessageId();
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(newMessageId()).not.toBe(id);
  });

  it('sends in order, each message once per connection, and again after a reconnect', () => {
    const outbox = new Outbox();
    for (const id of ['a', 'b', 'c']) outbox.add(entry(id));
    expect(ids(outbox.take(all, 0, 2))).toEqual(['a', 'b']);
    expect(ids(outbox.take(all, 0, 10))).toEqual(['c']);
    expect(outbox.take(all, 0, 10)).toEqual([]);
    outbox.remove('a');
    outbox.requeueAll(); // the connection dropped before b and c were acknowledged
    expect(ids(outbox.take(all, 0, 10))).toEqual(['b', 'c']);
    expect(ids(outbox.entries)).toEqual(['b', 'c']);
  });

  it('holds messages for rooms that are not synced, without holding other rooms', () => {
    const outbox = new Outbox();
    outbox.add(entry('a', 'dev'));
    outbox.add(entry('b', 'lobby'));
    outbox.add(entry('c', 'dev'));
    const lobbyOnly = (room: string) => room === 'lobby';
    expect(ids(outbox.take(lobbyOnly, 0, 10))).toEqual(['b']);
    expect(outbox.nextSendAt(lobbyOnly, 0)).toBeUndefined();
    expect(ids(outbox.take(all, 0, 10))).toEqual(['a', 'c']);
  });

  it('after a rate limit, resends the refused message and those behind it in its room, in order', () => {
    const outbox = new Outbox();
    for (const id of ['a', 'b', 'c', 'd']) outbox.add(entry(id));
    outbox.add(entry('x', 'dev'));
    expect(ids(outbox.take(all, 0, 10))).toEqual(['a', 'b', 'c', 'd', 'x']);
    outbox.remove('a');
    expect(outbox.holdFrom('b', 100)?.id).toBe('b');
    expect(outbox.take(all, 50, 10)).toEqual([]); // dev's x is still in flight
    expect(outbox.nextSendAt(all, 50)).toBe(100);
    expect(ids(outbox.take(all, 100, 10))).toEqual(['b', 'c', 'd']);
  });

  it('puts restored messages first and ignores repeated ids', () => {
    const outbox = new Outbox();
    outbox.add(entry('new'));
    outbox.restore([entry('old1'), entry('old2'), entry('new')]);
    outbox.add(entry('old1'));
    expect(ids(outbox.entries)).toEqual(['old1', 'old2', 'new']);
  });

  it('the in-memory store hands saved messages to the next session', async () => {
    const store = memoryOutboxStore();
    await store.save([entry('a')]);
    expect(ids(await store.load())).toEqual(['a']);
  });
});

describe('the line client outbox file', () => {
  const address = { host: '127.0.0.1', port: 7878 };
  const withDir = async (body: (dir: string) => Promise<void>) => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-outbox-'));
    try {
      await body(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it('keeps entries across stores, mode 0600, and never drops what another client saved', () =>
    withDir(async (dir) => {
      const a = fileOutboxStore(dir, address);
      const b = fileOutboxStore(dir, address);
      expect(await a.load()).toEqual([]);
      expect(await b.load()).toEqual([]);
      await a.save([entry('aaaaaaaa1'), entry('aaaaaaaa2')]);
      await b.save([entry('bbbbbbbb1')]); // b never saw a's entries: it keeps them
      expect(statSync(a.path).mode & 0o777).toBe(0o600);
      expect(ids(await fileOutboxStore(dir, address).load())).toEqual([
        'aaaaaaaa1',
        'aaaaaaaa2',
        'bbbbbbbb1',
      ]);
      await a.save([entry('aaaaaaaa2')]); // aaaaaaaa1 was acknowledged
      expect(ids(await fileOutboxStore(dir, address).load())).toEqual(['bbbbbbbb1', 'aaaaaaaa2']);
      expect(await fileOutboxStore(dir, { host: '127.0.0.1', port: 1 }).load()).toEqual([]);
    }));

  it('reads a file saved before events existed, and keeps an event entry whole', () =>
    withDir(async (dir) => {
      const store = fileOutboxStore(dir, address);
      mkdirSync(join(dir, 'outbox'));
      // Exactly what the previous version wrote: entries without `event`.
      const old = { id: 'oldline01', room: 'lobby', text: 'typed last week', queuedAt: 5 };
      writeFileSync(
        store.path,
        JSON.stringify({ version: 1, host: '127.0.0.1:7878', entries: [old] }),
      );
      expect(await store.load()).toEqual([old]);
      const react: OutboxEntry = {
        id: 'reaction1',
        room: 'lobby',
        text: '',
        event: { type: 'react', target: 3, emoji: '👍', on: true },
        queuedAt: 6,
      };
      await store.save([old, react]);
      expect(await fileOutboxStore(dir, address).load()).toEqual([old, react]);
    }));

  it('refuses a damaged file without overwriting it', () =>
    withDir(async (dir) => {
      const store = fileOutboxStore(dir, address);
      mkdirSync(join(dir, 'outbox'));
      writeFileSync(store.path, '{"version":1,"entries":[{"id":');
      await expect(store.load()).rejects.toThrow(/is damaged; move it away/);
      await expect(store.save([entry('cccccccc1')])).rejects.toThrow(/is damaged/);
      expect(readFileSync(store.path, 'utf8')).toBe('{"version":1,"entries":[{"id":');
    }));
});
