// The host's built JavaScript (out/host/, made by `npm run build:host` and by `npm ci`'s
// `prepare`) and how `parley --serve` knows it may run it. Plain JavaScript: bin/parley.js
// imports it before it knows which Node runs it (the system's Node 20 included).
//
// A checkout edited after the build must never run old code, so the build records a stamp of
// the sources it compiled — every .ts file's path, size and modification time, hashed — and a
// start compares it with the sources as they are now. Stat calls only (about 300 files, a few
// ms): no file is read. Any edit, `git pull`, `git checkout` or added or deleted file changes
// the stamp; the host then runs from source with a note on stderr.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { URL, fileURLToPath } from 'node:url';

/** The checkout this file belongs to. */
export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * What the build bundles: the sources, and what decides how (the build script, the installed
 * dependencies — `npm ci` rewrites package-lock.json's copy in node_modules).
 */
const SOURCE_DIRS = ['src-main', 'src-shared'];
const BUILD_FILES = ['scripts/build-host.ts', 'package.json', 'node_modules/.package-lock.json'];

export const BUILD_DIR = 'out/host';
export const STAMP_FILE = 'build-stamp.json';
export const BUILT_ENTRY = 'index.js';
/** src-main/server/host.ts (startHost), built: for bench/host-process.ts. */
export const BUILT_HOST_MODULE = 'server-host.js';

/** @param {string} dir @param {string} relative @param {string[]} lines */
function walk(dir, relative, lines) {
  for (const entry of readdirSync(join(dir, relative), { withFileTypes: true })) {
    const path = `${relative}/${entry.name}`;
    if (entry.isDirectory()) walk(dir, path, lines);
    else if (entry.name.endsWith('.ts')) {
      const stat = statSync(join(dir, path));
      lines.push(`${path}\0${stat.size}\0${stat.mtimeMs}`);
    }
  }
}

/** The stamp of the sources in `root` as they are now. */
export function sourceStamp(root = ROOT) {
  const lines = [];
  for (const dir of SOURCE_DIRS) walk(root, dir, lines);
  for (const file of BUILD_FILES) {
    const stat = statSync(join(root, file), { throwIfNoEntry: false });
    lines.push(`${file}\0${stat?.size ?? '-'}\0${stat?.mtimeMs ?? '-'}`);
  }
  lines.sort();
  return createHash('sha256').update(lines.join('\n')).digest('hex');
}

/**
 * The built entry to run, or why not: `{ entry }` when out/host holds a build of exactly these
 * sources, else `{ reason }` (no build, or the sources changed since).
 * @param {string} [root]
 * @returns {{ entry: string } | { reason: string }}
 */
export function freshBuild(root = ROOT) {
  let recorded;
  try {
    recorded = JSON.parse(readFileSync(join(root, BUILD_DIR, STAMP_FILE), 'utf8')).sources;
  } catch {
    return { reason: `no build in ${BUILD_DIR}` };
  }
  if (recorded !== sourceStamp(root)) {
    return { reason: `the sources changed after the build in ${BUILD_DIR}` };
  }
  return { entry: join(root, BUILD_DIR, BUILT_ENTRY) };
}
