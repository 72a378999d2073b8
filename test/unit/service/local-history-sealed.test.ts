import { afterEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { ChatMessageView } from '../../../src-shared/ipc/domain.ts';
import { LocalHistory } from '../../../src-main/service/local-history.ts';

const dirs: string[] = [];
const open: LocalHistory[] = [];
afterEach(() => {
  for (const h of open.splice(0)) h.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const HOST = '127.0.0.1:7878';
const THEM = 'T'.repeat(43);
const ME = 'M'.repeat(43);
const SECRET = 'the secret plans are under the blue stone';

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'parley-sealed-'));
  dirs.push(dir);
  return dir;
}
function openAt(dir: string, key?: Uint8Array): LocalHistory {
  const h = LocalHistory.open(join(dir, 'history.sqlite'), key ? { atRestKey: key } : {});
  open.push(h);
  return h;
}
function msg(seq: number, text: string, overrides: Partial<ChatMessageView> = {}): ChatMessageView {
  return {
    room: 'lobby',
    id: `id-${seq}`,
    seq,
    from: 'them',
    fp: 'FP',
    key: THEM,
    text,
    ts: 1000 + seq,
    own: false,
    status: 'sent',
    ...overrides,
  };
}
/** Every byte the history leaves on disk: the database, its WAL and shared memory. */
function diskBytes(dir: string): Buffer {
  return Buffer.concat(readdirSync(dir).map((name) => readFileSync(join(dir, name))));
}

describe('LocalHistory with an at-rest key', () => {
  it('keeps no message text on disk, and reads it back after a reopen', async () => {
    const dir = tempDir();
    const key = new Uint8Array(randomBytes(32));
    const h = openAt(dir, key);
    h.storeReceived(HOST, msg(1, SECRET));
    h.storeQueued(HOST, msg(2, `${SECRET} (mine)`, { key: ME, own: true, seq: undefined }));
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
    h.storeReceived(HOST, msg(1, '', { e2ee: { status: 'failed', reason: 'forged' } }));
    expect(h.page(HOST, 'lobby', undefined, 10).messages).toMatchObject([
      { seq: 1, text: '', e2ee: { status: 'failed', reason: 'forged' } },
    ]);
  });

  it('shows a row sealed with another key, or moved to another row, as unreadable', () => {
    const dir = tempDir();
    const h = openAt(dir, new Uint8Array(randomBytes(32)));
    h.storeReceived(HOST, msg(1, 'first'));
    h.storeReceived(HOST, msg(2, 'second'));
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
    plain.storeReceived(HOST, msg(1, 'written before'));
    plain.close();
    const h = openAt(dir, new Uint8Array(randomBytes(32)));
    h.storeReceived(HOST, msg(2, 'written after'));
    expect(h.page(HOST, 'lobby', undefined, 10).messages.map((m) => m.text)).toEqual([
      'written before',
      'written after',
    ]);
    h.close();
    expect(diskBytes(dir).includes(Buffer.from('written after'))).toBe(false);
  });
});
