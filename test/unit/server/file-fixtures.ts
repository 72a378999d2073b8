// The host's file unit tests' fixture: complete uploads written straight into a HostDatabase's
// file store, and #lobby messages from alice that may claim them. Shared so the file suites
// upload and claim the same way.
import { expect } from 'vitest';
import type { HostDatabase, NewMessage } from '../../../src-main/server/host-database.ts';

export const alice = new Uint8Array(32).fill(0xa1);
export const T0 = 1_700_000_000_000;

let ids = 0;
/** A new file id (22 characters, as the host gives them). */
export const fileId = (): string => `file${String(++ids).padStart(18, '0')}`;

/** The start of an upload to #lobby of `chunks` 20-byte chunks by `owner`, at `now`. */
export const uploadStart = (id: string, owner: Uint8Array, chunks: number, now = T0) => ({
  op: 'start' as const,
  id,
  room: 'lobby',
  owner,
  size: 20 * chunks,
  chunks,
  now,
  quotaBytes: 1000,
  keyQuotaBytes: 250,
});

/** A complete upload into `db` of `chunks` 20-byte chunks by `owner`, at `now`: its id. */
export function upload(db: HostDatabase, owner = alice, chunks = 2, now = T0): string {
  const id = fileId();
  const writes = [
    uploadStart(id, owner, chunks, now),
    ...Array.from({ length: chunks }, (_, index) => ({
      op: 'chunk' as const,
      id,
      index,
      data: new Uint8Array(20).fill(index),
    })),
    { op: 'end' as const, id, now },
  ];
  expect(db.files.write(writes).every((r) => r === 'ok')).toBe(true);
  return id;
}

let n = 0;
/** A new line of alice's in #lobby, sent just after T0. */
export function message(overrides: Partial<NewMessage> = {}): NewMessage {
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
