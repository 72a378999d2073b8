import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isValidRoomName } from '../../src-shared/identifiers.ts';
import { DEFAULT_PORT, formatInvite, parseHostAddress } from '../../src-shared/invite.ts';
import { MAX_INVITE_TTL_MS, MAX_INVITE_USES, type Role } from '../protocol/wire/messages.ts';
import { selectBackend } from '../protocol/crypto/select-backend.ts';
import { HostDatabase, HostDatabaseError } from '../server/host-database.ts';
import type { InviteRecord, RoomStore } from '../server/room-store.ts';
import { defaultDataDir } from '../store/app-paths.ts';
import { KeyFileError, loadKeyPair } from '../store/key-file.ts';
import { escapeText } from './line-format.ts';
import { EXIT, UsageError, parseOptions } from './usage-error.ts';

/** Files of a host's data folder (as `parley --serve` writes them). */
const KEY_FILE = 'host.key';
const DATABASE_FILE = 'history.sqlite';
/** The running host may hold the write lock for a moment (a commit): wait for it this long. */
const BUSY_TIMEOUT_MS = 10_000;
const MINUTE = 60_000;
const DEFAULT_EXPIRY = '7d';

export const HOST_HELP = `Usage: parley host <command> [options]

Manages the rooms of a host from the machine it runs on, with the same data folder; safe while
the host runs. Nobody needs a key for this: whoever can read the data folder is the operator.

  parley host invite --room ROOM [--role member|admin|owner] [--uses N|unlimited]
                     [--expires 1h|1d|7d|30d|never|<N>m|<N>h|<N>d]
                     [--public-host HOST] [--port N] [--data-dir DIR]
      a new invite link to ROOM (default: role member, 1 use, expires in 7 days; at most
      30 days, or never). Prints:
        invite <invite link>
        expires <ISO time|never> uses <N|unlimited> role <role> id <id>
      The link holds a secret: whoever has it gets in. Give it only to the person it is for.
      The link's address is the one the running host recorded, unless --public-host/--port.
  parley host invites --room ROOM [--data-dir DIR]
      the room's live invites, one a line:
        <id> role <role> uses <N|unlimited> expires <ISO time|never> by <nick|host>
  parley host revoke --room ROOM --id ID [--data-dir DIR]
      the invite ID (from parley host invites) admits nobody any more. Prints: revoked <id>
  parley host rooms [--data-dir DIR]
      every room, one a line:
        <room> <open|private|dm> members <N> owners <N>

--data-dir is the host's folder (default ${join('<app data>', 'host')}, as for --serve).
Exit codes: 0 done, 1 failure, 2 bad arguments, 7 no such room.
`;

export interface HostCommandIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly env: NodeJS.ProcessEnv;
  readonly now?: () => number;
}

/** The room asked for is not on this host: exit code 7, with the rooms that are. */
class NoSuchRoom extends Error {
  override readonly name = 'NoSuchRoom';
}

/** Something about the data folder or its files: exit code 1. */
class HostCommandFailure extends Error {
  override readonly name = 'HostCommandFailure';
}

/** `parley host …`: returns the exit code. */
export async function runHost(argv: readonly string[], io: HostCommandIo): Promise<number> {
  const [, command, ...rest] = argv; // argv[0] is 'host'
  const now = io.now ?? Date.now;
  try {
    if (rest.includes('--help') || rest.includes('-h')) {
      io.stdout.write(HOST_HELP);
      return EXIT.ok;
    }
    switch (command) {
      case 'invite':
        return await invite(rest, io, now());
      case 'invites':
        return invites(rest, io, now());
      case 'revoke':
        return revoke(rest, io, now());
      case 'rooms':
        return rooms(rest, io);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.stdout.write(HOST_HELP);
        return EXIT.ok;
      default:
        throw new UsageError(`unknown command "${escapeText(command)}"`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(
        `parley host: ${error.message}\nRun "parley host --help" for the commands.\n`,
      );
      return EXIT.usage;
    }
    const prefix = `parley host ${command ?? ''}`;
    if (error instanceof NoSuchRoom) {
      io.stderr.write(`${prefix}: ${error.message}\n`);
      return EXIT.noSuchRoom;
    }
    if (error instanceof HostCommandFailure || error instanceof KeyFileError) {
      io.stderr.write(`${prefix}: ${error.message}\n`);
      return EXIT.failure;
    }
    if (error instanceof HostDatabaseError) {
      const hint =
        error.code === 'locked'
          ? 'the host database stayed busy; try again'
          : `cannot use the host database: ${error.message}`;
      io.stderr.write(`${prefix}: ${hint}\n`);
      return EXIT.failure;
    }
    throw error;
  }
}

// ── the commands ───────────────────────────────────────────────────────────────────────

async function invite(args: readonly string[], io: HostCommandIo, now: number): Promise<number> {
  const values = parseOptions(
    args,
    {
      room: { type: 'string' },
      role: { type: 'string' },
      uses: { type: 'string' },
      expires: { type: 'string' },
      'public-host': { type: 'string' },
      port: { type: 'string' },
      'data-dir': { type: 'string' },
    },
    {
      room: 'a room name',
      role: 'member, admin or owner',
      uses: 'a number of uses, or unlimited',
      expires: 'a duration like 1h, 7d, or never',
      'public-host': 'a host name or IP address',
      port: 'a port number',
      'data-dir': 'a folder',
    },
  );
  const room = roomArg(values.room);
  const role = roleArg(values.role);
  const uses = usesArg(values.uses);
  const ttl = expiresArg(values.expires);
  const publicHost = publicHostArg(values['public-host']);
  const port = portArg(values.port);
  const dir = dataDir(values['data-dir'], io.env);

  const keyPair = await loadKeyPair(join(dir, KEY_FILE), selectBackend());
  if (keyPair === undefined) throw noHost(dir, KEY_FILE);
  return withStore(dir, (store) => {
    const record = existingRoom(store, room);
    if (record.kind === 'dm') {
      throw new HostCommandFailure(`"${room}" is a direct message: it takes no invites`);
    }
    const recorded = store.publicAddress();
    const host = publicHost ?? recorded?.host;
    if (host === undefined) {
      throw new HostCommandFailure(
        'the host has not recorded its address yet: start it (parley --serve) once, or give --public-host HOST',
      );
    }
    const { token, invite: created } = store.createInvite(
      { room, role, uses, expiresAt: ttl === null ? null : now + ttl },
      now,
    );
    const link = formatInvite({
      host,
      port: port ?? recorded?.port ?? DEFAULT_PORT,
      room,
      hostKey: keyPair.publicKey,
      token,
    });
    io.stdout.write(`invite ${link}\n`);
    io.stdout.write(
      `expires ${timeText(created.expiresAt)} uses ${usesText(created.usesLeft)} role ${created.role} id ${created.id}\n`,
    );
    return EXIT.ok;
  });
}

function invites(args: readonly string[], io: HostCommandIo, now: number): number {
  const values = parseOptions(
    args,
    { room: { type: 'string' }, 'data-dir': { type: 'string' } },
    { room: 'a room name', 'data-dir': 'a folder' },
  );
  const room = roomArg(values.room);
  const dir = dataDir(values['data-dir'], io.env);
  return withStore(dir, (store) => {
    existingRoom(store, room);
    const live = store.liveInvites(room, now);
    if (live.length === 0) io.stdout.write(`no live invites in ${room}\n`);
    for (const item of live) io.stdout.write(`${inviteLine(item)}\n`);
    return EXIT.ok;
  });
}

function revoke(args: readonly string[], io: HostCommandIo, now: number): number {
  const values = parseOptions(
    args,
    { room: { type: 'string' }, id: { type: 'string' }, 'data-dir': { type: 'string' } },
    { room: 'a room name', id: 'an invite id', 'data-dir': 'a folder' },
  );
  const room = roomArg(values.room);
  const id = values.id;
  if (id === undefined) {
    throw new UsageError('--id ID is required (parley host invites --room ROOM lists the ids)');
  }
  if (!/^[A-Za-z0-9_-]{8,16}$/.test(id)) {
    throw new UsageError(
      `"${escapeText(id)}" is not an invite id (parley host invites lists them)`,
    );
  }
  const dir = dataDir(values['data-dir'], io.env);
  return withStore(dir, (store) => {
    existingRoom(store, room);
    if (!store.revokeInvite(room, id, now)) {
      throw new HostCommandFailure(
        `no invite ${id} in ${room}, or it was revoked already (parley host invites --room ${room} lists them)`,
      );
    }
    io.stdout.write(`revoked ${id}\n`);
    return EXIT.ok;
  });
}

function rooms(args: readonly string[], io: HostCommandIo): number {
  const values = parseOptions(args, { 'data-dir': { type: 'string' } }, { 'data-dir': 'a folder' });
  const dir = dataDir(values['data-dir'], io.env);
  return withStore(dir, (store) => {
    const all = store.rooms();
    if (all.length === 0) io.stdout.write('no rooms yet\n');
    for (const room of all) {
      const members = store.members(room.name);
      const owners = members.filter((m) => m.role === 'owner').length;
      const kind = room.kind === 'dm' ? 'dm' : room.open ? 'open' : 'private';
      io.stdout.write(
        `${escapeText(room.name)} ${kind} members ${members.length} owners ${owners}\n`,
      );
    }
    return EXIT.ok;
  });
}

// ── the data folder ───────────────────────────────────────────────────────────────────

function dataDir(given: string | undefined, env: NodeJS.ProcessEnv): string {
  if (given === '') throw new UsageError('--data-dir must name a folder');
  return resolve(given ?? join(defaultDataDir(env), 'host'));
}

function noHost(dir: string, missing: string): HostCommandFailure {
  return new HostCommandFailure(
    `no host in ${dir} (it has no ${missing}): give the host's --data-dir, or start it once with parley --serve`,
  );
}

/** Opens the host's database (never creating one), runs `body`, closes it. */
function withStore<T>(dir: string, body: (store: RoomStore) => T): T {
  const file = join(dir, DATABASE_FILE);
  if (!existsSync(join(dir, KEY_FILE))) throw noHost(dir, KEY_FILE);
  if (!existsSync(file)) throw noHost(dir, DATABASE_FILE);
  const db = HostDatabase.open(file, { busyTimeoutMs: BUSY_TIMEOUT_MS });
  try {
    return body(db.rooms);
  } finally {
    db.close();
  }
}

function existingRoom(store: RoomStore, room: string) {
  const record = store.room(room);
  if (record !== undefined) return record;
  const names = store
    .rooms()
    .filter((r) => r.kind === 'room')
    .map((r) => escapeText(r.name));
  throw new NoSuchRoom(
    `there is no room "${room}" here; ${names.length === 0 ? 'there are no rooms yet' : `rooms: ${names.join(', ')}`}`,
  );
}

// ── arguments ───────────────────────────────────────────────────────────────────────

function roomArg(value: string | undefined): string {
  if (value === undefined) throw new UsageError('--room ROOM is required');
  if (!isValidRoomName(value)) {
    throw new UsageError(
      `"${escapeText(value)}" is not a room name: use a-z, 0-9, . _ - (up to 64, starting with a letter or digit)`,
    );
  }
  return value;
}

function roleArg(value: string | undefined): Role {
  if (value === undefined) return 'member';
  if (value === 'member' || value === 'admin' || value === 'owner') return value;
  throw new UsageError(`--role must be member, admin or owner, not "${escapeText(value)}"`);
}

function usesArg(value: string | undefined): number | null {
  if (value === undefined) return 1;
  if (value === 'unlimited') return null;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > MAX_INVITE_USES) {
    throw new UsageError(
      `--uses must be a whole number from 1 to ${MAX_INVITE_USES}, or unlimited, not "${escapeText(value)}"`,
    );
  }
  return n;
}

const UNIT_MS: Readonly<Record<string, number>> = {
  m: MINUTE,
  h: 60 * MINUTE,
  d: 24 * 60 * MINUTE,
};

/** The invite's lifetime in ms, or null for never. */
function expiresArg(value = DEFAULT_EXPIRY): number | null {
  if (value === 'never') return null;
  const match = /^(\d{1,6})([mhd])$/.exec(value);
  const ms = match ? Number(match[1]) * (UNIT_MS[match[2] ?? ''] ?? 0) : 0;
  if (ms < MINUTE || ms > MAX_INVITE_TTL_MS) {
    throw new UsageError(
      `--expires must be never or a time from 1m to 30d, like 30m, 1h, 1d, 7d or 30d, not "${escapeText(value)}"`,
    );
  }
  return ms;
}

/** A DNS name or an IP address (IPv6 with or without brackets), no port. */
function publicHostArg(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const bare = /^\[(.*)\]$/.exec(text)?.[1] ?? text;
  const parsed = parseHostAddress(bare.includes(':') ? `[${bare}]` : bare);
  if (!parsed.ok || bare === '') {
    throw new UsageError(
      `--public-host must be a host name or an IP address (no port), not "${escapeText(text)}"`,
    );
  }
  return parsed.value.host;
}

function portArg(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d{1,5}$/.test(value) || n < 1 || n > 65535) {
    throw new UsageError(
      `--port must be a whole number from 1 to 65535, not "${escapeText(value)}"`,
    );
  }
  return n;
}

// ── output ─────────────────────────────────────────────────────────────────────────

function timeText(ms: number | null): string {
  return ms === null ? 'never' : new Date(ms).toISOString();
}

function usesText(uses: number | null): string {
  return uses === null ? 'unlimited' : String(uses);
}

function inviteLine(item: InviteRecord): string {
  const by = item.createdBy === undefined ? 'host' : escapeText(item.createdBy.nick);
  return `${item.id} role ${item.role} uses ${usesText(item.usesLeft)} expires ${timeText(item.expiresAt)} by ${by}`;
}
