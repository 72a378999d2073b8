/**
 * The chat screen's keyboard shortcuts: which action a key press asks for, and the list the
 * shortcuts sheet shows. Pure, so the matching is tested without a page.
 */

export type ShortcutAction =
  | 'switcher'
  | 'shortcuts'
  | 'previous-room'
  | 'next-room'
  | 'previous-unread'
  | 'next-unread'
  | 'search-room'
  | 'search-all';

/** The parts of a KeyboardEvent the matching reads. */
export type KeyPress = Pick<
  KeyboardEvent,
  'key' | 'code' | 'ctrlKey' | 'metaKey' | 'altKey' | 'shiftKey' | 'isComposing'
> & { readonly keyCode?: number };

/**
 * The action for a key press, or null. Nothing while an IME composes (Chromium reports
 * keyCode 229 for the keys that end a composition). Ctrl and Cmd both count as the modifier,
 * so the same keys work on every platform; Alt+arrows are taken only without Ctrl/Cmd, so the
 * composer's other caret keys keep working.
 */
export function matchShortcut(event: KeyPress): ShortcutAction | null {
  if (event.isComposing || event.keyCode === 229) return null;
  const mod = event.ctrlKey || event.metaKey;
  if (mod && !event.altKey) {
    if (event.key.toLowerCase() === 'k' && !event.shiftKey) return 'switcher';
    // Ctrl/Cmd+F searches the room on screen, with Shift every room (#17).
    if (event.key.toLowerCase() === 'f') return event.shiftKey ? 'search-all' : 'search-room';
    // "/" sits on a shifted key on some layouts: the character or the key decides.
    if (event.key === '/' || event.code === 'Slash') return 'shortcuts';
    return null;
  }
  if (event.altKey && !mod && (event.key === 'ArrowUp' || event.key === 'ArrowDown')) {
    const up = event.key === 'ArrowUp';
    if (event.shiftKey) return up ? 'previous-unread' : 'next-unread';
    return up ? 'previous-room' : 'next-room';
  }
  return null;
}

/** For the shortcuts sheet: the keys as shown, and what they do. */
export interface ShortcutHelp {
  readonly keys: readonly string[];
  readonly description: string;
}

export function shortcutList(mac: boolean): readonly ShortcutHelp[] {
  const mod = mac ? '⌘' : 'Ctrl';
  const alt = mac ? '⌥' : 'Alt';
  return [
    { keys: [mod, 'K'], description: 'Go to a room (search rooms on every host)' },
    { keys: [alt, '↑'], description: 'Previous room on this host' },
    { keys: [alt, '↓'], description: 'Next room on this host' },
    { keys: [alt, 'Shift', '↑'], description: 'Previous room with unread messages' },
    { keys: [alt, 'Shift', '↓'], description: 'Next room with unread messages' },
    { keys: [mod, 'F'], description: 'Search this room' },
    { keys: [mod, 'Shift', 'F'], description: 'Search all rooms' },
    { keys: ['↑'], description: 'In an empty message box: edit your last message' },
    { keys: ['R', 'E', 'Del'], description: 'On a focused message: reply, edit, delete' },
    { keys: ['↑', '↓', 'End'], description: 'On a focused message: previous, next, newest' },
    { keys: ['Esc'], description: 'Close the open dialog, panel or room list' },
    { keys: [mod, '/'], description: 'Show this list' },
    { keys: ['Enter'], description: 'Send the message' },
    { keys: ['Shift', 'Enter'], description: 'New line in the message' },
  ];
}

/**
 * The next item after `current` in `items` (wrapping), in the direction asked; `current` not in
 * the list starts from the first (down) or last (up). Undefined for an empty list.
 */
export function step<T>(items: readonly T[], current: T | undefined, down: boolean): T | undefined {
  if (items.length === 0) return undefined;
  const at = current === undefined ? -1 : items.indexOf(current);
  if (at < 0) return down ? items[0] : items[items.length - 1];
  return items[(at + (down ? 1 : -1) + items.length) % items.length];
}

/**
 * The index of the next item (wrapping, not counting `from` itself) that `wanted` accepts, in
 * the direction asked; -1 if none. `from` -1 starts before the first item (or after the last).
 */
export function stepWhere<T>(
  items: readonly T[],
  from: number,
  down: boolean,
  wanted: (item: T) => boolean,
): number {
  const n = items.length;
  for (let i = 1; i <= n; i += 1) {
    const at = from < 0 ? (down ? i - 1 : n - i) : (((from + (down ? i : -i)) % n) + n) % n;
    if (at === from) continue;
    const item = items[at];
    if (item !== undefined && wanted(item)) return at;
  }
  return -1;
}
