// A message that names us (`@alice` when we are alice) shows where it does: the same rule the
// service counts mentions by (src-shared/mentions.ts), so what is highlighted is what notified.
import { mentionRanges } from '../../src-shared/mentions.ts';

export interface TextPiece {
  readonly text: string;
  /** This piece is `@nick` naming us. */
  readonly mention: boolean;
}

/** `text` cut into pieces, the ones naming `nick` marked; one piece when there are none. */
export function mentionParts(text: string, nick: string | undefined): TextPiece[] {
  const ranges = nick ? mentionRanges(text, nick) : [];
  if (ranges.length === 0) return [{ text, mention: false }];
  const pieces: TextPiece[] = [];
  let at = 0;
  for (const [start, end] of ranges) {
    if (start > at) pieces.push({ text: text.slice(at, start), mention: false });
    pieces.push({ text: text.slice(start, end), mention: true });
    at = end;
  }
  if (at < text.length) pieces.push({ text: text.slice(at), mention: false });
  return pieces;
}
