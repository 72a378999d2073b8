import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CiphersuiteImpl } from 'ts-mls';
import { z } from 'zod';
import { loadSuiteWith, type ProviderName } from '../../../../src-main/e2ee/mls-suite.ts';

/**
 * Shared plumbing for the MLS interoperability vectors (test/vectors/mls, see its README).
 * Every file there is already filtered to cipher suite 1, the only suite Parley speaks.
 */
export const MLS_VECTORS_DIR = fileURLToPath(new URL('../../../vectors/mls/', import.meta.url));

export const SUITE_ID = 1;

export type { ProviderName };

/** Both crypto providers ts-mls ships; a room may hold members on either, so both must agree. */
export const PROVIDERS: readonly ProviderName[] = ['webcrypto', 'noble'];

const suites = new Map<ProviderName, Promise<CiphersuiteImpl>>();

/**
 * Suite 1 on the named provider, built by Parley's own adapter (src-main/e2ee/mls-suite.ts), so
 * the vectors check the very construction the app runs. Built once per test file.
 */
export function suiteOn(provider: ProviderName): Promise<CiphersuiteImpl> {
  let impl = suites.get(provider);
  if (impl === undefined) {
    impl = loadSuiteWith(provider).then((suite) => suite.impl);
    suites.set(provider, impl);
  }
  return impl;
}

/** Hex as the vectors write it: lower case, even length. */
export const hexString = z.string().regex(/^(?:[0-9a-f]{2})*$/);

/** Reads one vector file and checks its shape: a file that drifted fails loudly, not vaguely. */
export function loadMlsVectors<T extends z.ZodType>(file: string, entry: T): z.infer<T>[] {
  const raw: unknown = JSON.parse(readFileSync(MLS_VECTORS_DIR + file, 'utf8'));
  return z.array(entry).min(1).parse(raw);
}

/** The single entry of a file that has one per suite (and so one after filtering). */
export function onlyEntry<T>(entries: T[]): T {
  const [first] = entries;
  if (first === undefined || entries.length !== 1)
    throw new Error('expected exactly one suite-1 entry');
  return first;
}

/** Entries that say a suite must be suite 1 (the copy is filtered; this guards the filter). */
export const suiteOne = z.literal(SUITE_ID);

export const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
export const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** The same bytes with one bit flipped: what a tampering host or a broken implementation yields. */
export function flipBit(bytes: Uint8Array, index = 0): Uint8Array {
  const copy = new Uint8Array(bytes);
  copy[index % copy.length] = (copy[index % copy.length] ?? 0) ^ 0x01;
  return copy;
}
