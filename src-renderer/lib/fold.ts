// Long messages are folded: a message taller than FOLD_LINES lines shows its first lines and a
// "Show more" toggle, so one 16 000-character message cannot fill several screens (and the
// virtualised timeline keeps rows of a sensible height).

/** How many lines a folded message shows. */
export const FOLD_LINES = 20;
/**
 * Characters per line in the narrowest column the chat has (400 px wide, or 200 % zoom on an
 * 800 px window): a lower bound on how many lines a text takes anywhere, for deciding which
 * messages may need folding before they are laid out.
 */
export const NARROW_CHARS_PER_LINE = 40;

/** Lines `text` takes at `charsPerLine` characters per line: its own lines, each wrapped. */
export function estimatedLines(text: string, charsPerLine: number): number {
  let lines = 0;
  for (const line of text.split('\n')) lines += Math.max(1, Math.ceil(line.length / charsPerLine));
  return lines;
}

/**
 * Whether `text` may be taller than FOLD_LINES in the narrowest column: such messages get the
 * fold (a maximum height); the toggle appears once layout shows they really overflow it.
 */
export function mayFold(text: string): boolean {
  // Cheap exit for the common short message.
  if (text.length <= FOLD_LINES && !text.includes('\n')) return false;
  return estimatedLines(text, NARROW_CHARS_PER_LINE) > FOLD_LINES;
}
