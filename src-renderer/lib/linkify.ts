/** Message text cut into plain text and http(s) links. Rendered as text nodes, never HTML. */
export type Segment = { readonly kind: 'text' | 'link'; readonly text: string };

const URL_PATTERN = /\bhttps?:\/\/[^\s<>"'`]+/gi;
// Punctuation that ends a sentence rather than a URL; a closing bracket stays if it has a match.
const TRAILING = /[.,;:!?'"\])}>*]+$/;

export function linkify(text: string): Segment[] {
  const segments: Segment[] = [];
  let last = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    let url = match[0];
    const trailing = TRAILING.exec(url)?.[0] ?? '';
    let keep = trailing.length;
    // "(see https://x.org/a_(b))" keeps the balanced ")" of the URL.
    while (keep > 0 && trailing[trailing.length - keep] === ')' && balanced(url, keep)) keep--;
    url = url.slice(0, url.length - keep);
    if (!isSafeLink(url)) continue;
    const start = match.index;
    if (start > last) segments.push({ kind: 'text', text: text.slice(last, start) });
    segments.push({ kind: 'link', text: url });
    last = start + url.length;
  }
  if (last < text.length) segments.push({ kind: 'text', text: text.slice(last) });
  return segments;
}

function balanced(url: string, cut: number): boolean {
  const body = url.slice(0, url.length - cut + 1);
  return (body.match(/\(/g)?.length ?? 0) >= (body.match(/\)/g)?.length ?? 0);
}

/** Only absolute http(s) URLs become links (main checks again before opening one). */
export function isSafeLink(url: string): boolean {
  try {
    const parsed = new URL(url);
    return (parsed.protocol === 'http:' || parsed.protocol === 'https:') && parsed.host !== '';
  } catch {
    return false;
  }
}
