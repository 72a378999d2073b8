// A real host whose WAL syncs a test can hold (src-main/server/db/wal-sync.ts): setting up runs
// with real syncs, and each test holds them when it means to. Shared by the durability and
// slow-disk tests.
import { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import { type HostOptions, type RunningHost, startHost } from '../../src-main/server/host.ts';
import type { LogFields } from '../../src-main/server/host-log.ts';
import { heldSync } from '../unit/server/held-sync.ts';
import type { Cleanups } from './lifecycle.ts';
import { connectWireClient } from './wire-client.ts';

export interface LoggedEvent {
  readonly event: string;
  readonly fields: LogFields | undefined;
}

export async function startHeldSyncHost(
  cleanups: Cleanups,
  prefix: string,
  options: Partial<HostOptions> = {},
) {
  const dataDir = cleanups.tempDir(prefix);
  const sync = heldSync();
  sync.release();
  const logged: LoggedEvent[] = [];
  const h: RunningHost = await startHost({
    host: '127.0.0.1',
    port: 0,
    rooms: ['lobby'],
    openRooms: true,
    dataDir,
    walSync: sync.sync,
    log: (_level, event, fields) => void logged.push({ event, fields }),
    ...options,
  });
  cleanups.push(async () => {
    sync.release();
    await h.stop();
  });
  /** A client that is welcomed and has joined the lobby. */
  const member = async (nick: string) => {
    const c = await connectWireClient(h.address.port, h.publicKey, nick);
    cleanups.push(() => c.close());
    await c.waitFor('welcome');
    await c.join('lobby');
    return c;
  };
  /** A read of the host's file by another connection: what the host has committed. */
  const readHistory = <T>(read: (db: DatabaseSync) => T): T => {
    const raw = new DatabaseSync(join(dataDir, 'history.sqlite'), { readOnly: true });
    try {
      return read(raw);
    } finally {
      raw.close();
    }
  };
  return { h, sync, logged, member, readHistory };
}
