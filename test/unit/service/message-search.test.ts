// Search over the local history (#17): nothing is indexed until the first search, which builds
// the index from what the history holds; later messages, edits and deletions keep it current;
// filters by host and room; newest first, with highlights in the snippet.
import { afterEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChatMessageView } from '../../../src-shared/ipc/domain.ts';
import { LocalHistory } from '../../../src-main/service/local-history.ts';
import { MessageSearch } from '../../../src-main/service/message-search.ts';

const dirs: string[] = [];
const open: LocalHistory[] = [];
afterEach(() => {
  for (const h of open.splice(0)) h.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function history(): LocalHistory {
  const dir = mkdtempSync(join(tmpdir(), 'parley-search-'));
  dirs.push(dir);
  const h = LocalHistory.open(join(dir, 'history.sqlite'), {
    atRestKey: new Uint8Array(randomBytes(32)),
  });
  open.push(h);
  return h;
}

function msg(seq: number, text: string, room = 'lobby'): ChatMessageView {
  return {
    room,
    id: `id-${room}-${seq}`,
    seq,
    from: 'them',
    fp: 'FP',
    key: 'T'.repeat(43),
    text,
    ts: 1000 + seq,
    own: false,
    status: 'sent',
  };
}

describe('MessageSearch', () => {
  it('builds from the history on the first search, then follows new, edited and deleted messages', () => {
    const h = history();
    h.storeReceived('a:1', msg(1, 'the Café opens at nine'));
    h.storeReceived('a:1', msg(2, 'cafeteria is closed'));
    h.storeReceived('a:1', msg(3, 'nothing to see', 'dev'));
    h.storeReceived('b:2', msg(0, 'another café, another host'));
    const search = new MessageSearch(h);
    const first = search.search('cafe', {});
    // Newest first (by time), diacritics folded, words as prefixes.
    expect(first.map((r) => [r.hostId, r.seq])).toEqual([
      ['a:1', 2],
      ['a:1', 1],
      ['b:2', 0],
    ]);
    const hit = first[1];
    expect(hit?.snippet.slice(hit.highlights[0]?.[0], hit.highlights[0]?.[1])).toBe('Café');
    expect(search.search('cafe', { hostId: 'b:2' }).map((r) => r.seq)).toEqual([0]);
    expect(search.search('nothing', { room: 'lobby' })).toEqual([]);
    expect(search.search('cafe', { limit: 1 })).toHaveLength(1);

    // A new message, an edit and a deletion reach the built index.
    h.storeReceived('a:1', msg(4, 'croissants at the café'));
    search.put('a:1', h.messageAt('a:1', 'lobby', 4)!);
    const edited = h.applyEdit('a:1', 'lobby', {
      target: 1,
      seq: 5,
      sender: 'T'.repeat(43),
      text: 'the bakery opens at nine',
    });
    search.put('a:1', edited!);
    const deleted = h.applyDelete('a:1', 'lobby', 2, () => true);
    if (!deleted || deleted === 'forbidden') throw new Error('not deleted');
    search.put('a:1', deleted);
    expect(search.search('cafe', { hostId: 'a:1' }).map((r) => r.seq)).toEqual([4]);
    expect(search.search('bakery', {}).map((r) => r.seq)).toEqual([1]);
    // A forgotten room: the index is built again, from what is left.
    h.forgetRoom('a:1', 'lobby');
    search.forgetRoom();
    expect(search.search('cafe', {}).map((r) => r.hostId)).toEqual(['b:2']);
    search.close();
  });
});
