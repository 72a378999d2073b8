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

const Stored = z.object({ version: z.literal(1), hosts: z.array(RecentHost).max(100) });

const sameAddress = (a: { host: string; port: number }, b: { host: string; port: number }) =>
  a.host.toLowerCase() === b.host.toLowerCase() && a.port === b.port;

export class RecentHosts {
  readonly #file: JsonFile<typeof Stored>;
  #hosts: RecentHost[];

  private constructor(file: JsonFile<typeof Stored>, hosts: RecentHost[]) {
    this.#file = file;
    this.#hosts = hosts;
  }

  static async open(dataDir: string): Promise<RecentHosts> {
    const file = new JsonFile(join(dataDir, RECENT_HOSTS_FILE), Stored);
    const { value } = await file.read({ version: 1, hosts: [] });
    return new RecentHosts(file, sortHosts(value.hosts).slice(0, MAX_RECENT_HOSTS));
  }

  list(): RecentHost[] {
    return this.#hosts.map((h) => ({ ...h }));
  }

  find(address: { host: string; port: number }): RecentHost | undefined {
    const found = this.#hosts.find((h) => sameAddress(h, address));
    return found ? { ...found } : undefined;
  }

  /** Adds or updates the entry for `entry`'s address and makes it the newest. */
  async record(entry: RecentHost): Promise<void> {
    this.#hosts = sortHosts([entry, ...this.#hosts.filter((h) => !sameAddress(h, entry))]).slice(
      0,
      MAX_RECENT_HOSTS,
    );
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

function sortHosts(hosts: RecentHost[]): RecentHost[] {
  return [...hosts].sort((a, b) => b.lastUsed - a.lastUsed);
}
