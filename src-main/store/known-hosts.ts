import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { decodeBase64Url, encodeBase64Url } from '../../src-shared/base64url.ts';
import { PublicKeyText } from '../../src-shared/identifier-schemas.ts';
import { type HostAddress, formatAddress } from '../../src-shared/invite.ts';
import { HostKeyMismatch, sameKey } from '../protocol/host-key.ts';
import { writeSecretFileAtomic } from './key-file.ts';

/**
 * The client's known hosts, like SSH's known_hosts: which static key each `host:port` proved
 * the first time, and what vouched for it then. One JSON file, written atomically with mode
 * 0600, re-read before every change so two clients on one machine do not undo each other.
 */
export type TrustMethod = 'invite' | 'first-use' | 'authority';

export interface KnownHost {
  readonly key: Uint8Array;
  /** ISO-8601 time the key was first recorded for this address. */
  readonly firstSeen: string;
  readonly method: TrustMethod;
  /** With method 'authority': the name of the certificate authority that vouched for the key. */
  readonly authority?: string;
}

/** What else to record with a pin. */
export interface PinDetails {
  readonly authority?: string;
}

export const KNOWN_HOSTS_FILE = 'known-hosts.json';

const EntrySchema = z.object({
  key: PublicKeyText,
  firstSeen: z.string().max(40),
  method: z.enum(['invite', 'first-use', 'authority']),
  authority: z.string().max(200).optional(),
});
const FileSchema = z.object({ version: z.literal(1), hosts: z.record(z.string(), EntrySchema) });

export class KnownHostsError extends Error {
  override readonly name = 'KnownHostsError';
  readonly code = 'known-hosts';
}

/** `host:port`, with an IPv6 host in brackets: the key of one entry. */
export function hostId(address: HostAddress): string {
  return formatAddress(address.host.toLowerCase(), address.port);
}

/**
 * Changes are serialized per file, across every KnownHosts of this process: each re-reads the
 * file, applies itself and writes it back. Per file rather than per instance, since the desktop
 * app loads one for each connect and two hosts first met at once must not lose one's pin.
 */
const CHANGES = new Map<string, Promise<unknown>>();

export class KnownHosts {
  readonly path: string;
  readonly #now: () => number;
  #hosts: Map<string, KnownHost>;

  private constructor(path: string, hosts: Map<string, KnownHost>, now: () => number) {
    this.path = path;
    this.#hosts = hosts;
    this.#now = now;
  }

  /** Reads the file (a missing file is an empty list; a damaged one is an error, never reset). */
  static async load(path: string, options: { now?: () => number } = {}): Promise<KnownHosts> {
    return new KnownHosts(path, await readHosts(path), options.now ?? Date.now);
  }

  get(address: HostAddress): KnownHost | undefined {
    return this.#hosts.get(hostId(address));
  }

  entries(): [string, KnownHost][] {
    return [...this.#hosts.entries()];
  }

  /**
   * Records the key of a host seen for the first time. If the address already has this key it
   * is kept, with the stronger of the two methods (invite > authority > first-use: an invite
   * upgrades any entry, an authority upgrades a first-use one); a different key is never
   * overwritten here: that throws HostKeyMismatch, and only `replace` may change a pin.
   */
  pin(
    address: HostAddress,
    key: Uint8Array,
    method: TrustMethod,
    details: PinDetails = {},
  ): Promise<KnownHost> {
    return this.#change(address, (existing) => {
      if (!existing) return entryOf(key, this.#timestamp(), method, details);
      if (!sameKey(existing.key, key)) throw new HostKeyMismatch(existing.key, key);
      if (STRENGTH[method] < STRENGTH[existing.method]) return existing;
      if (method === existing.method && details.authority === existing.authority) return existing;
      if (method === 'first-use') return existing;
      return entryOf(key, existing.firstSeen, method, details);
    }).then(({ entry }) => entry);
  }

  /**
   * Pins `key` whatever was there: only for a key vouched for explicitly (an invite the user
   * opened, or a certificate from an authority the user imported).
   */
  replace(
    address: HostAddress,
    key: Uint8Array,
    method: TrustMethod,
    details: PinDetails = {},
  ): Promise<{ entry: KnownHost; previous: KnownHost | undefined }> {
    return this.#change(address, (existing) =>
      entryOf(
        key,
        existing && sameKey(existing.key, key) ? existing.firstSeen : this.#timestamp(),
        method,
        details,
      ),
    );
  }

  #change(
    address: HostAddress,
    apply: (existing: KnownHost | undefined) => KnownHost,
  ): Promise<{ entry: KnownHost; previous: KnownHost | undefined }> {
    const run = async () => {
      const hosts = await readHosts(this.path);
      const id = hostId(address);
      const previous = hosts.get(id);
      const entry = apply(previous);
      if (entry !== previous) {
        hosts.set(id, entry);
        await writeSecretFileAtomic(this.path, serialize(hosts));
      }
      this.#hosts = hosts;
      return { entry, previous };
    };
    const queue = CHANGES.get(this.path) ?? Promise.resolve();
    const result = queue.then(run, run);
    const settled = result.catch(() => undefined);
    CHANGES.set(this.path, settled);
    void settled.then(() => {
      if (CHANGES.get(this.path) === settled) CHANGES.delete(this.path);
    });
    return result;
  }

  #timestamp(): string {
    return new Date(this.#now()).toISOString();
  }
}

const STRENGTH: Record<TrustMethod, number> = { 'first-use': 0, authority: 1, invite: 2 };

function entryOf(
  key: Uint8Array,
  firstSeen: string,
  method: TrustMethod,
  details: PinDetails,
): KnownHost {
  return {
    key: key.slice(),
    firstSeen,
    method,
    ...(method === 'authority' && details.authority ? { authority: details.authority } : {}),
  };
}

async function readHosts(path: string): Promise<Map<string, KnownHost>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw new KnownHostsError(`cannot read ${path}: ${(error as Error).message}`);
  }
  let parsed;
  try {
    parsed = FileSchema.parse(JSON.parse(text));
  } catch {
    throw new KnownHostsError(
      `${path} is damaged, so no host can be checked; repair it or remove it to start over`,
    );
  }
  const hosts = new Map<string, KnownHost>();
  for (const [id, entry] of Object.entries(parsed.hosts)) {
    const key = decodeBase64Url(entry.key);
    if (key?.length !== 32) throw new KnownHostsError(`${path} has an invalid key for ${id}`);
    hosts.set(id, {
      key,
      firstSeen: entry.firstSeen,
      method: entry.method,
      ...(entry.method === 'authority' && entry.authority ? { authority: entry.authority } : {}),
    });
  }
  return hosts;
}

function serialize(hosts: Map<string, KnownHost>): string {
  const out: Record<string, z.infer<typeof EntrySchema>> = {};
  for (const [id, entry] of [...hosts].sort(([a], [b]) => a.localeCompare(b))) {
    out[id] = {
      key: encodeBase64Url(entry.key),
      firstSeen: entry.firstSeen,
      method: entry.method,
      ...(entry.authority ? { authority: entry.authority } : {}),
    };
  }
  return JSON.stringify({ version: 1, hosts: out }, null, 2) + '\n';
}
