import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { writeSecretFileAtomic } from '../store/key-file.ts';

/**
 * One small JSON document on disk, validated by a schema on read and written atomically
 * (temp file, fsync, rename; mode 0600, since it says whom the user talks to). Writes are
 * serialized, so the last change wins on disk as in memory. A missing file is the default
 * value; a damaged one is reported and replaced by the default on the next write: these files
 * hold preferences, never secrets or trust decisions.
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
    try {
      const parsed = this.#schema.safeParse(JSON.parse(text));
      return parsed.success
        ? { value: parsed.data, damaged: false }
        : { value: fallback, damaged: true };
    } catch {
      return { value: fallback, damaged: true };
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
