import { join } from 'node:path';
import { z } from 'zod';
import { PublicKeyText } from '../../src-shared/identifier-schemas.ts';
import { JsonFile } from './json-file.ts';

/**
 * The member keys this user has verified (compared fingerprints or safety numbers out of band).
 * Keyed by public key, not nickname or host: a key is the person, wherever they chat. A mark
 * made while their person key (the key their end-to-end encryption devices are signed with) was
 * known holds for that person key only: when it changes (a new install, or someone else), the
 * mark no longer applies and they show as not verified until compared again. A damaged file
 * loses the marks, which errs on the safe side (shown as not verified).
 */
export const VERIFIED_FILE = 'verified-members.json';

const V1 = z.object({ version: z.literal(1), keys: z.array(PublicKeyText).max(100_000) });
const V2 = z.object({
  version: z.literal(2),
  marks: z.array(z.object({ key: PublicKeyText, person: PublicKeyText.optional() })).max(100_000),
});
const Stored = z.union([V1, V2]);

export class VerifiedMembers {
  readonly #file: JsonFile<typeof Stored>;
  /** Key → the person key it was verified with (undefined: none was known then). */
  readonly #marks: Map<string, string | undefined>;

  private constructor(file: JsonFile<typeof Stored>, marks: Map<string, string | undefined>) {
    this.#file = file;
    this.#marks = marks;
  }

  static async open(dataDir: string): Promise<VerifiedMembers> {
    const file = new JsonFile(join(dataDir, VERIFIED_FILE), Stored);
    const { value } = await file.read({ version: 2, marks: [] });
    const marks =
      value.version === 1
        ? new Map(value.keys.map((key) => [key, undefined]))
        : new Map(value.marks.map((mark) => [mark.key, mark.person]));
    return new VerifiedMembers(file, marks);
  }

  /**
   * Whether `key` is marked verified for `person`, its person key now (undefined: unknown, as in
   * a room without end-to-end encryption). A mark made for another person key does not count.
   */
  has(key: string, person?: string): boolean {
    if (!this.#marks.has(key)) return false;
    const marked = this.#marks.get(key);
    return marked === undefined || marked === person;
  }

  /**
   * Whether the user compared safety numbers with `key` while its person key was `person`: what
   * "verified" means in an end-to-end encrypted room (a fingerprint mark does not cover the key
   * their devices carry).
   */
  hasCompared(key: string, person: string | undefined): boolean {
    return person !== undefined && this.#marks.get(key) === person;
  }

  /**
   * Returns whether anything changed. `person`: the person key the user compared (none: a
   * fingerprint). A fingerprint mark never replaces a safety-number mark.
   */
  async set(key: string, verified: boolean, person?: string): Promise<boolean> {
    if (verified && person === undefined && this.#marks.get(key) !== undefined) return false;
    if (
      verified ? this.#marks.has(key) && this.#marks.get(key) === person : !this.#marks.has(key)
    ) {
      return false;
    }
    if (verified) this.#marks.set(key, person);
    else this.#marks.delete(key);
    const marks = [...this.#marks]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, p]) => (p === undefined ? { key: k } : { key: k, person: p }));
    await this.#file.write({ version: 2, marks });
    return true;
  }
}
