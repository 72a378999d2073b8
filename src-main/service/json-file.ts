import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { writeSecretFileAtomic } from '../store/key-file.ts';

/** Where a file that could not be read is copied, beside it. */
export const DAMAGED_SUFFIX = '.damaged';

/**
 * One small JSON document on disk, validated by a schema on read and written atomically
 * (temp file, fsync, rename; mode 0600, since it says whom the user talks to). Writes are
 * serialized, so the last change wins on disk as in memory. A missing file is the default
 * value; a damaged one is reported (`damaged`), copied aside as `<file>.damaged` for a person
 * to repair, and replaced by the default on the next write: these files hold preferences,
 * never secrets or trust decisions.
 */
export class JsonFile<S extends z.ZodType> {
  readonly path: string;
  readonly #schema: S;
  #queue: Promise<void> = Promise.resolve();

  constructor(path: string, schema: S) {
    this.path = path;
    this.#schema = schema;
  }

  /** The stored value, or `fallback` (with `damaged: true` if the file was unreadable). */
  async read(fallback: z.output<S>): Promise<{ value: z.output<S>; damaged: boolean }> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        return { value: fallback, damaged: false };
      }
      return { value: fallback, damaged: true };
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const parsed = json === undefined ? undefined : this.#schema.safeParse(json);
    if (parsed?.success) return { value: parsed.data, damaged: false };
    await this.#setAside(text);
    return { value: fallback, damaged: true };
  }

  /** A copy of what could not be read, which the next write would otherwise replace. */
  async #setAside(text: string): Promise<void> {
    try {
      await writeSecretFileAtomic(`${this.path}${DAMAGED_SUFFIX}`, text);
    } catch {
      // The defaults still apply; the caller reports the damage either way.
    }
  }

  /** Queues a write of `value`; resolves once it (and every earlier write) is on disk. */
  write(value: z.output<S>): Promise<void> {
    const text = JSON.stringify(value, null, 2) + '\n';
    const run = (): Promise<void> => writeSecretFileAtomic(this.path, text);
    const result = this.#queue.then(run, run);
    this.#queue = result.catch(() => undefined);
    return result;
  }
}
