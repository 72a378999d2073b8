// The host's checkpoints, on a worker thread with its own connection (checkpointer.ts says why).
// Only node: built-ins here: this file runs as a worker's entry point, also under type stripping.
import fs from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';

/** A checkpoint once the WAL has grown past this since the last one… */
const GROWTH_BYTES = 4 * 1024 * 1024;
/** …or once the database has been quiet this long after a write. */
const QUIET_MS = 1000;
const POLL_MS = 250;
/**
 * With everything checkpointed and no write for this long, the worker ends (its isolate costs
 * ~25 MB of RSS; an idle host should not carry it). The host starts it again after a write.
 */
const IDLE_EXIT_MS = 3000;
/**
 * A TRUNCATE that finds the WAL busy is retried this often, this many times: a writer's
 * transaction or a short read ends within that. A longer reader (a backup tool, an operator's
 * sqlite3 shell) makes it give up: the deletion's group, and so every answer of the host, waits
 * for the erase; the next deletion, or shutdown, erases then.
 */
const TRUNCATE_RETRY_MS = 25;
const TRUNCATE_TRIES = 10;
/** The connection's busy wait, except around TRUNCATE (see erase). */
const BUSY_TIMEOUT_MS = 1000;

interface Setup {
  readonly path: string;
}

type Request = { t: 'erase'; id: number } | { t: 'close' };

const { path } = workerData as Setup;
const walPath = `${path}-wal`;
const db = new DatabaseSync(path, { timeout: BUSY_TIMEOUT_MS });
// The checkpoint syncs the WAL before copying and the file after: here, off the event loop.
db.exec('PRAGMA synchronous = FULL');
db.exec('PRAGMA wal_autocheckpoint = 0');
const dataVersion = db.prepare('PRAGMA data_version');
const passive = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
const truncate = db.prepare('PRAGMA wal_checkpoint(TRUNCATE)');

let lastVersion: unknown = dataVersion.get()?.['data_version'];
let lastChange = Date.now();
// Commits made before this connection opened are not seen as a change: assume there are some.
let unchecked = true;
let sizeAtCheckpoint = 0;
let erasing = 0;

function walSize(): number {
  try {
    return fs.statSync(walPath).size;
  } catch {
    return 0;
  }
}

function poll(): void {
  const version = dataVersion.get()?.['data_version'];
  const now = Date.now();
  if (version !== lastVersion) {
    lastVersion = version;
    lastChange = now;
    unchecked = true;
  }
  if (!unchecked) {
    if (erasing === 0 && now - lastChange >= IDLE_EXIT_MS) close();
    return;
  }
  const size = walSize();
  // After a complete checkpoint the writer restarts the WAL from its start, so the file grows
  // again only once it holds more than before: growth past the last size means new frames.
  const grown = size > sizeAtCheckpoint && size >= GROWTH_BYTES;
  if (!grown && now - lastChange < QUIET_MS) return;
  try {
    const row = passive.get();
    if (row?.['busy'] === 0 && row['log'] === row['checkpointed']) unchecked = false;
  } catch {
    // Busy or failing: tried again at the next poll.
  }
  sizeAtCheckpoint = walSize();
}

/** Folds the WAL into the file and truncates it: true if it was done. */
async function erase(): Promise<boolean> {
  for (let tries = 0; tries < TRUNCATE_TRIES; tries++) {
    try {
      // PASSIVE first: the copying and syncing happen without the write lock, so the TRUNCATE
      // holds it (and keeps the host's writer waiting) only briefly.
      passive.get();
      // No busy wait here: TRUNCATE holds the write lock while it waits for readers, so waiting
      // out a reader would lock the host's writer out too (its commits failing 'locked' after
      // their own 100 ms wait on the event loop: measured 305 of 367 over 42 s). Retried instead.
      db.exec('PRAGMA busy_timeout = 0');
      let row;
      try {
        row = truncate.get();
      } finally {
        db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
      }
      if (row?.['busy'] === 0) {
        sizeAtCheckpoint = 0;
        unchecked = false;
        return true;
      }
    } catch {
      // Locked by another connection: retried below.
    }
    await new Promise((resolve) => setTimeout(resolve, TRUNCATE_RETRY_MS));
  }
  return false;
}

function close(): void {
  clearInterval(timer);
  db.close();
  parentPort?.close();
}

const timer = setInterval(poll, POLL_MS);
parentPort?.on('message', (request: Request) => {
  if (request.t === 'close') {
    close();
    return;
  }
  erasing++;
  void erase().then((done) => {
    erasing--;
    lastChange = Date.now();
    parentPort?.postMessage({ t: 'erased', id: request.id, done });
  });
});
