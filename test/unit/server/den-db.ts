// The host's MLS unit tests' fixture: people, a real SQLite host database on a fresh file per
// test (closed after it), and the E2EE room "den" owned by alice. Shared so the MLS suites build
// the same room the same way.
import path from 'node:path';
import { beforeEach } from 'vitest';
import { HostDatabase } from '../../../src-main/server/host-database.ts';
import type { PersonRecord } from '../../../src-main/server/room-store.ts';
import type { Cleanups } from '../../support/lifecycle.ts';

export const person = (fill: number, nick: string): PersonRecord => ({
  key: new Uint8Array(32).fill(fill),
  nick,
});
export const alice = person(0xa1, 'alice');
export const bob = person(0xb0, 'bob');
export const T0 = 1_700_000_000_000;
export const GROUP = 'Z3JvdXAtb25l';
export const device = (n: number) => `device-${String(n).padStart(36, '0')}`;

export interface DenDb {
  /** This test's database file (for opening it raw). */
  readonly file: string;
  /** The host database on `file`, closed after the test. */
  openDb(): HostDatabase;
  /** A database with the E2EE room "den": alice owns it, `members` are its members. */
  den(members: readonly PersonRecord[]): HostDatabase;
}

export function denDb(cleanups: Cleanups, dirPrefix: string): DenDb {
  let file = '';
  beforeEach(() => {
    file = path.join(cleanups.tempDir(dirPrefix), 'host.db');
  });
  function openDb(): HostDatabase {
    const db = HostDatabase.open(file);
    cleanups.push(() => db.close());
    return db;
  }
  return {
    get file() {
      return file;
    },
    openDb,
    den(members) {
      const db = openDb();
      db.rooms.createRoom(
        { name: 'den', kind: 'room', open: false, e2ee: true },
        [{ ...alice, role: 'owner' }, ...members.map((m) => ({ ...m, role: 'member' as const }))],
        alice,
        T0,
      );
      return db;
    },
  };
}
