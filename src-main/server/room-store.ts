// Rooms, their members, bans and invites (docs/protocol.md §11), in the host's database. Every
// mutation is one BEGIN IMMEDIATE transaction, so the running host and a `parley host` command in
// another process can both write the same file (WAL, busy timeout); a membership change and its
// room event row commit together.
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { Role } from '../protocol/wire/messages.ts';
import { isRoleName } from '../../src-shared/membership-names.ts';
import {
  type Row,
  column,
  isBytes,
  isNullableBytes,
  isNullableNumber,
  isNullableString,
  isNumber,
  isString,
} from './db/message-row.ts';
import { type PersonRecord, type RoomEventRecord, encodeRoomEvent } from './db/room-event-json.ts';
import { immediateTransaction, read } from './db/transaction.ts';
import type { StoredMessage } from './host-database.ts';
import { hashInviteToken, newInviteId, newInviteToken } from './invite-token.ts';
import { MARK_ROOM_SQL, markRoomParams } from './mls-removal.ts';
import { DEVICE_RETIRE_MS } from './mls-store.ts';

export type { Role } from '../protocol/wire/messages.ts';
export type { PersonRecord, RoomEventRecord } from './db/room-event-json.ts';

export type RoomKind = 'room' | 'dm';

/** An open room as a welcome lists it (RoomStore.openRoomsFor). */
export interface OpenRoom {
  name: string;
  /** '' = no topic. */
  topic: string;
  e2ee: boolean;
}

export interface RoomRecord {
  name: string;
  kind: RoomKind;
  open: boolean;
  /** '' = no topic. */
  topic: string;
  createdAt: number;
  /** A direct message's two keys. */
  dmKeys?: readonly [Uint8Array, Uint8Array];
  /** End-to-end encrypted (docs/protocol.md §12): messages are MLS ciphertext. */
  e2ee: boolean;
  /** Its MLS group's id (base64url) once the first commit was accepted. */
  mlsGroupId?: string;
  /** Its group's current epoch as the host ordered it; 0: no group yet. */
  mlsEpoch: number;
}

export interface MemberRecord {
  room: string;
  key: Uint8Array;
  role: Role;
  /** The member's nickname when last seen. */
  nick: string;
  joinedAt: number;
}

export interface InviteRecord {
  /** Public handle for listing and revoking; unrelated to the token. */
  id: string;
  room: string;
  role: Role;
  /** null: no limit. */
  usesLeft: number | null;
  /** ms since the epoch; null: never. */
  expiresAt: number | null;
  revokedAt: number | null;
  /** Absent: the operator made it. */
  createdBy?: PersonRecord;
  createdAt: number;
}

export type RedeemFailure =
  'invite-unknown' | 'invite-revoked' | 'invite-expired' | 'invite-used-up' | 'banned';

export type RedeemResult =
  | { ok: true; room: string; role: Role; event?: StoredMessage /* absent if already a member */ }
  | { ok: false; code: RedeemFailure; room?: string };

export interface RoomSpec {
  name: string;
  kind: RoomKind;
  open: boolean;
  topic?: string;
  dmKeys?: readonly [Uint8Array, Uint8Array];
  /** End-to-end encrypted; never together with `open`. */
  e2ee?: boolean;
}

export interface NewMember {
  key: Uint8Array;
  nick: string;
  role: Role;
}

export interface InviteSpec {
  room: string;
  role: Role;
  /** null: no limit. */
  uses: number | null;
  /** ms since the epoch; null: never. */
  expiresAt: number | null;
  /** Absent: the operator. */
  createdBy?: PersonRecord;
}

export type RemovalReason = 'removed' | 'banned' | 'parted';

export interface RoomStoreOptions {
  /** Timeline rows kept per room (messages and events); the same limit HostDatabase trims to. */
  historyLimit: number;
}

export type RoomStoreErrorCode =
  'unknown-room' | 'room-exists' | 'not-member' | 'already-member' | 'forbidden';

/**
 * A mutation the caller should not have asked for (its rules check comes first): the room does not
 * exist, the name is taken, the target is (not) a member. Nothing was written.
 */
export class RoomStoreError extends Error {
  override readonly name = 'RoomStoreError';
  readonly code: RoomStoreErrorCode;

  constructor(code: RoomStoreErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

const KEY_LENGTH = 32;
/** The sender of an event the operator caused (from the host machine, with no key). */
const OPERATOR_KEY = new Uint8Array(KEY_LENGTH);
const RANK: Readonly<Record<Role, number>> = { owner: 3, admin: 2, member: 1 };
const PUBLIC_HOST = 'public_host';
const PUBLIC_PORT = 'public_port';

const ROOM_COLUMNS =
  'name, kind, open, topic, created_at, dm_key_a, dm_key_b, e2ee, mls_group_id, mls_epoch';
const MEMBER_COLUMNS = 'room, member_key, role, nick, joined_at';
const INVITE_COLUMNS =
  'id, room, role, uses_left, expires_at, revoked_at, created_by, created_by_nick, created_at';

const isRole = (v: unknown): v is Role => isRoleName(v);
const isKind = (v: unknown): v is RoomKind => v === 'room' || v === 'dm';

function checkKey(key: Uint8Array, what: string): void {
  if (!(key instanceof Uint8Array) || key.length !== KEY_LENGTH) {
    throw new RangeError(`${what} must be a ${KEY_LENGTH}-byte Uint8Array`);
  }
}

function checkTime(value: number, what: string): void {
  if (!Number.isSafeInteger(value)) throw new RangeError(`${what} must be an integer`);
}

function checkRole(role: Role): void {
  if (!isRole(role)) throw new RangeError('role must be owner, admin or member');
}

function toRoom(row: Row): RoomRecord {
  const keyA = column(row, 'dm_key_a', isNullableBytes);
  const keyB = column(row, 'dm_key_b', isNullableBytes);
  const groupId = column(row, 'mls_group_id', isNullableString);
  return {
    name: column(row, 'name', isString),
    kind: column(row, 'kind', isKind),
    open: column(row, 'open', isNumber) === 1,
    topic: column(row, 'topic', isString),
    createdAt: column(row, 'created_at', isNumber),
    ...(keyA !== null && keyB !== null ? { dmKeys: [keyA, keyB] as const } : {}),
    e2ee: column(row, 'e2ee', isNumber) === 1,
    ...(groupId === null ? {} : { mlsGroupId: groupId }),
    mlsEpoch: column(row, 'mls_epoch', isNumber),
  };
}

function toMember(row: Row): MemberRecord {
  return {
    room: column(row, 'room', isString),
    key: column(row, 'member_key', isBytes),
    role: column(row, 'role', isRole),
    nick: column(row, 'nick', isString),
    joinedAt: column(row, 'joined_at', isNumber),
  };
}

function toInvite(row: Row): InviteRecord {
  const createdBy = column(row, 'created_by', isNullableBytes);
  const createdByNick = column(row, 'created_by_nick', isNullableString);
  return {
    id: column(row, 'id', isString),
    room: column(row, 'room', isString),
    role: column(row, 'role', isRole),
    usesLeft: column(row, 'uses_left', isNullableNumber),
    expiresAt: column(row, 'expires_at', isNullableNumber),
    revokedAt: column(row, 'revoked_at', isNullableNumber),
    ...(createdBy === null ? {} : { createdBy: { key: createdBy, nick: createdByNick ?? '' } }),
    createdAt: column(row, 'created_at', isNumber),
  };
}

/** SQL for one open room's listing entry: the JSON of its RoomInfo (see openRoomListingFor). */
const OPEN_ROOM_ENTRY = `'{"room":' || json_quote(name) || ',"kind":"room"'
  || CASE WHEN topic <> '' THEN ',"topic":' || json_quote(topic) ELSE '' END
  || ',"open":true'
  || CASE WHEN e2ee = 1 THEN ',"e2ee":true' ELSE '' END
  || '}'`;

/**
 * Rooms, members, bans and invites. Synchronous, over the HostDatabase's connection; reads need no
 * transaction, each mutation is one. Event rows go into `messages` with a seq from the same
 * AUTOINCREMENT as chat, so a room's timeline stays in one strictly increasing order, and they are
 * counted and trimmed with the room's history.
 */
export class RoomStore {
  readonly #db: DatabaseSync;
  readonly #historyLimit: number;
  readonly #statements = new Map<string, StatementSync>();

  constructor(db: DatabaseSync, options: RoomStoreOptions) {
    if (!Number.isSafeInteger(options.historyLimit) || options.historyLimit < 1) {
      throw new RangeError('historyLimit must be an integer >= 1');
    }
    this.#db = db;
    this.#historyLimit = options.historyLimit;
  }

  /** Every room, sorted by name. */
  rooms(): RoomRecord[] {
    return read('rooms', () =>
      this.#sql(`SELECT ${ROOM_COLUMNS} FROM rooms ORDER BY name`).all().map(toRoom),
    );
  }

  /**
   * The open rooms (never a direct message), sorted by name: what every connection is offered,
   * read on each welcome without scanning a host's many private rooms and DMs.
   */
  openRooms(): RoomRecord[] {
    return read('openRooms', () =>
      this.#sql(`SELECT ${ROOM_COLUMNS} FROM rooms WHERE open = 1 AND kind = 'room' ORDER BY name`)
        .all()
        .map(toRoom),
    );
  }

  /**
   * The open rooms `key` is not banned from, sorted by name, with what a listing shows: what a
   * connection is offered at its welcome. One statement reading three columns (each room's ban is
   * a primary-key lookup inside SQLite), where a query per open room cost a reconnect storm more
   * than the key exchange did.
   */
  openRoomsFor(key: Uint8Array): OpenRoom[] {
    checkKey(key, 'key');
    return read('openRoomsFor', () =>
      this.#sql(
        `SELECT name, topic, e2ee FROM rooms WHERE open = 1 AND kind = 'room'
           AND NOT EXISTS (SELECT 1 FROM bans WHERE bans.room = rooms.name AND banned_key = ?)
         ORDER BY name`,
      )
        .all(key)
        .map((row) => ({
          name: column(row, 'name', isString),
          topic: column(row, 'topic', isString),
          e2ee: column(row, 'e2ee', isNumber) === 1,
        })),
    );
  }

  /**
   * The open rooms `key` may see and has not joined, as the text of their listing entries: each
   * the JSON of what a welcome's `rooms` item says of an open room (RoomInfo: room, kind, topic
   * when set, open, e2ee when set), in name order, joined by commas. SQLite writes the text, so a
   * welcome on a host with many open rooms builds no object per room (the reconnect storm's
   * cost); membership-handler.ts falls back to openRoomsFor when the list is too long for one item.
   */
  openRoomListingFor(key: Uint8Array): { count: number; json: string } {
    checkKey(key, 'key');
    return read('openRoomListingFor', () => {
      const row = this.#sql(
        `SELECT count(*) AS count, coalesce(group_concat(entry, ',' ORDER BY name), '') AS json
           FROM (SELECT name, ${OPEN_ROOM_ENTRY} AS entry
                   FROM rooms
                  WHERE open = 1 AND kind = 'room'
                    AND NOT EXISTS (SELECT 1 FROM bans WHERE bans.room = rooms.name AND banned_key = ?1)
                    AND NOT EXISTS (SELECT 1 FROM members
                                     WHERE members.room = rooms.name AND member_key = ?1))`,
      ).get(key);
      if (row === undefined) return { count: 0, json: '' };
      return { count: column(row, 'count', isNumber), json: column(row, 'json', isString) };
    });
  }

  /**
   * The listing openRoomListingFor gives a key with no membership and no ban in an open room
   * (every open room), with the keys banned from at least one open room — or `banned` undefined
   * when there are more than `maxBanned` of them. What the welcome caches while changeStamp()
   * stays the same.
   */
  openRoomListing(maxBanned: number): {
    count: number;
    json: string;
    banned: Uint8Array[] | undefined;
  } {
    return read('openRoomListing', () => {
      const row = this.#sql(
        `SELECT count(*) AS count, coalesce(group_concat(entry, ',' ORDER BY name), '') AS json
           FROM (SELECT name, ${OPEN_ROOM_ENTRY} AS entry
                   FROM rooms WHERE open = 1 AND kind = 'room')`,
      ).get();
      const banned = this.#sql(
        `SELECT DISTINCT banned_key FROM bans
          WHERE room IN (SELECT name FROM rooms WHERE open = 1 AND kind = 'room')
          LIMIT ?`,
      )
        .all(maxBanned + 1)
        .map((ban) => column(ban, 'banned_key', isBytes));
      return {
        count: row === undefined ? 0 : column(row, 'count', isNumber),
        json: row === undefined ? '' : column(row, 'json', isString),
        banned: banned.length > maxBanned ? undefined : banned,
      };
    });
  }

  /**
   * Differs from the last call whenever the database may have changed since: a row written on
   * this connection (SQLite's total_changes(), any table, even rolled back) or a commit by any
   * other connection (data_version: another process, such as `parley host`). Cheap (~4 µs), so
   * a cache of a costly read can be checked against it on every use.
   */
  changeStamp(): string {
    return read('changeStamp', () => {
      const row = this.#sql(
        'SELECT total_changes() AS t, data_version AS v FROM pragma_data_version()',
      ).get();
      if (row === undefined) throw new Error('no change stamp');
      return `${column(row, 't', isNumber)}:${column(row, 'v', isNumber)}`;
    });
  }

  room(name: string): RoomRecord | undefined {
    return read('room', () => this.#room(name));
  }

  /**
   * Creates a room with its first members. Returns the 'created' event, then a 'joined' event
   * per member of a direct message. Throws RoomStoreError 'room-exists' if the name is taken.
   */
  createRoom(
    spec: RoomSpec,
    members: readonly NewMember[],
    actor: PersonRecord | undefined,
    now: number,
  ): StoredMessage[] {
    checkTime(now, 'now');
    if (spec.kind !== 'room' && spec.kind !== 'dm') throw new RangeError('kind must be room or dm');
    if (spec.kind === 'dm' && spec.dmKeys === undefined) {
      throw new RangeError('a direct message needs its two keys');
    }
    for (const key of spec.dmKeys ?? []) checkKey(key, 'dmKeys');
    if (spec.e2ee && spec.open) throw new RangeError('an open room is not end-to-end encrypted');
    for (const m of members) {
      checkKey(m.key, 'member key');
      checkRole(m.role);
    }
    if (actor !== undefined) checkKey(actor.key, 'actor key');
    return immediateTransaction(this.#db, 'createRoom', () => {
      if (this.#room(spec.name) !== undefined) {
        throw new RoomStoreError('room-exists', `there is already a room "${spec.name}"`);
      }
      this.#sql(
        `INSERT INTO rooms (name, message_count, kind, open, topic, created_at, dm_key_a, dm_key_b,
                            e2ee)
         VALUES (?, 0, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        spec.name,
        spec.kind,
        spec.open ? 1 : 0,
        spec.topic ?? '',
        now,
        spec.dmKeys?.[0] ?? null,
        spec.dmKeys?.[1] ?? null,
        spec.e2ee ? 1 : 0,
      );
      for (const m of members) this.#insertMember(spec.name, m, m.role, now);
      const events = [this.#appendEvent(spec.name, actor, { action: 'created' }, now)];
      if (spec.kind === 'dm') {
        for (const m of members) {
          events.push(this.#appendEvent(spec.name, m, { action: 'joined' }, now));
        }
      }
      return events;
    });
  }

  /** The room's members: owners, then admins, then members; by nickname within a role. */
  members(room: string): MemberRecord[] {
    return read('members', () =>
      this.#sql(
        `SELECT ${MEMBER_COLUMNS} FROM members WHERE room = ?
         ORDER BY CASE role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 ELSE 2 END, nick, member_key`,
      )
        .all(room)
        .map(toMember),
    );
  }

  member(room: string, key: Uint8Array): MemberRecord | undefined {
    checkKey(key, 'key');
    return read('member', () => this.#member(room, key));
  }

  /** The rooms the key is a member of, sorted by name, with the nickname each shows for it. */
  roomsOf(key: Uint8Array): { room: string; role: Role; nick: string }[] {
    checkKey(key, 'key');
    return read('roomsOf', () =>
      this.#sql('SELECT room, role, nick FROM members WHERE member_key = ? ORDER BY room')
        .all(key)
        .map((row) => ({
          room: column(row, 'room', isString),
          role: column(row, 'role', isRole),
          nick: column(row, 'nick', isString),
        })),
    );
  }

  /**
   * Records the key's current nickname in all its memberships. Called at a welcome whose
   * memberships (roomsOf) show another nickname; when nothing changed it is a read only, so a
   * reconnect storm takes no write lock and no fsync.
   */
  renameMember(key: Uint8Array, nick: string): void {
    checkKey(key, 'key');
    const stale = read('renameMember', () =>
      this.#sql(
        'SELECT 1 AS stale FROM members WHERE member_key = ? AND nick IS NOT ? LIMIT 1',
      ).get(key, nick),
    );
    if (stale === undefined) return;
    immediateTransaction(this.#db, 'renameMember', () => {
      this.#sql('UPDATE members SET nick = ?1 WHERE member_key = ?2 AND nick IS NOT ?1').run(
        nick,
        key,
      );
    });
  }

  /**
   * Makes the person a member with a 'joined' event (an open room, a direct message reopened).
   * Throws RoomStoreError 'unknown-room' or 'already-member'. Bans are the caller's to check.
   */
  addMember(room: string, person: PersonRecord, role: Role, now: number): StoredMessage {
    checkKey(person.key, 'key');
    checkRole(role);
    checkTime(now, 'now');
    return immediateTransaction(this.#db, 'addMember', () => {
      this.#existing(room);
      if (this.#member(room, person.key) !== undefined) {
        throw new RoomStoreError('already-member', 'already a member of that room');
      }
      this.#insertMember(room, person, role, now);
      return this.#appendEvent(room, person, { action: 'joined' }, now);
    });
  }

  /**
   * Deletes the target's membership; 'banned' also records the ban, and may name a key that is not
   * a member (a pre-emptive ban). The event: 'removed' or 'banned' (actor did it to target), or
   * 'left' for 'parted' (the target is the event's actor). Throws RoomStoreError 'unknown-room',
   * or 'not-member' when removing or parting a non-member.
   */
  removeMember(
    room: string,
    target: PersonRecord,
    reason: RemovalReason,
    actor: PersonRecord | undefined,
    now: number,
  ): StoredMessage {
    checkKey(target.key, 'target key');
    if (actor !== undefined) checkKey(actor.key, 'actor key');
    checkTime(now, 'now');
    return immediateTransaction(this.#db, 'removeMember', () => {
      this.#existing(room);
      const removed = Number(
        this.#sql('DELETE FROM members WHERE room = ? AND member_key = ?').run(room, target.key)
          .changes,
      );
      if (removed === 0 && reason !== 'banned') {
        throw new RoomStoreError('not-member', 'not a member of that room');
      }
      this.#revokeInvitesAbove(room, target.key, 0, now);
      // A Welcome waiting for one of its devices would let it back into the group.
      this.#sql('DELETE FROM mls_welcomes WHERE room = ? AND member_key = ?').run(room, target.key);
      // Its devices stay in the room's group until a member commits their removal: MLS messages
      // wait for that commit (mls-removal.ts), or the leaver could read them.
      if (removed > 0)
        this.#sql(MARK_ROOM_SQL).run(
          ...markRoomParams(room, target.key, now, now - DEVICE_RETIRE_MS),
        );
      if (reason === 'parted') return this.#appendEvent(room, target, { action: 'left' }, now);
      if (reason === 'banned') {
        this.#sql(
          `INSERT INTO bans (room, banned_key, banned_at) VALUES (?, ?, ?)
           ON CONFLICT (room, banned_key) DO NOTHING`,
        ).run(room, target.key, now);
      }
      return this.#appendEvent(
        room,
        actor,
        { action: reason === 'banned' ? 'banned' : 'removed', target: personOf(target) },
        now,
      );
    });
  }

  /** Lifts a ban; undefined when the key was not banned. */
  unban(
    room: string,
    target: PersonRecord,
    actor: PersonRecord | undefined,
    now: number,
  ): StoredMessage | undefined {
    checkKey(target.key, 'target key');
    if (actor !== undefined) checkKey(actor.key, 'actor key');
    checkTime(now, 'now');
    return immediateTransaction(this.#db, 'unban', () => {
      this.#existing(room);
      const lifted = Number(
        this.#sql('DELETE FROM bans WHERE room = ? AND banned_key = ?').run(room, target.key)
          .changes,
      );
      if (lifted === 0) return undefined;
      return this.#appendEvent(room, actor, { action: 'unbanned', target: personOf(target) }, now);
    });
  }

  isBanned(room: string, key: Uint8Array): boolean {
    checkKey(key, 'key');
    return read('isBanned', () => this.#isBanned(room, key));
  }

  /** Gives a member a role. Throws RoomStoreError 'unknown-room' or 'not-member'. */
  setRole(
    room: string,
    target: PersonRecord,
    role: Role,
    actor: PersonRecord | undefined,
    now: number,
  ): StoredMessage {
    checkKey(target.key, 'target key');
    checkRole(role);
    if (actor !== undefined) checkKey(actor.key, 'actor key');
    checkTime(now, 'now');
    return immediateTransaction(this.#db, 'setRole', () => {
      this.#existing(room);
      const changed = Number(
        this.#sql('UPDATE members SET role = ? WHERE room = ? AND member_key = ?').run(
          role,
          room,
          target.key,
        ).changes,
      );
      if (changed === 0) throw new RoomStoreError('not-member', 'not a member of that room');
      this.#revokeInvitesAbove(room, target.key, RANK[role], now);
      return this.#appendEvent(
        room,
        actor,
        { action: 'role', target: personOf(target), role },
        now,
      );
    });
  }

  /** Sets the topic ('' clears it). Throws RoomStoreError 'unknown-room'. */
  setTopic(
    room: string,
    topic: string,
    actor: PersonRecord | undefined,
    now: number,
  ): StoredMessage {
    if (actor !== undefined) checkKey(actor.key, 'actor key');
    checkTime(now, 'now');
    return immediateTransaction(this.#db, 'setTopic', () => {
      this.#existing(room);
      this.#sql('UPDATE rooms SET topic = ? WHERE name = ?').run(topic, room);
      return this.#appendEvent(room, actor, { action: 'topic', topic }, now);
    });
  }

  /**
   * undefined: the room already was (not) open. Throws RoomStoreError 'unknown-room', or
   * 'forbidden' for opening an end-to-end encrypted room (it stays private: anyone joining an
   * open room could read it, and its members' devices would have to add them unasked).
   */
  setOpen(
    room: string,
    open: boolean,
    actor: PersonRecord | undefined,
    now: number,
  ): StoredMessage | undefined {
    if (actor !== undefined) checkKey(actor.key, 'actor key');
    checkTime(now, 'now');
    return immediateTransaction(this.#db, 'setOpen', () => {
      const current = this.#existing(room);
      if (current.open === open) return undefined;
      if (open && current.e2ee) {
        throw new RoomStoreError('forbidden', 'an end-to-end encrypted room stays private');
      }
      this.#sql('UPDATE rooms SET open = ? WHERE name = ?').run(open ? 1 : 0, room);
      return this.#appendEvent(room, actor, { action: open ? 'opened' : 'closed' }, now);
    });
  }

  /**
   * Issues an invite; the token is returned once and only its SHA-256 is kept. Throws
   * RoomStoreError 'unknown-room'.
   */
  createInvite(spec: InviteSpec, now: number): { token: string; invite: InviteRecord } {
    checkRole(spec.role);
    checkTime(now, 'now');
    if (spec.uses !== null && (!Number.isSafeInteger(spec.uses) || spec.uses < 1)) {
      throw new RangeError('uses must be an integer >= 1 or null');
    }
    if (spec.expiresAt !== null) checkTime(spec.expiresAt, 'expiresAt');
    if (spec.createdBy !== undefined) checkKey(spec.createdBy.key, 'createdBy key');
    const token = newInviteToken();
    const invite: InviteRecord = {
      id: newInviteId(),
      room: spec.room,
      role: spec.role,
      usesLeft: spec.uses,
      expiresAt: spec.expiresAt,
      revokedAt: null,
      ...(spec.createdBy === undefined ? {} : { createdBy: personOf(spec.createdBy) }),
      createdAt: now,
    };
    immediateTransaction(this.#db, 'createInvite', () => {
      this.#existing(spec.room);
      this.#sql(
        `INSERT INTO invites (token_hash, id, room, role, uses_left, expires_at, revoked_at,
                              created_by, created_by_nick, created_at)
         VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?, ?)`,
      ).run(
        hashInviteToken(token),
        invite.id,
        invite.room,
        invite.role,
        invite.usesLeft,
        invite.expiresAt,
        invite.createdBy?.key ?? null,
        invite.createdBy?.nick ?? null,
        invite.createdAt,
      );
    });
    return { token, invite };
  }

  /**
   * Admits the person to the invite's room. Checks, in this order: unknown → (already a member
   * with at least the invite's role: ok, no event, no use spent, whatever the invite's state — a
   * client that redeemed and lost the answer must not be refused on retry) → revoked → expired
   * (at expiresAt and after) → used up → banned. Then a use is spent and the person becomes a
   * member ('joined' event), or a member with a lower role gets the invite's role ('role' event,
   * by the invite's creator).
   */
  redeemInvite(token: string, person: PersonRecord, now: number): RedeemResult {
    checkKey(person.key, 'key');
    checkTime(now, 'now');
    const hash = hashInviteToken(token);
    return immediateTransaction(this.#db, 'redeemInvite', (): RedeemResult => {
      const row = this.#sql(`SELECT ${INVITE_COLUMNS} FROM invites WHERE token_hash = ?`).get(hash);
      if (row === undefined) return { ok: false, code: 'invite-unknown' };
      const invite = toInvite(row);
      const room = invite.room;
      const current = this.#member(room, person.key);
      if (current !== undefined && RANK[current.role] >= RANK[invite.role]) {
        return { ok: true, room, role: current.role };
      }
      if (invite.revokedAt !== null) return { ok: false, code: 'invite-revoked', room };
      if (invite.expiresAt !== null && now >= invite.expiresAt) {
        return { ok: false, code: 'invite-expired', room };
      }
      if (invite.usesLeft !== null && invite.usesLeft <= 0) {
        return { ok: false, code: 'invite-used-up', room };
      }
      if (this.#isBanned(room, person.key)) return { ok: false, code: 'banned', room };

      if (invite.usesLeft !== null) {
        this.#sql('UPDATE invites SET uses_left = uses_left - 1 WHERE token_hash = ?').run(hash);
      }
      if (current !== undefined) {
        this.#sql('UPDATE members SET role = ?, nick = ? WHERE room = ? AND member_key = ?').run(
          invite.role,
          person.nick,
          room,
          person.key,
        );
        const event = this.#appendEvent(
          room,
          invite.createdBy,
          { action: 'role', target: personOf(person), role: invite.role },
          now,
        );
        return { ok: true, room, role: invite.role, event };
      }
      this.#insertMember(room, person, invite.role, now);
      const event = this.#appendEvent(room, person, { action: 'joined' }, now);
      return { ok: true, room, role: invite.role, event };
    });
  }

  /** Not revoked, not expired, uses left (or unlimited); oldest first. */
  liveInvites(room: string, now: number): InviteRecord[] {
    checkTime(now, 'now');
    return read('liveInvites', () =>
      this.#sql(
        `SELECT ${INVITE_COLUMNS} FROM invites
         WHERE room = ? AND revoked_at IS NULL
           AND (expires_at IS NULL OR expires_at > ?)
           AND (uses_left IS NULL OR uses_left > 0)
         ORDER BY created_at, id`,
      )
        .all(room, now)
        .map(toInvite),
    );
  }

  /** false: no such invite in that room, or it was already revoked. */
  revokeInvite(room: string, id: string, now: number): boolean {
    checkTime(now, 'now');
    return immediateTransaction(this.#db, 'revokeInvite', () => {
      const changed = this.#sql(
        'UPDATE invites SET revoked_at = ? WHERE room = ? AND id = ? AND revoked_at IS NULL',
      ).run(now, room, id).changes;
      return Number(changed) > 0;
    });
  }

  /** Where clients reach the running host, for links the `parley host` command builds. */
  setPublicAddress(host: string, port: number): void {
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new RangeError('port must be 1–65535');
    }
    immediateTransaction(this.#db, 'setPublicAddress', () => {
      const put = this.#sql(
        'INSERT INTO host_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      );
      put.run(PUBLIC_HOST, host);
      put.run(PUBLIC_PORT, String(port));
    });
  }

  /** The address the host last wrote; undefined if none (or not readable as one). */
  publicAddress(): { host: string; port: number } | undefined {
    return read('publicAddress', () => {
      const get = this.#sql('SELECT value FROM host_meta WHERE key = ?');
      const host = get.get(PUBLIC_HOST)?.['value'];
      const portText = get.get(PUBLIC_PORT)?.['value'];
      if (typeof host !== 'string' || host === '' || typeof portText !== 'string') return undefined;
      const port = Number(portText);
      if (!/^\d{1,5}$/.test(portText) || port < 1 || port > 65535) return undefined;
      return { host, port };
    });
  }

  /** Statements are prepared on first use and kept. */
  #sql(text: string): StatementSync {
    let statement = this.#statements.get(text);
    if (statement === undefined) {
      statement = this.#db.prepare(text);
      this.#statements.set(text, statement);
    }
    return statement;
  }

  #room(name: string): RoomRecord | undefined {
    const row = this.#sql(`SELECT ${ROOM_COLUMNS} FROM rooms WHERE name = ?`).get(name);
    return row === undefined ? undefined : toRoom(row);
  }

  #existing(name: string): RoomRecord {
    const room = this.#room(name);
    if (room === undefined) throw new RoomStoreError('unknown-room', 'there is no such room');
    return room;
  }

  #member(room: string, key: Uint8Array): MemberRecord | undefined {
    const row = this.#sql(
      `SELECT ${MEMBER_COLUMNS} FROM members WHERE room = ? AND member_key = ?`,
    ).get(room, key);
    return row === undefined ? undefined : toMember(row);
  }

  #isBanned(room: string, key: Uint8Array): boolean {
    return (
      this.#sql('SELECT 1 AS banned FROM bans WHERE room = ? AND banned_key = ?').get(room, key) !==
      undefined
    );
  }

  /**
   * An invite carries its maker's authority: when the maker's rank in the room drops below an
   * invite's role (demoted, removed, banned, parted: rank 0), that invite is revoked. Otherwise a
   * demoted admin would redeem their own admin invite and be admin again, and a removed one
   * would come back, or send friends in, with the links they made.
   */
  #revokeInvitesAbove(room: string, maker: Uint8Array, rank: number, now: number): void {
    this.#sql(
      `UPDATE invites SET revoked_at = ? WHERE room = ? AND created_by = ? AND revoked_at IS NULL
         AND CASE role WHEN 'owner' THEN 3 WHEN 'admin' THEN 2 ELSE 1 END > ?`,
    ).run(now, room, maker, rank);
  }

  #insertMember(room: string, person: PersonRecord, role: Role, now: number): void {
    this.#sql(
      `INSERT INTO members (room, member_key, role, nick, joined_at) VALUES (?, ?, ?, ?, ?)`,
    ).run(room, person.key, role, person.nick, now);
    // The room's group lacks the newcomer's devices until a member commits their add: MLS
    // messages wait for that commit (mls-removal.ts), or the newcomer could never read them.
    this.#sql(MARK_ROOM_SQL).run(...markRoomParams(room, person.key, now, now - DEVICE_RETIRE_MS));
  }

  /**
   * Appends an event row in the current transaction: a seq from the messages AUTOINCREMENT,
   * counted and trimmed with the room's history like a message.
   */
  #appendEvent(
    room: string,
    actor: PersonRecord | undefined,
    event: RoomEventRecord,
    now: number,
  ): StoredMessage {
    const senderKey = actor === undefined ? OPERATOR_KEY : actor.key;
    const nick = actor?.nick ?? '';
    const inserted = this.#sql(
      `INSERT INTO messages (room, sender_key, nick, text, client_msg_id, sent_at, event)
       VALUES (?, ?, ?, '', '', ?, ?) RETURNING seq`,
    ).get(room, senderKey, nick, now, encodeRoomEvent(event));
    const seq = column(inserted ?? {}, 'seq', isNumber);
    const counted = this.#sql(
      'UPDATE rooms SET message_count = message_count + 1 WHERE name = ? RETURNING message_count',
    ).get(room);
    const count = column(counted ?? {}, 'message_count', isNumber);
    const excess = count - this.#historyLimit;
    if (excess > 0) {
      const removed = Number(
        this.#sql(
          `DELETE FROM messages WHERE room = ?1 AND seq <=
             (SELECT seq FROM messages WHERE room = ?1 ORDER BY seq LIMIT 1 OFFSET ?2 - 1)`,
        ).run(room, excess).changes,
      );
      this.#sql('UPDATE rooms SET message_count = message_count - ? WHERE name = ?').run(
        removed,
        room,
      );
    }
    return {
      seq,
      room,
      senderKey: new Uint8Array(senderKey),
      nick,
      text: '',
      clientMsgId: '',
      sentAt: now,
      event,
    };
  }
}

/** A copy, so a caller's later change to its arrays does not alter what was returned. */
function personOf(person: PersonRecord): PersonRecord {
  return { key: new Uint8Array(person.key), nick: person.nick };
}
