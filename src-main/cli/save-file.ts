import { stat, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { sanitizeFileName } from '../../src-shared/files.ts';

/** Tries " (1)" … " (999)" before giving up: an existing file is never overwritten. */
const MAX_SUFFIX = 999;

/**
 * Where `/save` writes: `target` (relative to `cwd`) when it names a file, inside it when it is
 * a folder (or ends with a slash), `cwd` when absent; in a folder, under the sender's name after
 * sanitizeFileName (no path, no control or bidi characters, no leading dot).
 */
export function saveTarget(
  cwd: string,
  target: string | undefined,
  senderName: string,
  isDirectory: (path: string) => boolean,
): { dir: string; name: string } {
  if (target === undefined) return { dir: cwd, name: sanitizeFileName(senderName) };
  const full = resolve(cwd, target);
  if (/[/\\]$/.test(target) || isDirectory(full)) {
    return { dir: full, name: sanitizeFileName(senderName) };
  }
  return { dir: dirname(full), name: basename(full) };
}

/** `name`, then `stem (1).ext`, `stem (2).ext`, … */
export function candidateName(name: string, n: number): string {
  if (n === 0) return name;
  const ext = extname(name);
  const stem = ext ? name.slice(0, -ext.length) : name;
  return `${stem} (${n})${ext}`;
}

/**
 * Writes `bytes` as a new file (mode 0600: someone else's file, readable by you alone) and
 * returns its path. Never replaces a file: each candidate is created exclusively (`wx`), so a
 * file that appears meanwhile is not overwritten either.
 */
export async function saveWithoutOverwriting(
  cwd: string,
  target: string | undefined,
  senderName: string,
  bytes: Uint8Array,
): Promise<string> {
  const directories = new Set<string>();
  if (target !== undefined) {
    const full = resolve(cwd, target);
    try {
      if ((await stat(full)).isDirectory()) directories.add(full);
    } catch {
      // Not there: a file name to create.
    }
  }
  const { dir, name } = saveTarget(cwd, target, senderName, (path) => directories.has(path));
  for (let n = 0; n <= MAX_SUFFIX; n++) {
    const path = join(dir, candidateName(name, n));
    try {
      await writeFile(path, bytes, { flag: 'wx', mode: 0o600 });
      return path;
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'EEXIST') throw error;
    }
  }
  throw Object.assign(new Error('too many files of that name'), { code: 'EEXIST' });
}
