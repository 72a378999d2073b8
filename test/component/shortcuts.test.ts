import { describe, expect, it } from 'vitest';
import { type KeyPress, matchShortcut, step, stepWhere } from '../../src-renderer/lib/shortcuts.ts';

const press = (key: string, mods: Partial<KeyPress> = {}): KeyPress => ({
  key,
  code: '',
  ctrlKey: false,
  metaKey: false,
  altKey: false,
  shiftKey: false,
  isComposing: false,
  ...mods,
});

describe('matchShortcut', () => {
  it('opens the room switcher with Ctrl+K or Cmd+K', () => {
    expect(matchShortcut(press('k', { ctrlKey: true }))).toBe('switcher');
    expect(matchShortcut(press('K', { metaKey: true }))).toBe('switcher');
    expect(matchShortcut(press('k'))).toBeNull();
    expect(matchShortcut(press('k', { ctrlKey: true, altKey: true }))).toBeNull();
  });

  it('opens the shortcuts sheet with Ctrl+/, also where / is a shifted key', () => {
    expect(matchShortcut(press('/', { ctrlKey: true }))).toBe('shortcuts');
    expect(matchShortcut(press('7', { ctrlKey: true, shiftKey: true, code: 'Digit7' }))).toBeNull();
    expect(matchShortcut(press('/', { ctrlKey: true, shiftKey: true, code: 'Digit7' }))).toBe(
      'shortcuts',
    );
    expect(matchShortcut(press('/'))).toBeNull();
  });

  it('moves between rooms with Alt+arrows, and between unread rooms with Alt+Shift+arrows', () => {
    expect(matchShortcut(press('ArrowUp', { altKey: true }))).toBe('previous-room');
    expect(matchShortcut(press('ArrowDown', { altKey: true }))).toBe('next-room');
    expect(matchShortcut(press('ArrowUp', { altKey: true, shiftKey: true }))).toBe(
      'previous-unread',
    );
    expect(matchShortcut(press('ArrowDown', { altKey: true, shiftKey: true }))).toBe('next-unread');
  });

  it('leaves the caret keys alone: plain, Shift and Ctrl arrows are not taken', () => {
    expect(matchShortcut(press('ArrowUp'))).toBeNull();
    expect(matchShortcut(press('ArrowDown', { shiftKey: true }))).toBeNull();
    expect(matchShortcut(press('ArrowUp', { ctrlKey: true, altKey: true }))).toBeNull();
    expect(matchShortcut(press('ArrowLeft', { altKey: true }))).toBeNull();
  });

  it('does nothing while an IME composes', () => {
    expect(matchShortcut(press('k', { ctrlKey: true, isComposing: true }))).toBeNull();
    expect(matchShortcut(press('Process', { altKey: true, keyCode: 229 }))).toBeNull();
    expect(matchShortcut(press('ArrowDown', { altKey: true, keyCode: 229 }))).toBeNull();
  });
});

describe('step and stepWhere', () => {
  it('wraps around the list in both directions', () => {
    expect(step(['a', 'b', 'c'], 'c', true)).toBe('a');
    expect(step(['a', 'b', 'c'], 'a', false)).toBe('c');
    expect(step(['a', 'b', 'c'], undefined, true)).toBe('a');
    expect(step(['a', 'b', 'c'], 'x', false)).toBe('c');
    expect(step([], 'x', true)).toBeUndefined();
  });

  it('finds the next wanted item, skipping the current one and wrapping', () => {
    const unread = [0, 3, 0, 2, 0];
    const has = (n: number) => n > 0;
    expect(stepWhere(unread, 1, true, has)).toBe(3);
    expect(stepWhere(unread, 3, true, has)).toBe(1);
    expect(stepWhere(unread, 1, false, has)).toBe(3);
    expect(stepWhere(unread, -1, false, has)).toBe(3);
    expect(stepWhere(unread, -1, true, has)).toBe(1);
    expect(stepWhere([0, 5], 1, true, has)).toBe(-1);
  });
});
