/** Message text cut into plain text and http(s) links. Rendered as text nodes, never HTML. */
export type Segment =
  | { readonly kind: 'text'; readonly text: string }
  | {
      readonly kind: 'link';
      /** As written in the message. */
      readonly text: string;
      /** Where it really goes: the URL as the browser (and main) will open it. */
      readonly href: string;
      /** The host it really goes to, ASCII (an IDN host as punycode). */
      readonly host: string;
      /** The written text does not plainly show `host`: the UI must show it beside the link. */
      readonly disguised: boolean;
    };

// Control and invisible format characters (bidi overrides, zero-width spaces, tag characters…)
// end a URL: inside one they could make it look like it goes somewhere else.
const URL_PATTERN = /\bhttps?:\/\/[^\s<>"'`\p{Cc}\p{Cf}]+/giu;
// Punctuation that ends a sentence rather than a URL; a closing bracket stays if it has a match.
const TRAILING = /[.,;:!?'"\])}>*]+$/;
const MAX_URL_LENGTH = 4096;

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
    const target = linkTarget(url);
    if (!target) continue;
    const start = match.index;
    if (start > last) segments.push({ kind: 'text', text: text.slice(last, start) });
    segments.push({ kind: 'link', text: url, ...target });
    last = start + url.length;
  }
  if (last < text.length) segments.push({ kind: 'text', text: text.slice(last) });
  return segments;
}

function balanced(url: string, cut: number): boolean {
  const body = url.slice(0, url.length - cut + 1);
  return (body.match(/\(/g)?.length ?? 0) >= (body.match(/\)/g)?.length ?? 0);
}

/**
 * Where a written URL really goes, or undefined when it may not be a link: only absolute
 * http(s) URLs with a host and no `user:pass@` (main checks again before opening one).
 */
export function linkTarget(
  url: string,
): { href: string; host: string; disguised: boolean } | undefined {
  if (url.length > MAX_URL_LENGTH) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return undefined;
  if (parsed.hostname === '' || parsed.username !== '' || parsed.password !== '') return undefined;
  // The host as written: between "//" and the first of / ? # \ (a backslash is a slash to the
  // URL parser), without a port.
  const written = url
    .slice(url.indexOf('//') + 2)
    .split(/[/?#\\]/, 1)
    .join('')
    .replace(/:\d*$/, '')
    .toLowerCase();
  const host = parsed.hostname;
  // Anything else — an IDN written in Unicode, percent-escapes, odd IPv4 spellings — is shown.
  return { href: parsed.href, host, disguised: written !== host && written !== `${host}.` };
}

/** Only absolute http(s) URLs without credentials become links. */
export function isSafeLink(url: string): boolean {
  return linkTarget(url) !== undefined;
}
