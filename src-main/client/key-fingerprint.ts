import { fingerprint } from '../../src-shared/fingerprint.ts';
import { decodePublicKeyText } from '../../src-shared/identifiers.ts';

/** Distinct senders remembered; a room's history repeats the same few again and again. */
const CACHE_LIMIT = 10_000;
const cache = new Map<string, string>();

/**
 * The fingerprint (docs/protocol.md §9) of a key as the wire writes it. Since wire v5 the host
 * sends `msg` and `commit` with `key` only — `fp` is a function of it — so the client derives it,
 * once per key (a SHA-256 and base32). '' for text that is not a key (the schema refuses those
 * before this is reached).
 */
export function fingerprintOfKey(keyText: string): string {
  let fp = cache.get(keyText);
  if (fp === undefined) {
    const key = decodePublicKeyText(keyText);
    if (key === undefined) return '';
    if (cache.size >= CACHE_LIMIT) cache.clear();
    fp = fingerprint(key);
    cache.set(keyText, fp);
  }
  return fp;
}
