import { describe, expect, it } from 'vitest';
import { type Entry, UNREAD_KEY, buildRows } from '../../src-renderer/lib/rows.ts';
import { NOON, message, presence } from './fixtures.ts';

// Where the "New messages" line goes among the rows: above the first unread message, only
// once, and never above the oldest loaded message merely because older ones are not loaded.

const seq = (entry: Entry): number => (entry.kind === 'message' ? (entry.message.seq ?? -1) : -1);
const kinds = (entries: Entry[], first: number, complete = false) =>
  buildRows(entries, NOON, complete, first).map((row) =>
    row.kind === 'message' ? row.message.text : row.kind,
  );

describe('the New messages line among the rows', () => {
  const entries = [
    message('bob', 'read', NOON),
    presence('carol', 'joined', NOON + 1),
    message('bob', 'first new', NOON + 2),
    message('bob', 'second new', NOON + 3),
  ];

  it('goes right above the first unread message, once, and that message shows its sender', () => {
    const rows = buildRows(entries, NOON, false, seq(entries[2]!));
    expect(kinds(entries, seq(entries[2]!))).toEqual([
      'day',
      'read',
      'presence',
      'unread',
      'first new',
      'second new',
    ]);
    expect(rows.filter((row) => row.key === UNREAD_KEY)).toHaveLength(1);
    const first = rows.find((row) => row.kind === 'message' && row.message.text === 'first new');
    expect(first?.kind === 'message' && first.head).toBe(true);
  });

  it('waits while the first unread may be older than the oldest message loaded', () => {
    const newer = entries.slice(2);
    // The first unread is seq(entries[0]) - 1: not loaded, and more history exists.
    expect(kinds(newer, seq(entries[0]!) - 1)).not.toContain('unread');
    // The first unread is the oldest loaded one: the line goes above it.
    expect(kinds(newer, seq(newer[0]!))[1]).toBe('unread');
    // Nothing older exists at all: the line goes above the first message.
    expect(kinds(newer, seq(entries[0]!) - 1, true)).toEqual([
      'start',
      'day',
      'unread',
      'first new',
      'second new',
    ]);
  });

  it('is not drawn when everything loaded was read, or nothing is unread', () => {
    expect(kinds(entries, seq(entries[3]!) + 1)).not.toContain('unread');
    expect(buildRows(entries, NOON, false).some((row) => row.kind === 'unread')).toBe(false);
  });
});

describe('row keys', () => {
  it('stay unique when entries repeat an id or a day comes back', () => {
    const first = message('bob', 'from bob', NOON);
    const same = message('carol', 'from carol, same id', NOON + 1);
    if (first.kind !== 'message' || same.kind !== 'message') throw new Error('messages');
    const clash: Entry = { ...same, id: first.id };
    // Yesterday's timestamp after today's (host order is seq, not time).
    const late = message('bob', 'late', NOON - 24 * 3_600_000);
    const rows = buildRows([first, clash, late, message('bob', 'today again', NOON + 2)], NOON);
    const keys = rows.map((row) => row.key);
    expect(new Set(keys).size).toBe(keys.length);
    expect(rows.filter((row) => row.kind === 'message')).toHaveLength(4);
    // The first keeps its own key: its scroll anchor and measured height stay with it.
    expect(keys).toContain(first.id);
  });
});
