// The host's mode of HostDatabase (opened with `durability`): commits are synced by WalSync after
// they return, and checkpoints happen on the checkpointer's worker, never on the caller's thread.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HostDatabase, type NewMessage } from '../../../src-main/server/host-database.ts';
import { heldSync } from './held-sync.ts';

const alice = new Uint8Array(32).fill(0xa1);
let dir: string;
let file: string;
const open: HostDatabase[] = [];

function message(text: string, id: string): NewMessage {
  return { room: 'lobby', senderKey: alice, nick: 'alice', text, clientMsgId: id, sentAt: 1 };
}

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-durable-'));
  file = path.join(dir, 'host.db');
});

afterEach(async () => {
  for (const db of open.splice(0)) await db.shutdown();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('HostDatabase for the host (durability)', () => {
  it('tells WalSync of every write transaction, and of none for reads', async () => {
    const sync = heldSync();
    const db = HostDatabase.open(file, { durability: { sync: sync.sync, onFailure: () => {} } });
    open.push(db);
    expect(db.walSync?.barrier).toBe(0);
    db.appendMessages([message('one', 'id-1')]);
    expect(sync.calls).toHaveLength(1);
    expect(db.walSync?.barrier).toBe(1);
    // Writes of the stores sharing the connection count too (a room, a nickname).
    db.rooms.createRoom({ name: 'dev', kind: 'room', open: true, e2ee: false }, [], undefined, 2);
    db.claimNick('alice', alice);
    expect(db.walSync?.barrier).toBe(2);
    sync.release();
    await db.walSync?.idle();
    expect(db.walSync?.barrier).toBe(0);
    db.recentMessages('lobby', 10);
    db.nickOwner('alice');
    expect(db.walSync?.barrier).toBe(0);
  });

  it('checkpoints on its worker once the WAL has grown past 4 MiB, not before', async () => {
    const db = HostDatabase.open(file, { durability: { onFailure: () => {} } });
    open.push(db);
    db.startCheckpointer();
    const marker = `checkpointed-${Date.now()}`;
    db.appendMessages([message(marker, 'id-2')]);
    await db.walSync?.idle();
    await new Promise((r) => setTimeout(r, 1500));
    // A small WAL waits (it is durable; the worker is not worth its memory yet).
    expect(fs.readFileSync(file).includes(marker)).toBe(false);
    const filler = 'x'.repeat(60_000);
    for (let i = 0; i < 80; i++) {
      db.appendMessages([message(`${filler}${i}`, `fill-${i}`)]);
      await db.walSync?.idle();
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(fs.statSync(`${file}-wal`).size).toBeGreaterThan(4 * 1024 * 1024);
    await until(() => fs.readFileSync(file).includes(marker));
  });
});
