import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { diskBytes, localHistories, received } from '../../support/local-history.ts';

const HOST = '127.0.0.1:7878';
const ME = 'M'.repeat(43);
const SECRET = 'the secret plans are under the blue stone';
const { tempDir, openAt } = localHistories('parley-sealed-');

describe('LocalHistory with an at-rest key', () => {
  it('keeps no message text on disk, and reads it back after a reopen', async () => {
    const dir = tempDir();
    const key = new Uint8Array(randomBytes(32));
    const h = openAt(dir, key);
    h.storeReceived(HOST, received(1, SECRET));
    h.storeQueued(HOST, received(2, `${SECRET} (mine)`, { key: ME, own: true, seq: undefined }));
    await h
      .outboxStore(HOST)
      .save([{ id: 'out-1', room: 'lobby', text: `${SECRET} (queued)`, queuedAt: 5 }]);
    expect(diskBytes(dir).includes(Buffer.from('blue stone'))).toBe(false);
    h.close();
    expect(diskBytes(dir).includes(Buffer.from('blue stone'))).toBe(false);

    const again = openAt(dir, key);
    expect(again.page(HOST, 'lobby', undefined, 10).messages.map((m) => m.text)).toEqual([
      SECRET,
      `${SECRET} (mine)`,
    ]);
    expect(await again.outboxStore(HOST).load()).toEqual([
      { id: 'out-1', room: 'lobby', text: `${SECRET} (queued)`, queuedAt: 5 },
    ]);
  });

  it('keeps a failed message of an encrypted room as failed, with its reason', () => {
    const h = openAt(tempDir(), new Uint8Array(randomBytes(32)));
    h.storeReceived(HOST, received(1, '', { e2ee: { status: 'failed', reason: 'forged' } }));
    expect(h.page(HOST, 'lobby', undefined, 10).messages).toMatchObject([
      { seq: 1, text: '', e2ee: { status: 'failed', reason: 'forged' } },
    ]);
  });

  it('shows a row sealed with another key, or moved to another row, as unreadable', () => {
    const dir = tempDir();
    const h = openAt(dir, new Uint8Array(randomBytes(32)));
    h.storeReceived(HOST, received(1, 'first'));
    h.storeReceived(HOST, received(2, 'second'));
    h.close();
    // Someone with the file swaps the two ciphertexts: neither opens in the other's row.
    const db = new DatabaseSync(join(dir, 'history.sqlite'));
    const rows = db.prepare('SELECT id, text FROM messages ORDER BY seq').all();
    const update = db.prepare('UPDATE messages SET text = ? WHERE id = ?');
    update.run(String(rows[1]?.['text']), 'id-1');
    update.run(String(rows[0]?.['text']), 'id-2');
    db.close();
    const other = openAt(dir, new Uint8Array(randomBytes(32)));
    expect(other.page(HOST, 'lobby', undefined, 10).messages).toMatchObject([
      { text: '', e2ee: { status: 'failed', reason: 'undecryptable' } },
      { text: '', e2ee: { status: 'failed', reason: 'undecryptable' } },
    ]);
  });

  it('still reads the plain rows of an older history, and seals the new ones', () => {
    const dir = tempDir();
    const plain = openAt(dir);
    plain.storeReceived(HOST, received(1, 'written before'));
    plain.close();
    const h = openAt(dir, new Uint8Array(randomBytes(32)));
    h.storeReceived(HOST, received(2, 'written after'));
    expect(h.page(HOST, 'lobby', undefined, 10).messages.map((m) => m.text)).toEqual([
      'written before',
      'written after',
    ]);
    h.close();
    expect(diskBytes(dir).includes(Buffer.from('written after'))).toBe(false);
  });
});
