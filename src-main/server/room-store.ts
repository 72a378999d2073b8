// Rooms, their members, bans and invites (docs/protocol.md §11), in the host's database. Every
// mutation is one BEGIN IMMEDIATE transaction, so the running host and a `parley host` command in
// another process can both write the same file (WAL, busy timeout); a membership change and its
// room event row commit together.
import type { DatabaseSync } from 'node:sqlite';
import type { Role } from '../protocol/wire/messages.ts';
import type { PersonRecord } from './db/room-event-json.ts';
import type { StoredMessage } from './host-database.ts';

export type { Role } from '../protocol/wire/messages.ts';
export type { PersonRecord, RoomEventRecord } from './db/room-event-json.ts';

export type RoomKind = 'room' | 'dm';

export interface RoomRecord {
  name: string;
  kind: RoomKind;
  open: boolean;
  /** '' = no topic. */
  topic: string;
  createdAt: number;
  /** A direct message's two keys. */
  dmKeys?: readonly [Uint8Array, Uint8Array];
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

export class RoomStore {
  constructor(db: DatabaseSync, options: RoomStoreOptions) {
    void db;
    void options;
  }

  /** Every room, sorted by name. */
  rooms(): RoomRecord[] {
    throw new Error('not yet');
  }

  room(name: string): RoomRecord | undefined {
    void name;
    throw new Error('not yet');
  }

  /**
   * Creates a room with its first members. Returns the 'created' event, then a 'joined' event
   * per member of a direct message. Throws if the name is taken.
   */
  createRoom(
    spec: RoomSpec,
    members: readonly NewMember[],
    actor: PersonRecord | undefined,
    now: number,
  ): StoredMessage[] {
    void [spec, members, actor, now];
    throw new Error('not yet');
  }

  /** The room's members, owners first, then admins, then members; by nick within a role. */
  members(room: string): MemberRecord[] {
    void room;
    throw new Error('not yet');
  }

  member(room: string, key: Uint8Array): MemberRecord | undefined {
    void [room, key];
    throw new Error('not yet');
  }

  /** The rooms the key is a member of, sorted by name. */
  roomsOf(key: Uint8Array): { room: string; role: Role }[] {
    void key;
    throw new Error('not yet');
  }

  /** Records the key's current nickname in all its memberships. */
  renameMember(key: Uint8Array, nick: string): void {
    void [key, nick];
    throw new Error('not yet');
  }

  /** Makes the person a member (a 'joined' event). */
  addMember(room: string, person: PersonRecord, role: Role, now: number): StoredMessage {
    void [room, person, role, now];
    throw new Error('not yet');
  }

  /**
   * Deletes the target's membership; 'banned' also records the ban. The event's action is
   * 'removed', 'banned' or 'left' (for 'parted').
   */
  removeMember(
    room: string,
    target: PersonRecord,
    reason: RemovalReason,
    actor: PersonRecord | undefined,
    now: number,
  ): StoredMessage {
    void [room, target, reason, actor, now];
    throw new Error('not yet');
  }

  /** Lifts a ban; undefined when the key was not banned. */
  unban(
    room: string,
    target: PersonRecord,
    actor: PersonRecord | undefined,
    now: number,
  ): StoredMessage | undefined {
    void [room, target, actor, now];
    throw new Error('not yet');
  }

  isBanned(room: string, key: Uint8Array): boolean {
    void [room, key];
    throw new Error('not yet');
  }

  setRole(
    room: string,
    target: PersonRecord,
    role: Role,
    actor: PersonRecord | undefined,
    now: number,
  ): StoredMessage {
    void [room, target, role, actor, now];
    throw new Error('not yet');
  }

  setTopic(
    room: string,
    topic: string,
    actor: PersonRecord | undefined,
    now: number,
  ): StoredMessage {
    void [room, topic, actor, now];
    throw new Error('not yet');
  }

  /** undefined: the room already was (not) open. */
  setOpen(
    room: string,
    open: boolean,
    actor: PersonRecord | undefined,
    now: number,
  ): StoredMessage | undefined {
    void [room, open, actor, now];
    throw new Error('not yet');
  }

  /** Issues an invite; the token is returned once and only its hash is kept. */
  createInvite(spec: InviteSpec, now: number): { token: string; invite: InviteRecord } {
    void [spec, now];
    throw new Error('not yet');
  }

  /**
   * Checks, in this order: unknown → revoked → expired → used up → banned. A current member gets
   * ok with no event and spends no use; anyone else spends a use, becomes a member, and the
   * 'joined' event is returned.
   */
  redeemInvite(token: string, person: PersonRecord, now: number): RedeemResult {
    void [token, person, now];
    throw new Error('not yet');
  }

  /** Not revoked, not expired, uses left (or unlimited); oldest first. */
  liveInvites(room: string, now: number): InviteRecord[] {
    void [room, now];
    throw new Error('not yet');
  }

  /** false: no such invite in that room, or already revoked. */
  revokeInvite(room: string, id: string, now: number): boolean {
    void [room, id, now];
    throw new Error('not yet');
  }

  /** Where clients reach the running host, for links the `parley host` command builds. */
  setPublicAddress(host: string, port: number): void {
    void [host, port];
    throw new Error('not yet');
  }

  publicAddress(): { host: string; port: number } | undefined {
    throw new Error('not yet');
  }
}
