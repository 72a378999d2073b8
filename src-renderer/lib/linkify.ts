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
const TRAILING = new Set(['.', ',', ';', ':', '!', '?', "'", '"', ']', ')', '}', '>', '*']);
const MAX_URL_LENGTH = 4096;

export function linkify(text: string): Segment[] {
  const segments: Segment[] = [];
  let last = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    let url = match[0];
    const keep = trailingCut(url);
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

/**
 * How many characters at the end of `url` are sentence punctuation, not URL: "(see
 * https://x.org/a_(b))" keeps the balanced ")" of the URL. One pass each way, so a text
 * built of thousands of brackets costs its length, not its length squared.
 */
function trailingCut(url: string): number {
  let cut = 0;
  while (cut < url.length && TRAILING.has(url[url.length - 1 - cut] as string)) cut++;
  const body = url.length - cut;
  let opens = 0;
  let closes = 0;
  for (let i = 0; i < body; i++) {
    if (url[i] === '(') opens++;
    else if (url[i] === ')') closes++;
  }
  // Give the URL back each ")" that closes one of its "(", in order, up to the first that does not.
  while (cut > 0 && url[url.length - cut] === ')' && opens >= closes + 1) {
    closes++;
    cut--;
  }
  return cut;
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
