import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { HostAddress } from '../../src-shared/invite.ts';
import { hostId } from './known-hosts.ts';
import { writeSecretFileAtomic } from './key-file.ts';
import { type OutboxEntry, type OutboxStore, StoredOutboxEntry } from './outbox-store.ts';

/**
 * The line client's outbox on disk: the lines the host has not acknowledged yet, one JSON
 * file per host in `<data dir>/outbox/`, mode 0600 (it holds message text), written
 * atomically. A run that ends before the host acknowledged everything leaves its lines here,
 * and the next run for the same host sends them first.
 *
 * Two clients with the same data folder and host may run at once: each save re-reads the
 * file and keeps the entries it never saw (another client's), so neither drops the other's
 * lines. A line both send is delivered once: the host dedupes on (key, message id).
 */
export const OUTBOX_DIR = 'outbox';

// Version 1 files written before events existed have no `event`: they load as plain lines.
const OutboxFile = z.object({
  version: z.literal(1),
  host: z.string(),
  entries: z.array(StoredOutboxEntry),
});

export class OutboxFileError extends Error {
  override readonly name = 'OutboxFileError';
}

/** `<data dir>/outbox/<host>_<port>.json`, with anything but letters, digits, `.` and `-` as `_`. */
export function outboxPath(dataDir: string, address: HostAddress): string {
  return join(dataDir, OUTBOX_DIR, `${hostId(address).replace(/[^A-Za-z0-9.-]/g, '_')}.json`);
}

export interface FileOutboxStore extends OutboxStore {
  readonly path: string;
  /** The host has no such room: its lines can never be sent, so later saves drop them. */
  forgetRoom(room: string): void;
}

export function fileOutboxStore(dataDir: string, address: HostAddress): FileOutboxStore {
  const path = outboxPath(dataDir, address);
  const host = hostId(address);
  /** Every id this store has loaded or saved: ids missing from a save were delivered. */
  const ours = new Set<string>();
  const forgotten = new Set<string>();
  let queue: Promise<unknown> = Promise.resolve();
  const serialized = <T>(run: () => Promise<T>): Promise<T> => {
    const result = queue.then(run, run);
    queue = result.catch(() => undefined);
    return result;
  };
  return {
    path,
    forgetRoom: (room) => void forgotten.add(room),
    load: () =>
      serialized(async () => {
        const entries = await readEntries(path, host);
        for (const entry of entries) ours.add(entry.id);
        return entries;
      }),
    save: (entries) =>
      serialized(async () => {
        const foreign = (await readEntries(path, host)).filter((entry) => !ours.has(entry.id));
        for (const entry of entries) ours.add(entry.id);
        const all = [...foreign, ...entries].filter((entry) => !forgotten.has(entry.room));
        const text = JSON.stringify({ version: 1, host, entries: all }, null, 1) + '\n';
        await writeSecretFileAtomic(path, text);
      }),
  };
}

async function readEntries(path: string, host: string): Promise<OutboxEntry[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new OutboxFileError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code}`);
  }
  let parsed;
  try {
    parsed = OutboxFile.parse(JSON.parse(text));
  } catch {
    // Never overwrite it: it may hold lines someone still wants sent.
    throw new OutboxFileError(`${path} is damaged; move it away to start with an empty outbox`);
  }
  return parsed.host === host ? parsed.entries : [];
}
