import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * Canary strings for "the host cannot read it" tests: unique, easy to find in any file or
 * stream, and unlikely to occur by chance (random hex, an ASCII label to say whose it is).
 */
export function canary(label: string): string {
  return `canary-${label}-${randomBytes(12).toString('hex')}`;
}

/** Where a needle was found: a file (relative to the folder scanned) or a named stream. */
export interface Sighting {
  readonly needle: string;
  readonly where: string;
}

/**
 * Every file under `dir` (recursively: the database, its -wal and -shm, logs, anything) that
 * contains one of the needles as UTF-8 or as UTF-16LE bytes (SQLite may store either).
 */
export function findInFiles(dir: string, needles: readonly string[]): Sighting[] {
  const found: Sighting[] = [];
  const patterns = needles.map((needle) => ({
    needle,
    forms: [Buffer.from(needle, 'utf8'), Buffer.from(needle, 'utf16le')],
  }));
  const walk = (folder: string): void => {
    for (const name of readdirSync(folder)) {
      const path = join(folder, name);
      let stat;
      try {
        stat = statSync(path);
      } catch {
        continue; // removed meanwhile (a -journal, a temp file)
      }
      if (stat.isDirectory()) walk(path);
      else if (stat.isFile()) {
        let bytes: Buffer;
        try {
          bytes = readFileSync(path);
        } catch {
          continue;
        }
        for (const { needle, forms } of patterns) {
          if (forms.some((form) => bytes.includes(form))) {
            found.push({ needle, where: relative(dir, path) });
          }
        }
      }
    }
  };
  walk(dir);
  return found;
}

/** Every named text (a recorded stream, a log) that contains one of the needles. */
export function findInTexts(
  texts: Readonly<Record<string, readonly string[] | string>>,
  needles: readonly string[],
): Sighting[] {
  const found: Sighting[] = [];
  for (const [where, value] of Object.entries(texts)) {
    const text = typeof value === 'string' ? value : value.join('\n');
    for (const needle of needles) if (text.includes(needle)) found.push({ needle, where });
  }
  return found;
}

/** Collects what a child process writes to stdout and stderr from now on. */
export function captureOutput(child: {
  stdout: NodeJS.ReadableStream;
  stderr: NodeJS.ReadableStream;
}): { readonly stdout: string[]; readonly stderr: string[] } {
  const out = { stdout: [] as string[], stderr: [] as string[] };
  child.stdout.on('data', (chunk: Buffer | string) => out.stdout.push(String(chunk)));
  child.stderr.on('data', (chunk: Buffer | string) => out.stderr.push(String(chunk)));
  return out;
}
