// Full-text search over decrypted messages, held in memory only: an SQLite FTS5 table in a
// `:memory:` database of node:sqlite (no native module; the same in Node and Electron). In memory
// so that the at-rest encryption of local history is not undone by a plaintext index on disk; the
// caller builds it from what it holds and keeps it up to date (design17.md, "Search").
//
// Query words are matched as prefixes and ANDed. What the user types never reaches FTS5's query
// syntax: only runs of letters and digits are taken from it, each one quoted.
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';

/** One message as the index keeps it. `key` names it for update/remove (e.g. host|room|seq). */
export interface SearchDoc {
  readonly key: string;
  readonly host: string;
  readonly room: string;
  readonly seq: number;
  readonly id: string;
  readonly from: string;
  readonly ts: number;
  readonly text: string;
}

export interface SearchOptions {
  readonly host?: string;
  readonly room?: string;
  /** At most this many results (default 50, at most 1000). */
  readonly limit?: number;
}

export interface SearchHit extends SearchDoc {
  /** The whole text when short, else a window around the first match with '…' where cut. */
  readonly snippet: string;
  /** Matched words in `snippet`: [start, end) UTF-16 offsets, in order, not overlapping. */
  readonly highlights: readonly (readonly [number, number])[];
}

/** Texts up to this many UTF-16 units are their own snippet. */
export const SNIPPET_CHARS = 200;
/** Characters of context kept before the first match in a cut snippet. */
const SNIPPET_LEAD = 60;
const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 1000;
/** A query is at most this many words of at most this many characters: the rest is ignored. */
const MAX_QUERY_WORDS = 16;
const MAX_WORD_CHARS = 64;
const ELLIPSIS = '…';

/** What FTS5's unicode61 tokenizer counts as part of a word (letters, digits, marks, private use). */
const WORD = /[\p{L}\p{N}\p{M}\p{Co}]+/gu;

/** Lower case without diacritics: how unicode61 with remove_diacritics 2 compares words. */
export function foldWord(word: string): string {
  return word
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase();
}

/** The folded words of a query, as prefixes to look for (empty: nothing to look for). */
export function queryWords(query: string): string[] {
  const words: string[] = [];
  for (const match of query.slice(0, MAX_QUERY_WORDS * (MAX_WORD_CHARS + 1) * 4).matchAll(WORD)) {
    const word = foldWord(match[0]).slice(0, MAX_WORD_CHARS);
    if (word && !words.includes(word)) words.push(word);
    if (words.length === MAX_QUERY_WORDS) break;
  }
  return words;
}

/** The FTS5 MATCH expression for words: each quoted (they hold no quote) and a prefix; ANDed. */
function matchExpression(words: readonly string[]): string {
  return words.map((word) => `"${word.replaceAll('"', '')}"*`).join(' AND ');
}

/** The [start, end) ranges of the words of `text` that start with one of `words` (folded). */
export function matchRanges(text: string, words: readonly string[]): [number, number][] {
  const ranges: [number, number][] = [];
  if (words.length === 0) return ranges;
  for (const match of text.matchAll(WORD)) {
    const folded = foldWord(match[0]);
    if (words.some((word) => folded.startsWith(word))) {
      ranges.push([match.index, match.index + match[0].length]);
    }
  }
  return ranges;
}

/** The snippet of `text` and its highlights, around the first of `ranges`. */
export function snippetOf(
  text: string,
  ranges: readonly (readonly [number, number])[],
): { snippet: string; highlights: [number, number][] } {
  if (text.length <= SNIPPET_CHARS) {
    return { snippet: text, highlights: ranges.map(([a, b]) => [a, b]) };
  }
  const first = ranges[0]?.[0] ?? 0;
  let start = Math.max(0, first - SNIPPET_LEAD);
  if (start > 0) {
    // Begin at a word boundary when one is near, and never inside a surrogate pair.
    const space = text.slice(start, first).search(/\s/u);
    if (space !== -1 && space < 20) start += space + 1;
    if (isLowSurrogate(text.charCodeAt(start))) start++;
  }
  let end = Math.min(text.length, start + SNIPPET_CHARS);
  if (end < text.length && isLowSurrogate(text.charCodeAt(end))) end--;
  const before = start > 0 ? ELLIPSIS : '';
  const after = end < text.length ? ELLIPSIS : '';
  const shift = before.length - start;
  const highlights: [number, number][] = [];
  for (const [a, b] of ranges) {
    if (b <= start || a >= end) continue;
    highlights.push([Math.max(a, start) + shift, Math.min(b, end) + shift]);
  }
  return { snippet: before + text.slice(start, end) + after, highlights };
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

type Row = Record<string, unknown>;

function str(row: Row, name: string): string {
  const value = row[name];
  if (typeof value !== 'string') throw new Error(`search index: ${name} is not text`);
  return value;
}

function num(row: Row, name: string): number {
  const value = row[name];
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  throw new Error(`search index: ${name} is not a number`);
}

/** An in-memory full-text index of messages. Synchronous; `close()` frees it. */
export class SearchIndex {
  readonly #db: DatabaseSync;
  readonly #insertDoc: StatementSync;
  readonly #insertText: StatementSync;
  readonly #rowidOf: StatementSync;
  readonly #updateDoc: StatementSync;
  readonly #updateText: StatementSync;
  readonly #deleteDoc: StatementSync;
  readonly #deleteText: StatementSync;
  readonly #search: StatementSync;
  readonly #count: StatementSync;
  readonly #taken: StatementSync;

  constructor() {
    this.#db = new DatabaseSync(':memory:');
    this.#db.exec(`
      CREATE TABLE docs (
        rowid INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        host TEXT NOT NULL,
        room TEXT NOT NULL,
        seq INTEGER NOT NULL,
        id TEXT NOT NULL,
        sender TEXT NOT NULL,
        ts INTEGER NOT NULL,
        text TEXT NOT NULL
      );
      CREATE VIRTUAL TABLE words USING fts5(
        text, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 2'
      );
    `);
    this.#insertDoc = this.#db.prepare(
      'INSERT INTO docs (rowid, key, host, room, seq, id, sender, ts, text) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.#insertText = this.#db.prepare('INSERT INTO words (rowid, text) VALUES (?, ?)');
    this.#rowidOf = this.#db.prepare('SELECT rowid FROM docs WHERE key = ?');
    this.#updateDoc = this.#db.prepare('UPDATE docs SET text = ? WHERE rowid = ?');
    this.#updateText = this.#db.prepare('UPDATE words SET text = ? WHERE rowid = ?');
    this.#deleteDoc = this.#db.prepare('DELETE FROM docs WHERE rowid = ?');
    this.#deleteText = this.#db.prepare('DELETE FROM words WHERE rowid = ?');
    // Newest first. The rowid is the time (orderKey), so FTS5 walks its lists backwards and stops
    // at the limit, instead of sorting every match of a short prefix. `?2 IS NULL`: no filter.
    this.#search = this.#db.prepare(`
      SELECT d.key, d.host, d.room, d.seq, d.id, d.sender, d.ts, d.text
      FROM words JOIN docs d ON d.rowid = words.rowid
      WHERE words MATCH ?1 AND (?2 IS NULL OR d.host = ?2) AND (?3 IS NULL OR d.room = ?3)
      ORDER BY words.rowid DESC
      LIMIT ?4
    `);
    this.#taken = this.#db.prepare('SELECT 1 FROM docs WHERE rowid = ?');
    this.#count = this.#db.prepare('SELECT count(*) AS n FROM docs');
  }

  /** Messages held. */
  get size(): number {
    const row = this.#count.get() as Row | undefined;
    return row ? num(row, 'n') : 0;
  }

  /** Adds a message, or replaces the one with the same key. */
  add(doc: SearchDoc): void {
    this.#transaction(() => this.#put(doc));
  }

  /** Adds many messages in one transaction (a first build from history). */
  addMany(docs: Iterable<SearchDoc>): void {
    this.#transaction(() => {
      for (const doc of docs) this.#put(doc);
    });
  }

  /** The message `key` now reads `text` (an edit). Unknown keys are ignored; returns whether held. */
  update(key: string, text: string): boolean {
    return this.#transaction(() => {
      const rowid = this.#rowid(key);
      if (rowid === undefined) return false;
      this.#updateDoc.run(text, rowid);
      this.#updateText.run(indexText(text), rowid);
      return true;
    });
  }

  /** Forgets the message `key` (a deletion). Returns whether it was held. */
  remove(key: string): boolean {
    return this.#transaction(() => {
      const rowid = this.#rowid(key);
      if (rowid === undefined) return false;
      this.#deleteText.run(rowid);
      this.#deleteDoc.run(rowid);
      return true;
    });
  }

  /** Messages holding every word of `query` (as a prefix), newest first. */
  search(query: string, options: SearchOptions = {}): SearchHit[] {
    const words = queryWords(query);
    if (words.length === 0) return [];
    const limit = Math.max(1, Math.min(MAX_LIMIT, Math.floor(options.limit ?? DEFAULT_LIMIT)));
    const params: SQLInputValue[] = [
      matchExpression(words),
      options.host ?? null,
      options.room ?? null,
      limit,
    ];
    const rows = this.#search.all(...params) as Row[];
    return rows.map((row) => {
      const text = str(row, 'text');
      const { snippet, highlights } = snippetOf(text, matchRanges(text, words));
      return {
        key: str(row, 'key'),
        host: str(row, 'host'),
        room: str(row, 'room'),
        seq: num(row, 'seq'),
        id: str(row, 'id'),
        from: str(row, 'sender'),
        ts: num(row, 'ts'),
        text,
        snippet,
        highlights,
      };
    });
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }

  #put(doc: SearchDoc): void {
    const old = this.#rowid(doc.key);
    if (old !== undefined) {
      this.#deleteText.run(old);
      this.#deleteDoc.run(old);
    }
    let rowid = orderKey(doc.ts, doc.seq);
    while (this.#taken.get(rowid)) rowid++; // the same millisecond and seq in another room
    this.#insertDoc.run(
      rowid,
      doc.key,
      doc.host,
      doc.room,
      doc.seq,
      doc.id,
      doc.from,
      doc.ts,
      doc.text,
    );
    this.#insertText.run(rowid, indexText(doc.text));
  }

  #rowid(key: string): number | undefined {
    const row = this.#rowidOf.get(key) as Row | undefined;
    return row ? num(row, 'rowid') : undefined;
  }

  #transaction<T>(work: () => T): T {
    this.#db.exec('BEGIN');
    try {
      const result = work();
      this.#db.exec('COMMIT');
      return result;
    } catch (error) {
      this.#db.exec('ROLLBACK');
      throw error;
    }
  }
}

/** Milliseconds up to this (year 2248) keep `ts · 1024 + seq % 1024` a safe integer. */
const MAX_TS = Math.floor(Number.MAX_SAFE_INTEGER / 1024) - 1;

/**
 * A message's rowid: its time, then its seq (within one millisecond, a room's order), so that
 * rowid order is newest-first order.
 */
function orderKey(ts: number, seq: number): number {
  const ms = Math.max(0, Math.min(MAX_TS, Math.floor(Number.isFinite(ts) ? ts : 0)));
  return ms * 1024 + (Math.floor(seq) % 1024);
}

/** Composed form, so that a decomposed "é" is one word as a precomposed one is. */
function indexText(text: string): string {
  return text.normalize('NFC');
}
