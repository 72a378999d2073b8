// Reading one message by its seq (a reply's quote, a message read back when older history
// pages in, a deletion) must not scan the whole room: paging back through a room of 10 000
// messages reads each arriving message back, and a lookup that grew with the room made every
// page slower than the one before (the long-room e2e went from ~5 s to ~14 s).
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChatMessageView } from '../../../src-shared/ipc/domain.ts';
import { LocalHistory } from '../../../src-main/service/local-history.ts';

const HOST = '127.0.0.1:7878';
const dirs: string[] = [];
const open: LocalHistory[] = [];
afterEach(() => {
  for (const h of open.splice(0)) h.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A room of `count` messages from a few senders, stored as the host would deliver them. */
function roomOf(count: number): LocalHistory {
  const dir = mkdtempSync(join(tmpdir(), 'parley-lookup-'));
  dirs.push(dir);
  const history = LocalHistory.open(join(dir, 'history.sqlite'), { maxMessagesPerRoom: 50_000 });
  open.push(history);
  for (let seq = 1; seq <= count; seq++) {
    const view: ChatMessageView = {
      room: 'lobby',
      id: `m${seq}`,
      seq,
      from: `p${seq % 5}`,
      fp: 'f',
      key: String(seq % 5).repeat(43),
      text: `message ${seq}`,
      ts: 1_700_000_000_000 + seq,
      own: false,
      status: 'sent',
    };
    history.storeReceived(HOST, view);
  }
  return history;
}

/** Milliseconds for `n` lookups spread over the room. */
function lookups(history: LocalHistory, count: number, n: number): number {
  const started = performance.now();
  for (let i = 0; i < n; i++) {
    const seq = 1 + ((i * 7919) % count);
    expect(history.messageAt(HOST, 'lobby', seq)?.text).toBe(`message ${seq}`);
  }
  return performance.now() - started;
}

describe('a message by its seq', () => {
  it('costs the same in a room of 20 000 as in a room of 500', () => {
    const small = roomOf(500);
    const large = roomOf(20_000);
    // Warm both (statement caches, pages), then take the better of three rounds each.
    lookups(small, 500, 200);
    lookups(large, 20_000, 200);
    const best = (h: LocalHistory, count: number) =>
      Math.min(...[0, 1, 2].map(() => lookups(h, count, 1000)));
    const smallMs = best(small, 500);
    const largeMs = best(large, 20_000);
    // An index lookup is flat (measured ~21 ms and ~24 ms); a scan of the room grows with it
    // (~150 ms and ~650 ms).
    expect(largeMs).toBeLessThan(smallMs * 2 + 30);
  }, 60_000);
});
