/**
 * Whether a message names someone as `@nick`: case-insensitive and word-bounded, so `@bob`
 * names bob in "hi @Bob!" and "@bob: look", but not in "@bobby" or "me@bob.example". Shared by
 * main (a muted room's 'mentions' level notifies and counts only these) and the renderer (which
 * may highlight them).
 */

/** Characters a nickname is made of (NICK_PATTERN in identifiers.ts): they continue a name. */
const NICK_CHAR = /[\p{L}\p{N}_.-]/u;
/** Before the `@`: a letter, digit or `_` makes it part of a word (an e-mail address). */
const WORD_CHAR = /[\p{L}\p{N}_]/u;

export function mentions(text: string, nick: string): boolean {
  return mentionRanges(text, nick).length > 0;
}

/** Where `text` names `nick` as `@nick`: [start, end) of each `@nick`, in order. */
export function mentionRanges(text: string, nick: string): [number, number][] {
  if (nick.length === 0) return [];
  const found: [number, number][] = [];
  const pattern = new RegExp(`@${escapeRegExp(nick)}`, 'giu');
  for (const match of text.matchAll(pattern)) {
    const start = match.index;
    const end = start + match[0].length;
    if (start > 0 && WORD_CHAR.test(charBefore(text, start))) continue;
    if (!endsName(text, end)) continue;
    found.push([start, end]);
  }
  return found;
}

/** The name ends at `end`: no nickname character follows, or only a sentence's full stop. */
function endsName(text: string, end: number): boolean {
  const next = text.codePointAt(end);
  if (next === undefined) return true;
  const char = String.fromCodePoint(next);
  if (!NICK_CHAR.test(char)) return true;
  // "thanks @bob." — a dot (or dash) that ends the sentence, not one inside a longer nick.
  if (char === '.' || char === '-') {
    const after = text.codePointAt(end + 1);
    return after === undefined || !NICK_CHAR.test(String.fromCodePoint(after));
  }
  return false;
}

function charBefore(text: string, index: number): string {
  const before = text.slice(0, index);
  const last = [...before.slice(-2)].at(-1);
  return last ?? '';
}

/** Nicks may hold `.` and `-`; in a `u` pattern `-` needs no escape outside a class (and may not have one). */
function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
