import { join } from 'node:path';
import { z } from 'zod';
import { PublicKeyText } from '../../src-shared/identifier-schemas.ts';
import { JsonFile } from './json-file.ts';

/**
 * The member keys this user has verified (compared fingerprints out of band). Keyed by public
 * key, not nickname or host: a key is the person, wherever they chat. A damaged file loses the
 * marks, which errs on the safe side (shown as not verified).
 */
export const VERIFIED_FILE = 'verified-members.json';

const Stored = z.object({ version: z.literal(1), keys: z.array(PublicKeyText).max(100_000) });

export class VerifiedMembers {
  readonly #file: JsonFile<typeof Stored>;
  readonly #keys: Set<string>;

  private constructor(file: JsonFile<typeof Stored>, keys: Iterable<string>) {
    this.#file = file;
    this.#keys = new Set(keys);
  }

  static async open(dataDir: string): Promise<VerifiedMembers> {
    const file = new JsonFile(join(dataDir, VERIFIED_FILE), Stored);
    const { value } = await file.read({ version: 1, keys: [] });
    return new VerifiedMembers(file, value.keys);
  }

  has(key: string): boolean {
    return this.#keys.has(key);
  }

  /** Returns whether anything changed. */
  async set(key: string, verified: boolean): Promise<boolean> {
    if (this.#keys.has(key) === verified) return false;
    if (verified) this.#keys.add(key);
    else this.#keys.delete(key);
    await this.#file.write({ version: 1, keys: [...this.#keys].sort() });
    return true;
  }
}
