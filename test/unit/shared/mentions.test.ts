import { describe, expect, it } from 'vitest';
import { mentionRanges, mentions } from '../../../src-shared/mentions.ts';

describe('mentions', () => {
  it.each([
    ['@alice hi', true],
    ['hi @Alice!', true],
    ['HEY @ALICE', true],
    ['thanks @alice.', true],
    ['(@alice)', true],
    ['@alice: look', true],
    ['@alice, @bob', true],
    ['@alice-', true],
    ['alice, hi', false],
    ['@alicex', false],
    ['@alice_2', false],
    ['@alice.b', false],
    ['me@alice.example', false],
    ['x@alice', false],
    ['@ alice', false],
    ['', false],
  ])('%j names @alice: %s', (text, expected) => {
    expect(mentions(text, 'alice')).toBe(expected);
  });

  it('treats a nick as text, not as a pattern', () => {
    expect(mentions('@a.c hi', 'a.c')).toBe(true);
    expect(mentions('@abc hi', 'a.c')).toBe(false);
    expect(mentions('@x-y', 'x-y')).toBe(true);
  });

  it('matches letters beyond ASCII, word-bounded', () => {
    expect(mentions('merci @Zoë !', 'zoë')).toBe(true);
    expect(mentions('@zoëlle', 'zoë')).toBe(false);
    expect(mentions('é@zoë', 'zoë')).toBe(false);
  });

  it('gives where each mention is, for highlighting', () => {
    expect(mentionRanges('@bob and @Bob, not @bobby', 'bob')).toEqual([
      [0, 4],
      [9, 13],
    ]);
    expect(mentionRanges('@bob', '')).toEqual([]);
  });
});
