// A WAL sync function the test completes by hand (db/wal-sync.ts's SyncFunction): each sync waits
// in `calls` until finish() or release(). For WalSync's unit tests and hosts whose sync is held.
import fs from 'node:fs';

export function heldSync() {
  const calls: ((error: Error | null) => void)[] = [];
  let passThrough = false;
  return {
    calls,
    sync(fd: number, done: (error: Error | null) => void) {
      if (passThrough) fs.fdatasync(fd, done);
      else calls.push(done);
    },
    /** Completes the oldest sync still running (with `error`: it failed). */
    finish(error: Error | null = null) {
      const done = calls.shift();
      if (!done) throw new Error('no sync is running');
      done(error);
    },
    /** Completes every sync waiting and lets later ones run for real, at once. */
    release() {
      passThrough = true;
      for (const done of calls.splice(0)) done(null);
    },
    /** Holds the syncs started from now on again. */
    hold() {
      passThrough = false;
    },
  };
}
