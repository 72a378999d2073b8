import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HostDatabase, type NewMessage } from '../../../src-main/server/host-database.ts';

// Review of #17 (R1): in an encrypted room the host cannot see what an edit says, so a send with
// `rel` edit may carry a `file` too (a modified client's). Deleting the target erases its edits;
// a file one of them claimed must go with them (docs/security.md: "a deleted message's file is
// deleted with it"), not stay downloadable by id until retention.

const alice = new Uint8Array(32).fill(0xa1);
const T0 = 1_700_000_000_000;

let dir: string;
let db: HostDatabase;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-del-files-'));
  db = HostDatabase.open(path.join(dir, 'host.db'));
});

afterEach(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

let ids = 0;
function uploaded(): string {
  const id = `file${String(++ids).padStart(18, '0')}`;
  const results = db.files.write([
    {
      op: 'start',
      id,
      room: 'lobby',
      owner: alice,
      size: 20,
      chunks: 1,
      now: T0,
      quotaBytes: 1000,
      keyQuotaBytes: 250,
    },
    { op: 'chunk', id, index: 0, data: new Uint8Array(20) },
    { op: 'end', id, now: T0 },
  ]);
  expect(results).toEqual(['ok', 'ok', 'ok']);
  return id;
}

let n = 0;
function message(overrides: Partial<NewMessage> = {}): NewMessage {
  n++;
  return {
    room: 'lobby',
    senderKey: alice,
    nick: 'alice',
    text: `m${n}`,
    clientMsgId: `msg-${String(n).padStart(6, '0')}`,
    sentAt: T0 + n,
    ...overrides,
  };
}

describe('a deletion and the files of its target’s edits', () => {
  it('deletes a file an edit of the deleted message claimed', () => {
    const own = uploaded();
    const onEdit = uploaded();
    const [target] = db.appendMessages([message({ file: own })]);
    const seq = target?.message.seq ?? 0;
    const [edit] = db.appendMessages([message({ rel: { t: 'edit', seq }, file: onEdit })]);
    expect(edit?.refused).toBeUndefined();
    expect(db.files.file(onEdit)?.seq).toBe(edit?.message.seq);

    const [deletion] = db.appendMessages([message({ rel: { t: 'delete', seq } })]);
    expect(deletion?.refused).toBeUndefined();
    expect(db.files.file(own)).toBeUndefined();
    expect(db.files.file(onEdit)).toBeUndefined();
    expect(db.files.chunk(onEdit, 0)).toBeUndefined();
  });
});
