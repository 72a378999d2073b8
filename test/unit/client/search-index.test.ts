import { afterEach, describe, expect, it } from 'vitest';
import {
  SNIPPET_CHARS,
  type SearchDoc,
  type SearchHit,
  SearchIndex,
  queryWords,
} from '../../../src-main/client/search-index.ts';

let index: SearchIndex | undefined;
afterEach(() => index?.close());

function doc(seq: number, text: string, extra: Partial<SearchDoc> = {}): SearchDoc {
  const host = extra.host ?? 'h1';
  const room = extra.room ?? 'lobby';
  return {
    key: `${host}|${room}|${seq}`,
    host,
    room,
    seq,
    id: `id${seq}`,
    from: 'alice',
    ts: 1_000 + seq,
    text,
    ...extra,
  };
}

function withDocs(...docs: SearchDoc[]): SearchIndex {
  index?.close();
  index = new SearchIndex();
  index.addMany(docs);
  return index;
}

/** The index of the test (made by withDocs). */
function idx(): SearchIndex {
  if (!index) throw new Error('no index');
  return index;
}

const seqs = (hits: SearchHit[]) => hits.map((hit) => hit.seq);
const marked = (hit: SearchHit) => hit.highlights.map(([a, b]) => hit.snippet.slice(a, b));

describe('SearchIndex', () => {
  it('matches each word as a prefix, case-insensitively, newest first', () => {
    withDocs(doc(1, 'The deployment failed'), doc(2, 'deploy again?'), doc(3, 'lunch'));
    const hits = idx().search('DEPLOY');
    expect(seqs(hits)).toEqual([2, 1]);
    expect(marked(hits[1]!)).toEqual(['deployment']);
    expect(idx().search('ployment')).toEqual([]); // a prefix, not a substring
  });

  it('ignores diacritics both ways', () => {
    withDocs(doc(1, 'Crème brûlée au café'), doc(2, 'cafe latte'), doc(3, 'Ça va? Über naïve'));
    expect(seqs(idx().search('cafe'))).toEqual([2, 1]);
    expect(seqs(idx().search('café'))).toEqual([2, 1]);
    expect(seqs(idx().search('BRULEE'))).toEqual([1]);
    expect(seqs(idx().search('uber naive ca'))).toEqual([3]);
    expect(marked(idx().search('creme')[0]!)).toEqual(['Crème']);
    // A decomposed é (e + U+0301) is found and highlighted as the precomposed one.
    withDocs(doc(1, 'cafe\u0301 noir'));
    expect(marked(idx().search('café')[0]!)).toEqual(['cafe\u0301']);
  });

  it('orders by time whatever the order of adding, then by seq', () => {
    withDocs(doc(5, 'word late', { ts: 9_000 }), doc(1, 'word early', { ts: 100 }));
    idx().add(doc(3, 'word middle', { ts: 5_000 }));
    idx().addMany([
      doc(7, 'word same ms', { ts: 5_000 }),
      doc(2, 'word same', { ts: 5_000, room: 'dev' }),
    ]);
    expect(seqs(idx().search('word'))).toEqual([5, 7, 3, 2, 1]);
  });

  it('ANDs the words', () => {
    withDocs(doc(1, 'red apple'), doc(2, 'green apple'), doc(3, 'red car'));
    expect(seqs(idx().search('apple red'))).toEqual([1]);
    expect(seqs(idx().search('re ap'))).toEqual([1]);
    expect(seqs(idx().search('red'))).toEqual([3, 1]);
    expect(idx().search('red blue')).toEqual([]);
  });

  it('filters by host and room, and honours the limit', () => {
    withDocs(
      doc(1, 'hello one'),
      doc(2, 'hello two', { room: 'dev' }),
      doc(3, 'hello three', { host: 'h2' }),
      doc(4, 'hello four'),
    );
    expect(seqs(idx().search('hello'))).toEqual([4, 3, 2, 1]);
    expect(seqs(idx().search('hello', { room: 'lobby' }))).toEqual([4, 3, 1]);
    expect(seqs(idx().search('hello', { host: 'h1' }))).toEqual([4, 2, 1]);
    expect(seqs(idx().search('hello', { host: 'h1', room: 'lobby' }))).toEqual([4, 1]);
    expect(seqs(idx().search('hello', { limit: 2 }))).toEqual([4, 3]);
    const hit = idx().search('three')[0]!;
    expect(hit).toMatchObject({
      key: 'h2|lobby|3',
      host: 'h2',
      id: 'id3',
      from: 'alice',
      ts: 1003,
    });
  });

  it('follows edits and deletions, and replaces a message added again', () => {
    withDocs(doc(1, 'typo here'), doc(2, 'other typo'));
    expect(idx().update('h1|lobby|1', 'fixed here')).toBe(true);
    expect(seqs(idx().search('typo'))).toEqual([2]);
    expect(idx().search('fixed')[0]?.text).toBe('fixed here');
    expect(idx().remove('h1|lobby|2')).toBe(true);
    expect(idx().search('typo')).toEqual([]);
    expect(idx().remove('h1|lobby|2')).toBe(false);
    expect(idx().update('nope', 'x')).toBe(false);
    idx().add(doc(1, 'again'));
    expect(idx().size).toBe(1);
    expect(idx().search('fixed')).toEqual([]);
    expect(seqs(idx().search('again'))).toEqual([1]);
  });

  it('treats hostile queries as words, never as FTS syntax', () => {
    withDocs(doc(1, 'near the "quoted" text: a-b c*d'), doc(2, 'NOT OR AND'));
    for (const query of ['"', '""', '*', '-', ':', '(', ')', '^', 'NEAR(', '"a', '\\', '{}', '']) {
      expect(() => idx().search(query)).not.toThrow();
    }
    expect(idx().search('"')).toEqual([]);
    expect(idx().search('*')).toEqual([]);
    expect(idx().search('  ')).toEqual([]);
    expect(seqs(idx().search('NEAR('))).toEqual([1]); // the word "near"
    expect(seqs(idx().search('"quoted'))).toEqual([1]);
    expect(seqs(idx().search('text:'))).toEqual([1]);
    expect(seqs(idx().search('-b'))).toEqual([1]); // not "NOT b"
    expect(seqs(idx().search('NOT'))).toEqual([2]); // an operator name is a word
    expect(seqs(idx().search('OR AND'))).toEqual([2]);
    expect(seqs(idx().search('text: NOT "x'))).toEqual([]); // three words ANDed
    expect(idx().search('x'.repeat(100_000))).toEqual([]);
    expect(() => idx().search('a '.repeat(50_000))).not.toThrow();
    expect(queryWords('a '.repeat(50_000))).toEqual(['a']);
    expect(queryWords(Array.from({ length: 40 }, (_, i) => `w${i}`).join(' '))).toHaveLength(16);
  });

  it('finds right-to-left and emoji text, with highlights on UTF-16 ranges', () => {
    withDocs(doc(1, 'שלום עולם 👋 hello'), doc(2, 'مرحبا بالعالم'), doc(3, '🎉🎉 party time 🎉'));
    const hebrew = idx().search('עולם')[0]!;
    expect(hebrew.seq).toBe(1);
    expect(marked(hebrew)).toEqual(['עולם']);
    expect(seqs(idx().search('مرح'))).toEqual([2]);
    const party = idx().search('party')[0]!;
    expect(party.highlights).toEqual([[5, 10]]); // each 🎉 is two UTF-16 units
    expect(idx().search('🎉')).toEqual([]); // an emoji is not a word
  });

  it('cuts a long text to a window around the first match', () => {
    const long = `${'lorem ipsum '.repeat(40)}needle in the haystack ${'dolor sit '.repeat(40)}`;
    withDocs(doc(1, long), doc(2, 'short needle'));
    const [short, cut] = idx().search('needle');
    expect(short!.snippet).toBe('short needle');
    expect(marked(short!)).toEqual(['needle']);
    expect(cut!.snippet.startsWith('…')).toBe(true);
    expect(cut!.snippet.endsWith('…')).toBe(true);
    expect(cut!.snippet.length).toBeLessThanOrEqual(SNIPPET_CHARS + 2);
    expect(marked(cut!)).toEqual(['needle']);
    expect(cut!.text).toBe(long);
    // A match at the start: no leading '…'.
    withDocs(doc(1, `needle ${'x '.repeat(200)}`));
    const start = idx().search('needle')[0]!;
    expect(start.snippet.startsWith('needle')).toBe(true);
    expect(start.highlights).toEqual([[0, 6]]);
  });

  it('never cuts a snippet inside a surrogate pair', () => {
    for (let pad = 0; pad < 8; pad++) {
      const text = `${'a'.repeat(pad)}${'😀'.repeat(150)} needle ${'😀'.repeat(150)}`;
      withDocs(doc(1, text));
      const hit = idx().search('needle')[0]!;
      expect(hit.snippet.isWellFormed()).toBe(true);
      expect(marked(hit)).toEqual(['needle']);
    }
  });
});
