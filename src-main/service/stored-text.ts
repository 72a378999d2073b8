import type { RowCipher } from './row-cipher.ts';

/**
 * A local-history text column as stored beside its `sealed` flag, for reading: as it is when
 * the flag is not 1, opened with the at-rest key when it is; undefined when sealed and there is
 * no key or it does not open (changed, moved to another row, another key) — the caller shows it
 * as unreadable, never as ciphertext. One place for the history's rows and the conversation's.
 */
export function openStoredText(
  cipher: RowCipher | undefined,
  text: unknown,
  sealed: unknown,
  identity: readonly string[],
): string | undefined {
  if (sealed !== 1) return String(text);
  if (!cipher) return undefined;
  try {
    return cipher.open(String(text), identity);
  } catch {
    return undefined;
  }
}
