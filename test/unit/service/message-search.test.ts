// Search over the local history (#17): the index is built from what the history holds — in the
// background, a slice at a time, letting the event loop go between slices — and later messages,
// edits and deletions keep it current (also those made while it is being built); a search during
// the build waits for it; filters by host and room; newest first, with highlights in the snippet.
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import type { ChatMessageView } from '../../../src-shared/ipc/domain.ts';
import type { LocalHistory } from '../../../src-main/service/local-history.ts';
import { MessageSearch } from '../../../src-main/service/message-search.ts';
import { localHistories, received } from '../../support/local-history.ts';

const { tempDir, openAt } = localHistories('parley-search-');
const history = (): LocalHistory => openAt(tempDir(), new Uint8Array(randomBytes(32)));
const msg = (seq: number, text: string, room = 'lobby'): ChatMessageView =>
  received(seq, text, { room, id: `id-${room}-${seq}` });

describe('MessageSearch', () => {
  it('builds from the history on the first search, then follows new, edited and deleted messages', async () => {
    const h = history();
    h.storeReceived('a:1', msg(1, 'the Café opens at nine'));
    h.storeReceived('a:1', msg(2, 'cafeteria is closed'));
    h.storeReceived('a:1', msg(3, 'nothing to see', 'dev'));
    h.storeReceived('b:2', msg(0, 'another café, another host'));
    const search = new MessageSearch(h, { buildDelayMs: null });
    const first = await search.search('cafe', {});
    // Newest first (by time), diacritics folded, words as prefixes.
    expect(first.map((r) => [r.hostId, r.seq])).toEqual([
      ['a:1', 2],
      ['a:1', 1],
      ['b:2', 0],
    ]);
    const hit = first[1];
    expect(hit?.snippet.slice(hit.highlights[0]?.[0], hit.highlights[0]?.[1])).toBe('Café');
    expect((await search.search('cafe', { hostId: 'b:2' })).map((r) => r.seq)).toEqual([0]);
    expect(await search.search('nothing', { room: 'lobby' })).toEqual([]);
    expect(await search.search('cafe', { limit: 1 })).toHaveLength(1);

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
    expect((await search.search('cafe', { hostId: 'a:1' })).map((r) => r.seq)).toEqual([4]);
    expect((await search.search('bakery', {})).map((r) => r.seq)).toEqual([1]);
    // A forgotten room: the index is built again, from what is left.
    h.forgetRoom('a:1', 'lobby');
    search.forgetRoom();
    expect((await search.search('cafe', {})).map((r) => r.hostId)).toEqual(['b:2']);
    search.close();
  });

  const KEY = 'T'.repeat(43);
  /** `count` messages in lobby (seq 1…count); every one says "w<seq>x" and "common". */
  function filled(count: number): LocalHistory {
    const h = history();
    for (let seq = 1; seq <= count; seq++) h.storeReceived('a:1', msg(seq, `w${seq}x common`));
    return h;
  }

  it('builds in slices that let timers run in between, and a search during the build gets every message', async () => {
    const h = filled(2000);
    const slices: number[] = [];
    let timerFiredAt = -1;
    let builtAt = -1;
    const order: string[] = [];
    // A timer armed once the first slice is done (armed before it, a timer due in 1 ms could fire
    // before the first slice began, and say nothing of the slices): it must run before the last.
    const armTimer = () =>
      setTimeout(() => {
        timerFiredAt = slices.length;
        order.push('timer');
      }, 0);
    const search = new MessageSearch(h, {
      buildDelayMs: null,
      sliceMessages: 100,
      onSlice: (_ms, n) => {
        slices.push(n);
        if (slices.length === 1) armTimer();
      },
    });
    // Asked before the build started: it starts it, and waits for all of it.
    const during = search.search('common', { limit: 1000 }).then((r) => {
      builtAt = slices.length;
      order.push('search');
      return r;
    });
    const results = await during;
    // 100 messages a slice (and a last, empty page that says there is no more).
    expect(slices.filter((n) => n > 0)).toEqual(Array.from({ length: 20 }, () => 100));
    // The timer ran while slices were still to come: the build did not hold the loop.
    expect(order).toEqual(['timer', 'search']);
    expect(timerFiredAt).toBeGreaterThan(0);
    expect(timerFiredAt).toBeLessThan(builtAt);
    expect(results).toHaveLength(1000);
    expect(results[0]?.seq).toBe(2000);
    expect((await search.search('w1999x', {})).map((r) => r.seq)).toEqual([1999]);
    expect(search.built).toBe(true);
    search.close();
  });

  it('keeps what changes during the build: new, edited and deleted messages, read or not yet read', async () => {
    const h = filled(1000);
    let slice = 0;
    const search = new MessageSearch(h, {
      buildDelayMs: null,
      sliceMessages: 100,
      onSlice: () => {
        if (++slice !== 3) return;
        // After three slices (seq 1–300 read): change rows already read and rows still to read.
        // As the service does: the history first, then the index is told.
        for (const target of [10, 900]) {
          const edited = h.applyEdit('a:1', 'lobby', {
            target,
            seq: 2000 + target,
            sender: KEY,
            text: `rewritten${target}`,
          });
          search.put('a:1', edited!);
        }
        for (const target of [20, 950]) {
          const deleted = h.applyDelete('a:1', 'lobby', target, () => true);
          if (!deleted || deleted === 'forbidden') throw new Error('not deleted');
          search.put('a:1', deleted);
        }
        h.storeReceived('a:1', msg(5000, 'arrived late common'));
        search.put('a:1', h.messageAt('a:1', 'lobby', 5000)!);
      },
    });
    await search.ready();
    expect(slice).toBeGreaterThan(3);
    expect((await search.search('rewritten', {})).map((r) => r.seq)).toEqual([900, 10]);
    expect(await search.search('w10x', {})).toEqual([]);
    expect(await search.search('w900x', {})).toEqual([]);
    expect(await search.search('w20x', {})).toEqual([]);
    expect(await search.search('w950x', {})).toEqual([]);
    expect((await search.search('arrived', {})).map((r) => r.seq)).toEqual([5000]);
    // Everything else is there once: 1000 + 1 new − 2 deleted − 2 edited away from "common".
    expect(await search.search('common', { limit: 1000 })).toHaveLength(997);
    search.close();
  });

  it('starts by itself after the delay, and stops when closed mid-build', async () => {
    const h = filled(1000);
    let slices = 0;
    const search = new MessageSearch(h, {
      buildDelayMs: 5,
      sliceMessages: 100,
      onSlice: () => {
        if (++slices === 2) search.close();
      },
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(slices).toBe(2);
    expect(search.built).toBe(false);
    expect(await search.search('common', {})).toEqual([]);

    // With nothing held, a build reads one empty page and holds no index.
    const empty = new MessageSearch(history(), { buildDelayMs: 0 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(empty.built).toBe(true);
    expect(await empty.search('common', {})).toEqual([]);
    empty.close();
  });

  it('a room forgotten during the build: a waiting search gets what is left', async () => {
    const h = filled(500);
    h.storeReceived('a:1', msg(1, 'common in dev', 'dev'));
    let slice = 0;
    const search = new MessageSearch(h, {
      buildDelayMs: null,
      sliceMessages: 50,
      onSlice: () => {
        if (++slice !== 2) return;
        h.forgetRoom('a:1', 'lobby');
        search.forgetRoom();
      },
    });
    const results = await search.search('common', { limit: 1000 });
    expect(results.map((r) => r.room)).toEqual(['dev']);
    search.close();
  });
});
