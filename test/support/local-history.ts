import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChatMessageView } from '../../src-shared/ipc/domain.ts';
import { LocalHistory, type LocalHistoryOptions } from '../../src-main/service/local-history.ts';
import { cleanupsAfterEach } from './lifecycle.ts';

/** The key of the sender `received()` messages come from. */
export const THEIR_KEY = 'T'.repeat(43);

/**
 * Desktop local histories for a unit test file: each in a temp folder of its own, closed and
 * the folder removed after each test. Call once at the file's top level.
 */
export function localHistories(prefix: string, defaults: LocalHistoryOptions = {}) {
  const cleanups = cleanupsAfterEach();
  return {
    tempDir: (): string => cleanups.tempDir(prefix),
    /** The history in `dir` (opened again if it is there): sealed with `key` if one is given. */
    openAt(dir: string, key?: Uint8Array): LocalHistory {
      const h = LocalHistory.open(join(dir, 'history.sqlite'), {
        ...defaults,
        ...(key ? { atRestKey: key } : {}),
      });
      cleanups.push(() => h.close());
      return h;
    },
  };
}

/** A message as the host delivers it to #lobby: from "them", sent, seq `seq`. */
export function received(
  seq: number,
  text: string,
  overrides: Partial<ChatMessageView> = {},
): ChatMessageView {
  return {
    room: 'lobby',
    id: `id-${seq}`,
    seq,
    from: 'them',
    fp: 'FP',
    key: THEIR_KEY,
    text,
    ts: 1000 + seq,
    own: false,
    status: 'sent',
    ...overrides,
  };
}

/** Every byte the history leaves on disk: the database, its WAL and shared memory. */
export function diskBytes(dir: string): Buffer {
  return Buffer.concat(readdirSync(dir).map((name) => readFileSync(join(dir, name))));
}
