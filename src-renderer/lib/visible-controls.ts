/**
 * Characters that change how the text around them is shown while being invisible themselves:
 * bidirectional embeddings, overrides and isolates (the "Trojan Source" characters), C0/C1
 * control characters and Unicode tag characters (invisible ASCII). In a message they are shown
 * as a small visible marker instead, so they cannot reverse, hide or disguise text. Implicit
 * marks (LRM, RLM, ALM) and joiners stay: right-to-left writers and emoji need them.
 */
export type TextPart =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'control'; readonly label: string; readonly name: string };

const BIDI_CONTROLS: ReadonlyMap<number, readonly [string, string]> = new Map([
  [0x202a, ['LRE', 'left-to-right embedding']],
  [0x202b, ['RLE', 'right-to-left embedding']],
  [0x202c, ['PDF', 'pop directional formatting']],
  [0x202d, ['LRO', 'left-to-right override']],
  [0x202e, ['RLO', 'right-to-left override']],
  [0x2066, ['LRI', 'left-to-right isolate']],
  [0x2067, ['RLI', 'right-to-left isolate']],
  [0x2068, ['FSI', 'first strong isolate']],
  [0x2069, ['PDI', 'pop directional isolate']],
]);

// Tab and newline are layout the message means; every other control, bidi formatting
// character, interlinear annotation and tag character is replaced.
/* eslint-disable no-control-regex -- matching control characters is the point */
const HIDDEN =
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\ufff9-\ufffb\u{e0000}-\u{e007f}]/gu;
/* eslint-enable no-control-regex */

const hex = (code: number) => `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;

function describe(char: string): { label: string; name: string } {
  const code = char.codePointAt(0) ?? 0;
  const bidi = BIDI_CONTROLS.get(code);
  if (bidi) return { label: bidi[0], name: `${hex(code)} ${bidi[1]}` };
  return { label: hex(code), name: `${hex(code)} invisible character` };
}

export function visibleControls(text: string): TextPart[] {
  const parts: TextPart[] = [];
  let last = 0;
  for (const match of text.matchAll(HIDDEN)) {
    if (match.index > last) parts.push({ kind: 'text', text: text.slice(last, match.index) });
    parts.push({ kind: 'control', ...describe(match[0]) });
    last = match.index + match[0].length;
  }
  if (last < text.length) parts.push({ kind: 'text', text: text.slice(last) });
  return parts;
}
