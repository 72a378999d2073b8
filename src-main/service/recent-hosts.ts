import { join } from 'node:path';
import { z } from 'zod';
import { RecentHost } from '../../src-shared/ipc/domain.ts';
import { JsonFile } from './json-file.ts';

/**
 * Hosts this install connected to, newest first, so the start screen can offer them again
 * (the key itself lives in known-hosts.json; this only remembers nick, room and when).
 */
export const RECENT_HOSTS_FILE = 'recent-hosts.json';
export const MAX_RECENT_HOSTS = 10;

/**
 * `openedAt`: the host was in the sidebar when the app last ran (added at that time), so it
 * comes back on the next start. Optional, so files written before it still read (and older
 * versions of the app read this one, ignoring it).
 */
const StoredHost = RecentHost.extend({ openedAt: z.number().optional() });
type StoredHost = z.infer<typeof StoredHost>;
/** What the file may hold: the recent ones plus the sidebar's (at most MAX_HOSTS, 32). */
const MAX_STORED_HOSTS = 100;
/** Read entry by entry: one that cannot be read is left out alone, not with every other. */
const Stored = z.object({
  version: z.literal(1),
  hosts: z.array(z.unknown()).max(MAX_STORED_HOSTS),
});

const sameAddress = (a: { host: string; port: number }, b: { host: string; port: number }) =>
  a.host.toLowerCase() === b.host.toLowerCase() && a.port === b.port;

export class RecentHosts {
  readonly #file: JsonFile<typeof Stored>;
  #hosts: StoredHost[];
  /** The file could not be read at all: no host comes back (a copy was set aside). */
  readonly damaged: boolean;

  private constructor(file: JsonFile<typeof Stored>, hosts: StoredHost[], damaged: boolean) {
    this.#file = file;
    this.#hosts = hosts;
    this.damaged = damaged;
  }

  static async open(dataDir: string): Promise<RecentHosts> {
    const file = new JsonFile(join(dataDir, RECENT_HOSTS_FILE), Stored);
    const { value, damaged } = await file.read({ version: 1, hosts: [] });
    const hosts = value.hosts.flatMap((entry) => {
      const parsed = StoredHost.safeParse(entry);
      return parsed.success ? [parsed.data] : [];
    });
    return new RecentHosts(file, kept(sortHosts(hosts)), damaged);
  }

  /** The ones the start screen offers: the newest. */
  list(): RecentHost[] {
    return this.#hosts.slice(0, MAX_RECENT_HOSTS).map(recentHost);
  }

  find(address: { host: string; port: number }): RecentHost | undefined {
    const found = this.#hosts.find((h) => sameAddress(h, address));
    return found ? recentHost(found) : undefined;
  }

  /** The hosts that were in the sidebar, in the order they were added to it. */
  openHosts(): RecentHost[] {
    return this.#hosts
      .filter((h) => h.openedAt !== undefined)
      .sort((a, b) => (a.openedAt ?? 0) - (b.openedAt ?? 0))
      .map(recentHost);
  }

  /**
   * Adds or updates the entry for `entry`'s address and makes it the newest. `openedAt`: it is
   * in the sidebar since then (undefined keeps what the entry had).
   */
  async record(entry: RecentHost, openedAt?: number): Promise<void> {
    const previous = this.#hosts.find((h) => sameAddress(h, entry));
    const since = openedAt ?? previous?.openedAt;
    const next: StoredHost = {
      ...recentHost(entry),
      ...(since !== undefined ? { openedAt: since } : {}),
    };
    this.#hosts = kept(sortHosts([next, ...this.#hosts.filter((h) => !sameAddress(h, entry))]));
    await this.#file.write({ version: 1, hosts: this.#hosts });
  }

  /**
   * The host joined the sidebar (at `at`, which orders it), or left it: only hosts still there
   * when the app quits come back on the next start. Unknown addresses are ignored (a host that
   * never answered has no entry yet; `record` adds it with its `openedAt`).
   */
  async setOpen(address: { host: string; port: number }, at: number | undefined): Promise<void> {
    const existing = this.#hosts.find((h) => sameAddress(h, address));
    if (!existing || existing.openedAt === at) return;
    const { openedAt: _was, ...rest } = existing;
    const next: StoredHost = at === undefined ? rest : { ...rest, openedAt: at };
    this.#hosts = this.#hosts.map((h) => (h === existing ? next : h));
    await this.#file.write({ version: 1, hosts: this.#hosts });
  }

  /** Changes some fields of an existing entry without making it newer. */
  async update(
    address: { host: string; port: number },
    change: Partial<Pick<RecentHost, 'nick' | 'room'>>,
  ): Promise<void> {
    const existing = this.#hosts.find((h) => sameAddress(h, address));
    if (!existing) return;
    const next = { ...existing, ...change };
    if (next.nick === existing.nick && next.room === existing.room) return;
    this.#hosts = this.#hosts.map((h) => (h === existing ? next : h));
    await this.#file.write({ version: 1, hosts: this.#hosts });
  }
}

function recentHost(stored: RecentHost): RecentHost {
  return {
    host: stored.host,
    port: stored.port,
    nick: stored.nick,
    room: stored.room,
    fingerprint: stored.fingerprint,
    lastUsed: stored.lastUsed,
  };
}

/**
 * The newest MAX_RECENT_HOSTS, and every host still in the sidebar however long ago it was
 * used: dropping one of those would lose it from the sidebar on the next start.
 */
function kept(sorted: StoredHost[]): StoredHost[] {
  return sorted
    .filter((h, i) => i < MAX_RECENT_HOSTS || h.openedAt !== undefined)
    .slice(0, MAX_STORED_HOSTS);
}

function sortHosts(hosts: StoredHost[]): StoredHost[] {
  return [...hosts].sort((a, b) => b.lastUsed - a.lastUsed);
}
