import { encodeBase64Url } from '../../src-shared/base64url.ts';
import { sameKey } from '../protocol/host-key.ts';
import { DM_ROOM_PREFIX, decodePublicKeyText } from '../../src-shared/identifiers.ts';
import { MAX_ITEM_LEN } from '../protocol/records.ts';
import { encodeMessage } from '../protocol/wire/codec.ts';
import type {
  ClientMessage,
  HostErrorCode,
  HostMessage,
  InviteInfo,
  Member,
  Role,
  RoomInfo,
} from '../protocol/wire/messages.ts';
import type { AddressBudgets } from './address-budgets.ts';
import type { ConnectedClient } from './connected-client.ts';
import { dmRoomName } from './dm-room.ts';
import type { Fanout } from './fanout.ts';
import { failureFields } from './failure-fields.ts';
import { type HostDatabase, HostDatabaseError, type StoredMessage } from './host-database.ts';
import type { HostLog } from './host-log.ts';
import type { KeyConnections } from './key-connections.ts';
import type { PresenceQueue } from './presence-queue.ts';
import {
  type Verdict,
  mayCreateRoom,
  mayJoinAnother,
  mayManageInvites,
  mayOpenDm,
  mayPart,
  mayRemove,
  maySetOpen,
  maySetRole,
  maySetTopic,
  mayUnban,
} from './room-rules.ts';
import type {
  InviteRecord,
  MemberRecord,
  PersonRecord,
  RedeemFailure,
  RemovalReason,
  RoomRecord,
  RoomStore,
} from './room-store.ts';
import { RoomStoreError } from './room-store.ts';
import { type TimelineItems, person } from './timeline-items.ts';

/** The requests that carry a `rid` (docs/protocol.md §11.2). */
export type MembershipRequest = Extract<ClientMessage, { rid: number }>;

/** `rooms` carries at most this many (the wire's bound). */
const MAX_LISTED_ROOMS = 1000;
/** Past this many keys banned from open rooms, the welcome's listing is read per key (uncached). */
const MAX_CACHED_BANS = 1024;

/** A key as a Map/Set id (its bytes, one char each). */
function keyId(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
}
const encoder = new TextEncoder();
/**
 * A room's live invites, all listed in one `invites` item: at their longest (a 64-letter room,
 * a 32-letter astral nickname) about 390 bytes each, so 168 fit one item; more would make the
 * listing too long to send, and end the lister's connection.
 */
const MAX_LISTED_INVITES = 100;
/** After a storage fault, when a client should try again. */
const STORAGE_RETRY_MS = 1000;

const REDEEM_MESSAGES: Record<RedeemFailure, string> = {
  'invite-unknown': 'this invite is not valid on this host',
  'invite-revoked': 'this invite was revoked',
  'invite-expired': 'this invite has expired',
  'invite-used-up': 'this invite has been used up',
  banned: 'you are banned from this room',
};

/** What a key may see of one room: the room, and its role there if it is a member. */
interface Seen {
  readonly record: RoomRecord;
  readonly member: MemberRecord | undefined;
}

/** A refusal carried out of a request's steps to its one answer. */
class Refused extends Error {
  readonly code: HostErrorCode;
  readonly reason: string;
  readonly extra: { retryAfterMs?: number };

  constructor(code: HostErrorCode, reason: string, extra: { retryAfterMs?: number } = {}) {
    super(reason);
    this.code = code;
    this.reason = reason;
    this.extra = extra;
  }
}

/**
 * Membership (docs/protocol.md §11): who may see which room, and the requests that change it.
 * Every request with a `rid` gets exactly one answer with that rid — its reply, `done`, or an
 * `error` — before anything it causes (room lists, `removed`, the room event). A room the key
 * may not see is answered exactly as a room that does not exist. Each change is committed by
 * the room store (one transaction with its event row) before anyone is told; a removal takes
 * the key's connections out of the room in the same turn, so nothing committed later reaches it.
 *
 * Nothing is cached: the operator's `parley host` command writes invites and rooms from another
 * process while the host runs, so each decision reads the store.
 */
export class MembershipHandler {
  readonly #db: HostDatabase;
  readonly #fanout: Fanout;
  readonly #connections: KeyConnections;
  readonly #presence: PresenceQueue;
  readonly #timeline: TimelineItems;
  readonly #addresses: AddressBudgets;
  readonly #log: HostLog;
  readonly #now: () => number;
  readonly #openRoomsChanged: () => void;
  readonly #openRoomMembers: number;
  readonly #e2ee: boolean;
  /** The open-room listing most welcomes send, and the database state it was read in. */
  #listing:
    | {
        stamp: string;
        cached: { count: number; json: string; banned: Set<string> | undefined } | undefined;
      }
    | undefined;

  constructor(deps: {
    db: HostDatabase;
    /** Deliveries to connections other than the requester's (presence of a key is read here). */
    fanout: Fanout;
    /** Read only, for the nickname of a connected key. */
    connections: KeyConnections;
    presence: PresenceQueue;
    timeline: TimelineItems;
    /** Failed redemptions per remote address. */
    addresses: AddressBudgets;
    log: HostLog;
    now: () => number;
    /** A room was opened, closed or created open: host info names open rooms. */
    openRoomsChanged: () => void;
    /** An open room takes no more members by joining once it has this many. */
    openRoomMembers?: number;
    /** Rooms created private, and DMs, are end-to-end encrypted (docs/protocol.md §12). */
    e2ee?: boolean;
  }) {
    this.#db = deps.db;
    this.#fanout = deps.fanout;
    this.#connections = deps.connections;
    this.#presence = deps.presence;
    this.#timeline = deps.timeline;
    this.#addresses = deps.addresses;
    this.#log = deps.log;
    this.#now = deps.now;
    this.#openRoomsChanged = deps.openRoomsChanged;
    this.#openRoomMembers = deps.openRoomMembers ?? Number.POSITIVE_INFINITY;
    this.#e2ee = deps.e2ee ?? false;
  }

  get #store(): RoomStore {
    return this.#db.rooms;
  }

  // ── what a key may see ──────────────────────────────────────────────────────────────

  /**
   * The room as this key may see it, or undefined: no such room, or not for this key. A key
   * sees the rooms it is a member of, and the open rooms that have not banned it.
   */
  seen(client: ConnectedClient, room: string): Seen | undefined {
    const record = this.#store.room(room);
    if (!record) return undefined;
    const member = this.#store.member(room, client.key);
    if (member) return { record, member };
    if (record.kind === 'room' && record.open && !this.#store.isBanned(room, client.key)) {
      return { record, member };
    }
    return undefined;
  }

  /** The one answer for a room the key may not see, whether or not it exists. */
  static unknownRoom(room: string): string {
    return `there is no room "${room}" here`;
  }

  /**
   * Before a join: a member may; a non-member of an open room becomes one (its `joined` event
   * goes to the room, its `room` to the key's connections). Throws Refused otherwise.
   */
  admit(client: ConnectedClient, room: string): void {
    const seen = this.seen(client, room);
    if (!seen) throw new Refused('unknown-room', MembershipHandler.unknownRoom(room));
    if (seen.member) return;
    this.#check(mayJoinAnother(this.#roomCount(client.key)));
    if (this.#store.members(room).length >= this.#openRoomMembers) {
      throw new Refused('forbidden', `"${room}" is full: it takes no more members by joining`);
    }
    const event = this.#store.addMember(room, this.#self(client), 'member', this.#now());
    this.#tellKey(client.keyText, {
      t: 'room',
      info: this.#info(seen.record, 'member', client.key),
    });
    this.#broadcastEvent(event);
  }

  /** Members of the room for a joiner's listing: every member, with role and whether online. */
  members(room: string): Member[] {
    return this.#store.members(room).map((member) => {
      const identity = this.#timeline.identity(member.key);
      return {
        nick: member.nick,
        fp: identity.fp,
        key: identity.key,
        role: member.role,
        online: this.#fanout.present(room, identity.key),
      };
    });
  }

  // ── a connection's life ─────────────────────────────────────────────────────────────

  /** After the welcome: the key's nickname on its memberships, then every room it may see. */
  welcomed(client: ConnectedClient): void {
    const memberships = this.#store.roomsOf(client.key);
    // renameMember would read the same rows again to find out that none is stale.
    if (memberships.some((m) => m.nick !== client.nick)) this.renamed(client);
    const rooms: RoomInfo[] = [];
    const mine = new Set<string>();
    let inOpenRoom = false;
    for (const { room, role } of memberships) {
      const record = this.#store.room(room);
      if (!record) continue;
      mine.add(room);
      if (record.open && record.kind === 'room') inOpenRoom = true;
      rooms.push(this.#info(record, role, client.key));
    }
    // Usually the whole list fits one item: the open rooms' entries come as text from the store.
    const open = this.#openRoomListing(client.key, inOpenRoom);
    if (rooms.length + open.count <= MAX_LISTED_ROOMS) {
      const joined = rooms.map((info) => JSON.stringify(info)).join(',');
      const comma = joined && open.json ? ',' : '';
      const bytes = encoder.encode(
        `{"t":"rooms","rooms":[${joined}${comma}${open.json}],"last":true}`,
      );
      if (bytes.length <= MAX_ITEM_LEN) {
        client.deliver(bytes);
        return;
      }
    }
    for (const open of this.#store.openRoomsFor(client.key)) {
      if (mine.has(open.name)) continue;
      // What #info gives an open room (never a DM), in the same field order.
      rooms.push({
        room: open.name,
        kind: 'room',
        ...(open.topic ? { topic: open.topic } : {}),
        open: true,
        ...(open.e2ee ? { e2ee: true } : {}),
      });
    }
    // One item holds at most MAX_ITEM_LEN bytes, and 1000 rooms with long topics do not fit:
    // the list goes in pages, each as many rooms as fit, `last: false` on all but the final one.
    // Sent whole, it would fail every welcome: one admin's open rooms would lock everyone out.
    let rest = rooms.slice(0, MAX_LISTED_ROOMS);
    for (;;) {
      let count = rest.length;
      let bytes = encodeMessage({ t: 'rooms', rooms: rest, last: true });
      while (bytes.length > MAX_ITEM_LEN) {
        count = Math.max(1, Math.min(count - 1, Math.floor((count * MAX_ITEM_LEN) / bytes.length)));
        bytes = encodeMessage({
          t: 'rooms',
          rooms: rest.slice(0, count),
          last: count === rest.length,
        });
      }
      client.deliver(bytes);
      if (count === rest.length) return;
      rest = rest.slice(count);
    }
  }

  /**
   * The open rooms' listing for a welcome. Most keys are in no open room and banned from none:
   * they all get the same text, kept while the database is unchanged (RoomStore.changeStamp: any
   * write here, any commit elsewhere), so a reconnect storm does not run the listing's query — a
   * lookup of the ban and the membership in every open room — once per connection. The listing
   * is read for the cache only once two welcomes in a row found the database unchanged: while
   * every welcome follows a write (new keys claiming nicknames, busy rooms) each is read per key,
   * as before, for the cost of the stamp. A key in an open room or banned from one gets its own
   * listing. Only the key's owner, past the handshake, sees which path it took.
   */
  #openRoomListing(key: Uint8Array, inOpenRoom: boolean): { count: number; json: string } {
    if (inOpenRoom) return this.#store.openRoomListingFor(key);
    const stamp = this.#store.changeStamp();
    if (this.#listing?.stamp !== stamp) {
      this.#listing = { stamp, cached: undefined };
      return this.#store.openRoomListingFor(key);
    }
    let cached = this.#listing.cached;
    if (!cached) {
      const read = this.#store.openRoomListing(MAX_CACHED_BANS);
      cached = {
        count: read.count,
        json: read.json,
        banned: read.banned && new Set(read.banned.map(keyId)),
      };
      this.#listing.cached = cached;
    }
    if (!cached.banned || cached.banned.has(keyId(key))) {
      return this.#store.openRoomListingFor(key);
    }
    return cached;
  }

  /** The key's nickname changed (or was given at hello): its memberships carry it. */
  renamed(client: ConnectedClient): void {
    try {
      this.#store.renameMember(client.key, client.nick);
    } catch (error) {
      // Only the nickname shown for an offline member is stale; nothing else depends on it.
      this.#log('error', 'storage-failed', {
        operation: 'renameMember',
        fp: client.fingerprint,
        ...failureFields(error),
      });
    }
  }

  // ── requests ────────────────────────────────────────────────────────────────────────

  /** One membership request: exactly one answer with its rid, then what it caused. */
  handle(client: ConnectedClient, request: MembershipRequest, now: number): void {
    const ref = 'room' in request ? request.room : undefined;
    if (!client.budget.manage.take(now)) {
      client.budget.refused.manage++;
      this.#log('debug', 'budget-refused', { fp: client.fingerprint, kind: 'manage' });
      this.#refuse(
        client,
        request.rid,
        ref,
        'rate-limited',
        'too many membership requests; wait a moment',
        {
          retryAfterMs: Math.max(1, client.budget.manage.waitMs(now)),
        },
      );
      return;
    }
    try {
      this.#dispatch(client, request, now);
    } catch (error) {
      if (error instanceof Refused) {
        this.#refuse(client, request.rid, ref, error.code, error.reason, error.extra);
      } else if (error instanceof RoomStoreError) {
        // The operator's command changed the room between our read and our write: the
        // request is refused as it would be now; nothing was written.
        const code = error.code === 'already-member' ? 'forbidden' : error.code;
        const message =
          code === 'unknown-room' ? MembershipHandler.unknownRoom(ref ?? '') : error.message;
        this.#refuse(client, request.rid, ref, code, message);
      } else if (error instanceof HostDatabaseError) {
        this.#log('error', 'storage-failed', {
          operation: request.t,
          fp: client.fingerprint,
          ...failureFields(error),
        });
        this.#refuse(
          client,
          request.rid,
          ref,
          'internal',
          'the host could not do this; try again',
          {
            retryAfterMs: STORAGE_RETRY_MS,
          },
        );
      } else {
        throw error;
      }
    }
  }

  #dispatch(client: ConnectedClient, request: MembershipRequest, now: number): void {
    switch (request.t) {
      case 'redeem':
        return this.#redeem(client, request.rid, request.token, now);
      case 'invite-create':
        return this.#createInvite(client, request, now);
      case 'invite-list':
        return this.#listInvites(client, request.rid, request.room, now);
      case 'invite-revoke':
        return this.#revokeInvite(client, request.rid, request.room, request.id, now);
      case 'create':
        return this.#create(client, request.rid, request.room, request.open ?? false, now);
      case 'topic':
        return this.#topic(client, request.rid, request.room, request.topic, now);
      case 'set-open':
        return this.#setOpen(client, request.rid, request.room, request.open, now);
      case 'part':
        return this.#part(client, request.rid, request.room, now);
      case 'remove':
        return this.#remove(client, request, now);
      case 'unban':
        return this.#unban(client, request.rid, request.room, request.key, now);
      case 'set-role':
        return this.#setRole(client, request, now);
      case 'dm':
        return this.#dm(client, request.rid, request.key, now);
    }
  }

  /**
   * Failed redemptions spend the key's and the address's guessing budgets; with either empty
   * the token is not even looked up, so guessing costs the guesser, never the store.
   */
  #redeem(client: ConnectedClient, rid: number, token: string, now: number): void {
    const byKey = client.budget.redeems;
    const byAddress = this.#addresses.for(client.ip, now);
    const wait = Math.max(byKey.waitMs(now), byAddress.waitMs(now));
    if (wait > 0) {
      client.budget.refused.redeems++;
      this.#log('info', 'redeem-refused', { fp: client.fingerprint, ip: client.ip });
      throw new Refused('rate-limited', 'too many invites that did not work; wait a while', {
        retryAfterMs: wait,
      });
    }
    this.#check(mayJoinAnother(this.#roomCount(client.key)));
    const result = this.#store.redeemInvite(token, this.#self(client), now);
    if (!result.ok) {
      byKey.take(now);
      byAddress.take(now);
      this.#log('info', 'redeem-failed', { fp: client.fingerprint, code: result.code });
      this.#refuse(client, rid, result.room, result.code, REDEEM_MESSAGES[result.code]);
      return;
    }
    client.send({ t: 'redeemed', rid, room: result.room, role: result.role });
    const record = this.#store.room(result.room);
    if (record) {
      this.#tellKey(client.keyText, {
        t: 'room',
        info: this.#info(record, result.role, client.key),
      });
    }
    if (result.event) this.#broadcastEvent(result.event);
  }

  #createInvite(
    client: ConnectedClient,
    request: Extract<MembershipRequest, { t: 'invite-create' }>,
    now: number,
  ): void {
    const seen = this.#see(client, request.room);
    this.#check(mayManageInvites(seen.member?.role, seen.record.kind, request.role));
    // Beyond what `invites` can list, an invite would be one the room's other admins and owners
    // never see and cannot revoke: a backdoor link.
    if (this.#store.liveInvites(request.room, now).length >= MAX_LISTED_INVITES) {
      throw new Refused(
        'forbidden',
        `this room has ${MAX_LISTED_INVITES} live invites, as many as can be listed; revoke some first`,
      );
    }
    const { token, invite } = this.#store.createInvite(
      {
        room: request.room,
        role: request.role,
        uses: request.uses,
        expiresAt: request.expiresInMs === null ? null : now + request.expiresInMs,
        createdBy: this.#self(client),
      },
      now,
    );
    client.send({ t: 'invite', rid: request.rid, invite: inviteInfo(invite), token });
  }

  #listInvites(client: ConnectedClient, rid: number, room: string, now: number): void {
    const seen = this.#see(client, room);
    this.#check(mayManageInvites(seen.member?.role, seen.record.kind));
    const invites = this.#store.liveInvites(room, now).slice(0, MAX_LISTED_INVITES);
    client.send({ t: 'invites', rid, room, invites: invites.map(inviteInfo) });
  }

  #revokeInvite(client: ConnectedClient, rid: number, room: string, id: string, now: number) {
    const seen = this.#see(client, room);
    this.#check(mayManageInvites(seen.member?.role, seen.record.kind));
    if (!this.#store.revokeInvite(room, id, now)) {
      throw new Refused('invite-unknown', 'this room has no live invite with that id');
    }
    client.send({ t: 'done', rid });
  }

  #create(client: ConnectedClient, rid: number, room: string, open: boolean, now: number): void {
    this.#check(
      mayCreateRoom({
        name: room,
        nameTaken: this.#store.room(room) !== undefined,
        rolesOfKey: this.#store
          .roomsOf(client.key)
          .filter((mine) => !mine.room.startsWith(DM_ROOM_PREFIX))
          .map((mine) => mine.role),
      }),
    );
    const events = this.#store.createRoom(
      { name: room, kind: 'room', open, e2ee: this.#e2ee && !open },
      [{ key: client.key, nick: client.nick, role: 'owner' }],
      this.#self(client),
      now,
    );
    const record = this.#store.room(room);
    if (!record) throw new HostDatabaseError('schema', 'a room just created is missing');
    this.#answerWithRoom(client, rid, this.#info(record, 'owner', client.key));
    if (open) {
      this.#openRoomsChanged();
      this.#announceOpen(record);
    }
    for (const event of events) this.#broadcastEvent(event);
  }

  #topic(client: ConnectedClient, rid: number, room: string, topic: string, now: number): void {
    const seen = this.#see(client, room);
    this.#check(maySetTopic(seen.member?.role, seen.record.kind));
    const event = this.#store.setTopic(room, topic, this.#self(client), now);
    client.send({ t: 'done', rid });
    this.#roomChanged(room);
    this.#broadcastEvent(event);
  }

  #setOpen(client: ConnectedClient, rid: number, room: string, open: boolean, now: number): void {
    const seen = this.#see(client, room);
    this.#check(maySetOpen(seen.member?.role, seen.record.kind));
    if (open && seen.record.e2ee) {
      // Anyone could join an open room and read along; its members' devices would have to add
      // every newcomer unasked. An encrypted room stays private.
      throw new Refused('forbidden', 'an end-to-end encrypted room stays private');
    }
    const event = this.#store.setOpen(room, open, this.#self(client), now);
    client.send({ t: 'done', rid });
    if (!event) return; // it already was
    this.#roomChanged(room);
    this.#openRoomsChanged();
    this.#broadcastEvent(event);
  }

  #part(client: ConnectedClient, rid: number, room: string, now: number): void {
    const seen = this.#see(client, room);
    const members = this.#store.members(room);
    this.#check(
      mayPart({
        actor: seen.member?.role,
        owners: members.filter((member) => member.role === 'owner').length,
        members: members.length,
      }),
    );
    const self = this.#self(client);
    const event = this.#store.removeMember(room, self, 'parted', self, now);
    client.send({ t: 'done', rid });
    this.#removed(room, client.keyText, 'parted', undefined);
    this.#broadcastEvent(event);
  }

  #remove(
    client: ConnectedClient,
    request: Extract<MembershipRequest, { t: 'remove' }>,
    now: number,
  ): void {
    const seen = this.#see(client, request.room);
    const key = decodeKey(request.key);
    const target = this.#store.member(request.room, key);
    const nick = target?.nick ?? this.#nickOf(key);
    this.#check(
      mayRemove({
        actor: seen.member?.role,
        kind: seen.record.kind,
        self: sameKey(key, client.key),
        target: target?.role,
        ban: request.ban,
        knownKey: nick !== undefined,
      }),
    );
    if (nick === undefined)
      throw new Refused('not-member', 'that key is not a member of this room');
    if (!target && this.#store.isBanned(request.room, key)) {
      client.send({ t: 'done', rid: request.rid }); // banned already
      return;
    }
    const actor = this.#self(client);
    const reason: RemovalReason = request.ban ? 'banned' : 'removed';
    const event = this.#store.removeMember(request.room, { key, nick }, reason, actor, now);
    client.send({ t: 'done', rid: request.rid });
    if (target) this.#removed(request.room, request.key, reason, actor);
    this.#broadcastEvent(event);
  }

  #unban(client: ConnectedClient, rid: number, room: string, keyText: string, now: number): void {
    const seen = this.#see(client, room);
    this.#check(mayUnban(seen.member?.role, seen.record.kind));
    const key = decodeKey(keyText);
    const nick = this.#nickOf(key);
    const event =
      nick !== undefined && this.#store.isBanned(room, key)
        ? this.#store.unban(room, { key, nick }, this.#self(client), now)
        : undefined;
    client.send({ t: 'done', rid });
    if (event) this.#broadcastEvent(event);
  }

  #setRole(
    client: ConnectedClient,
    request: Extract<MembershipRequest, { t: 'set-role' }>,
    now: number,
  ): void {
    const seen = this.#see(client, request.room);
    const key = decodeKey(request.key);
    const members = this.#store.members(request.room);
    const target = members.find((member) => sameKey(member.key, key));
    this.#check(
      maySetRole({
        actor: seen.member?.role,
        kind: seen.record.kind,
        self: sameKey(key, client.key),
        target: target?.role,
        role: request.role,
        owners: members.filter((member) => member.role === 'owner').length,
      }),
    );
    if (!target || target.role === request.role) {
      client.send({ t: 'done', rid: request.rid });
      return;
    }
    const event = this.#store.setRole(
      request.room,
      { key, nick: target.nick },
      request.role,
      this.#self(client),
      now,
    );
    client.send({ t: 'done', rid: request.rid });
    this.#tellKey(request.key, {
      t: 'room',
      info: this.#info(seen.record, request.role, key),
    });
    this.#broadcastEvent(event);
  }

  #dm(client: ConnectedClient, rid: number, keyText: string, now: number): void {
    const key = decodeKey(keyText);
    const mine = this.#store.roomsOf(client.key);
    const theirs = new Set(this.#store.roomsOf(key).map((entry) => entry.room));
    const shared = mine.find(
      (entry) => !entry.room.startsWith(DM_ROOM_PREFIX) && theirs.has(entry.room),
    );
    this.#check(mayOpenDm({ self: sameKey(key, client.key), sharesRoom: shared !== undefined }));
    const peerNick = (shared && this.#store.member(shared.room, key)?.nick) ?? this.#nickOf(key);
    if (!shared || peerNick === undefined) {
      throw new Refused('not-member', 'you can message only people who share a room with you');
    }
    const name = dmRoomName(client.key, key);
    const self = this.#self(client);
    const peer: PersonRecord = { key, nick: peerNick };
    // Direct messages have their own allowance, checked for both: the peer is added without
    // asking, so others must not be able to fill its allowance of rooms (or of DMs past it).
    const mayAdd = (who: PersonRecord): void => {
      if (this.#store.member(name, who.key)) return;
      const verdict = mayJoinAnother(this.#dmCount(who.key));
      if (verdict && who === peer) {
        throw new Refused('forbidden', 'they have as many direct messages as this host allows');
      }
      this.#check(verdict);
    };
    mayAdd(self);
    mayAdd(peer);
    let events: StoredMessage[];
    if (!this.#store.room(name)) {
      events = this.#store.createRoom(
        { name, kind: 'dm', open: false, dmKeys: [client.key, key], e2ee: this.#e2ee },
        [
          { ...self, role: 'member' },
          { ...peer, role: 'member' },
        ],
        self,
        now,
      );
    } else {
      // Someone parted: the DM opens again for both.
      events = [];
      for (const who of [self, peer]) {
        if (!this.#store.member(name, who.key)) {
          events.push(this.#store.addMember(name, who, 'member', now));
        }
      }
    }
    const record = this.#store.room(name);
    if (!record) throw new HostDatabaseError('schema', 'a direct message just made is missing');
    this.#answerWithRoom(client, rid, this.#info(record, 'member', client.key));
    this.#tellKey(keyText, { t: 'room', info: this.#info(record, 'member', key) });
    for (const event of events) this.#broadcastEvent(event);
  }

  // ── steps ───────────────────────────────────────────────────────────────────────────

  /** The room as the key may see it, or the refusal every invisible room gets. */
  #see(client: ConnectedClient, room: string): Seen {
    const seen = this.seen(client, room);
    if (!seen) throw new Refused('unknown-room', MembershipHandler.unknownRoom(room));
    return seen;
  }

  /** Rooms the key is a member of, DMs aside: what MAX_ROOMS_PER_KEY bounds. */
  #roomCount(key: Uint8Array): number {
    return this.#store.roomsOf(key).filter((e) => !e.room.startsWith(DM_ROOM_PREFIX)).length;
  }

  /** Direct messages the key is a member of: bounded by MAX_ROOMS_PER_KEY on their own. */
  #dmCount(key: Uint8Array): number {
    return this.#store.roomsOf(key).filter((e) => e.room.startsWith(DM_ROOM_PREFIX)).length;
  }

  #check(verdict: Verdict): void {
    if (verdict) throw new Refused(verdict.code, verdict.message);
  }

  #self(client: ConnectedClient): PersonRecord {
    return { key: client.key, nick: client.nick };
  }

  /**
   * A nickname for a key that may not be a member: its connection's, else the store's (its
   * memberships, or a name it registered). undefined: the host does not know the key.
   */
  #nickOf(key: Uint8Array): string | undefined {
    for (const connection of this.#connections.of(encodeBase64Url(key))) return connection.nick;
    return this.#db.nickOf(key);
  }

  #refuse(
    client: ConnectedClient,
    rid: number,
    ref: string | undefined,
    code: HostErrorCode,
    message: string,
    extra: { retryAfterMs?: number } = {},
  ): void {
    client.send({
      t: 'error',
      code,
      message,
      rid,
      ...(ref === undefined ? {} : { ref }),
      ...extra,
    });
  }

  /** The room info with the rid to the asking connection, without it to the key's others. */
  #answerWithRoom(client: ConnectedClient, rid: number, info: RoomInfo): void {
    client.send({ t: 'room', info, rid });
    this.#fanout.toKey(client.keyText, encodeMessage({ t: 'room', info }), client);
  }

  #tellKey(keyText: string, message: HostMessage): void {
    this.#fanout.toKey(keyText, encodeMessage(message));
  }

  /**
   * The key is no longer a member: its connections leave the room now, silently (the room
   * event says why), and are told; a send of theirs still waiting for the commit is dropped.
   */
  #removed(
    room: string,
    keyText: string,
    reason: RemovalReason,
    by: PersonRecord | undefined,
  ): void {
    this.#presence.forget(room, keyText);
    const bytes = encodeMessage({
      t: 'removed',
      room,
      reason,
      ...(by ? { by: person(by) } : {}),
    });
    this.#fanout.removeFromRoom(room, keyText, bytes);
  }

  /** A room's topic or openness changed: every member's list, and everyone's if it is open. */
  #roomChanged(room: string): void {
    const record = this.#store.room(room);
    if (!record) return;
    const members = this.#store.members(room);
    for (const member of members) {
      this.#tellKey(encodeBase64Url(member.key), {
        t: 'room',
        info: this.#info(record, member.role, member.key),
      });
    }
    if (record.kind === 'room' && record.open) {
      this.#announceOpen(
        record,
        members.map((member) => encodeBase64Url(member.key)),
      );
    }
  }

  /** An open room (new, or opened) goes on the list of every key connected that is no member. */
  #announceOpen(record: RoomRecord, members?: readonly string[]): void {
    const bytes = encodeMessage({ t: 'room', info: this.#info(record, undefined, undefined) });
    this.#fanout.toNonMembers(record.name, bytes, members);
  }

  /** A room event, live, to every connection in the room (the actor's too). */
  #broadcastEvent(event: StoredMessage): void {
    const bytes = this.#timeline.encode(event, false);
    if (bytes) this.#fanout.toRoom(event.room, bytes);
  }

  #info(record: RoomRecord, role: Role | undefined, forKey: Uint8Array | undefined): RoomInfo {
    let peer: RoomInfo['peer'];
    if (record.kind === 'dm' && record.dmKeys && forKey) {
      const [a, b] = record.dmKeys;
      const other = sameKey(a, forKey) ? b : a;
      const nick = this.#store.member(record.name, other)?.nick ?? this.#nickOf(other);
      if (nick !== undefined) peer = person({ key: other, nick });
    }
    return {
      room: record.name,
      kind: record.kind,
      ...(role ? { role } : {}),
      ...(record.topic ? { topic: record.topic } : {}),
      open: record.open,
      ...(peer ? { peer } : {}),
      ...(record.e2ee ? { e2ee: true } : {}),
    };
  }
}

/** The refusal `admit` throws, for the join path to answer in its own shape. */
export function refusalOf(error: unknown): { code: HostErrorCode; message: string } | undefined {
  return error instanceof Refused ? { code: error.code, message: error.reason } : undefined;
}

function decodeKey(keyText: string): Uint8Array {
  const key = decodePublicKeyText(keyText);
  if (!key) throw new Refused('not-member', 'that is not a key this host knows');
  return key;
}

function inviteInfo(invite: InviteRecord): InviteInfo {
  return {
    id: invite.id,
    room: invite.room,
    role: invite.role,
    usesLeft: invite.usesLeft,
    expiresAt: invite.expiresAt,
    ...(invite.createdBy ? { createdBy: person(invite.createdBy) } : {}),
    createdAt: invite.createdAt,
  };
}
