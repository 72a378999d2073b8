import type { HostAddress } from '../../src-shared/invite.ts';
import { DM_ROOM_PREFIX, isValidRoomName } from '../../src-shared/identifiers.ts';
import type {
  MemberView,
  PersonView,
  Role,
  RoomEncryption,
  RoomMute,
  RoomView,
} from '../../src-shared/ipc/domain.ts';
import type { MembersUpdate, Presence } from '../client/session-events.ts';
import { hostId } from '../store/known-hosts.ts';
import type { LocalHistory, StoredRoomInfo } from './local-history.ts';
import type { LocalStoreGuard } from './local-store-guard.ts';
import { type MemberE2ee, RoomMembers } from './room-members.ts';
import { UnreadCounts } from './unread-counts.ts';

/** The host the app is about (connected or not): its rooms and history are shown even offline. */
export interface HostContext {
  /** The key of all local state about this host (local history, outbox). */
  readonly id: string;
  readonly address: HostAddress;
}

export type RoomEntry = RoomView;

/** What the host says about a room this key may see (its `rooms` / `room` messages). */
export interface HostRoom {
  readonly name: string;
  readonly kind: 'room' | 'dm';
  /** Ours; absent for an open room we are not a member of. */
  readonly role?: Role;
  readonly topic?: string;
  readonly open: boolean;
  readonly peer?: PersonView;
  /** The host says the room is end-to-end encrypted. */
  readonly e2ee?: boolean;
}

/** What the rooms model needs of the session when the host's room list arrives. */
export interface RoomListSession {
  /** Whether the session is in (or joining) `room`. */
  joins(room: string): boolean;
  /** Asks the session to join `room`. */
  join(room: string): void;
  /**
   * The list is the host's first since the welcome: a room kept here that it does not have is
   * not ours any more. (Later lists follow single changes; a removal comes as its own event.)
   */
  readonly complete: boolean;
  /** Rooms to keep although unlisted: an invite's still being redeemed, a join not answered. */
  keeps(room: string): boolean;
  /** An invite is still being redeemed: no open room is joined in its place. */
  readonly redeeming: boolean;
}

/** What a room event changes in the member list. */
export interface MembershipChange {
  readonly room: string;
  readonly action: 'joined' | 'left' | 'removed' | 'banned' | 'role';
  readonly person: PersonView;
  readonly role?: Role;
}
/** One host's unread counts as the UI is told them. */
export interface UnreadSnapshot {
  readonly counts: Record<string, number>;
  readonly total: number;
  readonly mentions: Record<string, number>;
  readonly mentionTotal: number;
}

export interface RoomsModelEvents {
  rooms(list: RoomEntry[]): void;
  /**
   * `total`: what this host adds to the badge (muted rooms left out or counted by mentions);
   * `mentions`: unread mentions per room, `mentionTotal` those the tray shows apart.
   */
  unread(snapshot: UnreadSnapshot): void;
  members(room: string, members: MemberView[]): void;
}

export interface RoomsModelOptions {
  readonly history: LocalHistory;
  readonly store: LocalStoreGuard;
  /** This install's key (base64url): marks our own entry in member lists. */
  readonly ownKey: string;
  /** `encrypted`: asked for a member of an end-to-end encrypted room. */
  readonly isVerified: (key: string, encrypted: boolean) => boolean;
  /** What a member's devices in an end-to-end encrypted room's group say (absent: nothing). */
  readonly e2eeOf?: (room: string, key: string) => MemberE2ee | undefined;
  /** A room's notification level on this machine (default 'all'). */
  readonly muteOf?: (room: string) => RoomMute;
  readonly events: RoomsModelEvents;
}

/**
 * The rooms of one host (each HostSession has its own), and the one owner of what the UI lists
 * about them: the host's rooms, the rooms joined (kept in the local history's joined flag, so
 * they are rejoined on the next connection), the room on screen, unread counts, the "New
 * messages" line and members. Nothing of one host's `#lobby` shows in another's.
 */
export class RoomsModel {
  readonly #history: LocalHistory;
  readonly #store: LocalStoreGuard;
  readonly #ownKey: string;
  readonly #isVerified: (key: string, encrypted: boolean) => boolean;
  readonly #e2eeOf: ((room: string, key: string) => MemberE2ee | undefined) | undefined;
  readonly #muteOf: (room: string) => RoomMute;
  readonly #events: RoomsModelEvents;

  #host: HostContext | undefined;
  /**
   * The rooms the host says this key may see: its open rooms from the welcome, then its own
   * list (members' rooms with a role, open rooms) once that arrives.
   */
  #hostRooms = new Map<string, HostRoom>();
  #joined = new Set<string>();
  #active: string | null = null;
  #windowFocused = true;
  /** The room on screen was seen (window focused) since it became the active one. */
  #activeSeen = false;
  readonly #unread = new UnreadCounts();
  /**
   * Per room, the seq of the first message that arrived while the user was not looking at it:
   * the "New messages" line. It stays while the user reads the room, and goes when they move
   * away from it after having seen it.
   */
  readonly #firstUnread = new Map<string, number>();
  readonly #members = new RoomMembers();
  /** What this device's group of each end-to-end encrypted room is (absent: not set up yet). */
  readonly #encryption = new Map<string, Exclude<RoomEncryption, 'not-encrypted'>>();
  /** Rooms whose member list changed this turn: one `members` event each, at the turn's end. */
  readonly #membersChanged = new Set<string>();
  #membersFlush: NodeJS.Immediate | undefined;

  constructor(options: RoomsModelOptions) {
    this.#history = options.history;
    this.#store = options.store;
    this.#ownKey = options.ownKey;
    this.#isVerified = options.isVerified;
    this.#e2eeOf = options.e2eeOf;
    this.#muteOf = options.muteOf ?? (() => 'all');
    this.#events = options.events;
  }

  // ── the host ────────────────────────────────────────────────────────────────────────

  get host(): HostContext | undefined {
    return this.#host;
  }

  /**
   * The app is now about the host at `address`. Another host than before starts afresh (no
   * room on screen, no host rooms, unread counts or members); returns whether it was another.
   * The rooms joined there are read back from the local history.
   */
  aboutHost(address: HostAddress): boolean {
    const id = hostId(address);
    if (this.#host?.id === id) return false;
    this.#host = { id, address };
    this.#active = null;
    this.#activeSeen = false;
    this.#hostRooms = new Map();
    this.#unread.clear();
    this.#firstUnread.clear();
    this.#members.clear();
    // Lists still to be told are the previous host's.
    this.#membersChanged.clear();
    this.#joined = new Set(this.#storedJoined(id));
    return true;
  }

  /**
   * The rooms to join on connecting: those joined before, the invite's room, and if there are
   * none, the room used last on this host. All are remembered as joined.
   */
  roomsToJoin(inviteRoom: string | undefined, lastRoom: string | undefined): string[] {
    const host = this.#requireHost();
    const rooms = new Set(this.#storedJoined(host.id));
    if (inviteRoom) rooms.add(inviteRoom);
    if (rooms.size === 0 && lastRoom !== undefined && isValidRoomName(lastRoom))
      rooms.add(lastRoom);
    this.#store.run('remember your rooms', () => {
      for (const room of rooms) this.#history.setJoined(host.id, room, true);
    });
    this.#joined = rooms;
    return [...rooms];
  }

  /**
   * The host's welcome: its open rooms (the rest comes with its room list). Returns the room
   * to remember as the last used one on this host.
   */
  welcome(openRooms: readonly string[]): string {
    for (const name of openRooms.filter(isValidRoomName)) {
      if (!this.#hostRooms.has(name)) this.#hostRooms.set(name, { name, kind: 'room', open: true });
    }
    const first = openRooms.find(isValidRoomName);
    const room =
      (this.#active && this.#joined.has(this.#active) ? this.#active : undefined) ??
      [...this.#joined][0] ??
      first ??
      'lobby';
    this.emitRooms();
    return room;
  }

  /**
   * The host's list of the rooms this key may see, whole. The session joins those we are a
   * member of (unless the user left one in this session): `session.joins` says which, and
   * they are joined here too. On the first list of a connection, a room kept here that the
   * host no longer lists is not ours any more (removed while we were away): it is forgotten,
   * history and all — unless `session.keeps` it. With no room joined at all, the first open
   * room is, on connecting (`session.join`). Returns the forgotten rooms.
   */
  roomList(rooms: readonly HostRoom[], session: RoomListSession): string[] {
    const host = this.#requireHost();
    this.#hostRooms = new Map(
      rooms.filter((r) => isValidRoomName(r.name)).map((r): [string, HostRoom] => [r.name, r]),
    );
    const forgotten: string[] = [];
    const kept = session.complete
      ? new Set([...this.#history.rooms(host.id).map((r) => r.room), ...this.#joined])
      : new Set<string>();
    for (const name of kept) {
      if (this.#hostRooms.has(name) || session.keeps(name)) continue;
      this.#forget(name);
      forgotten.push(name);
    }
    for (const room of this.#hostRooms.values()) {
      if (room.role === undefined) continue;
      if (!this.#joined.has(room.name) && session.joins(room.name)) {
        this.#setJoined(room.name, true);
      }
      this.#store.run('remember your rooms', () =>
        this.#history.setRoomInfo(host.id, room.name, storedInfo(room)),
      );
    }
    // Only on connecting: a room opened later (or an invite refused later) must not make us a
    // member of a room we never picked, announced to everyone in it.
    const firstOpen = [...this.#hostRooms.values()].find((r) => r.open && r.kind === 'room');
    if (session.complete && this.#joined.size === 0 && firstOpen && !session.redeeming) {
      session.join(firstOpen.name);
      this.#setJoined(firstOpen.name, true);
    }
    if (forgotten.length > 0) this.#emitUnread();
    else this.emitRooms();
    return forgotten;
  }

  /**
   * The host refused the invite for `room`: unless the host lists it (we were a member
   * already), it goes, as a room that does not exist for us.
   */
  inviteRefused(room: string): void {
    if (this.#hostRooms.has(room)) return;
    this.#forget(room);
    this.#emitUnread();
  }

  /** What the host says about `room`, if it listed it. */
  hostRoom(room: string): HostRoom | undefined {
    return this.#hostRooms.get(room);
  }

  /**
   * We are no longer a member of `room` (removed, banned, parted): it leaves the list, with
   * its members, unread count and local history.
   */
  removed(room: string): void {
    this.#hostRooms.delete(room);
    this.#forget(room);
    this.#emitUnread();
  }

  #forget(room: string): void {
    const host = this.#requireHost();
    this.#joined.delete(room);
    this.#members.forget(room);
    this.#membersChanged.delete(room);
    this.#unread.reset(room);
    this.#firstUnread.delete(room);
    this.#encryption.delete(room);
    if (this.#active === room) this.#active = null;
    this.#store.run('forget a room', () => this.#history.forgetRoom(host.id, room));
  }

  // ── joined rooms ────────────────────────────────────────────────────────────────────

  isJoined(room: string): boolean {
    return this.#joined.has(room);
  }

  /** The user joined `room`. */
  joined(room: string): void {
    this.#setJoined(room, true);
    this.emitRooms();
  }

  /** The user left `room`: its members and unread count go with it. */
  left(room: string): void {
    this.#setJoined(room, false);
    this.#members.forget(room);
    this.#unread.reset(room);
    this.#firstUnread.delete(room);
    this.#emitUnread();
  }

  /** The host says there is no such room (`unknown-room`): it is no longer joined. */
  gone(room: string): void {
    this.#setJoined(room, false);
    this.emitRooms();
  }

  #setJoined(room: string, joined: boolean): void {
    const host = this.#requireHost();
    if (joined) this.#joined.add(room);
    else this.#joined.delete(room);
    this.#store.run(joined ? 'remember your rooms' : 'forget a room', () =>
      this.#history.setJoined(host.id, room, joined),
    );
  }

  #storedJoined(host: string): string[] {
    return this.#history
      .rooms(host)
      .filter((r) => r.joined && isValidRoomName(r.room))
      .map((r) => r.room);
  }

  /** Every room to list: the host's, those with local history, those joined. */
  list(): RoomEntry[] {
    const names = new Set<string>(this.#hostRooms.keys());
    if (this.#host) {
      for (const { room } of this.#history.rooms(this.#host.id)) names.add(room);
    }
    for (const room of this.#joined) names.add(room);
    const stored = this.#host ? this.#history.roomInfo(this.#host.id) : undefined;
    return [...names].filter(isValidRoomName).map((name) => {
      // Offline, what the host said last time; a room known only from its history: what its
      // name says, nothing more.
      const info: Omit<HostRoom, 'name'> = this.#hostRooms.get(name) ??
        stored?.get(name) ?? {
          kind: name.startsWith(DM_ROOM_PREFIX) ? 'dm' : 'room',
          open: false,
        };
      const firstUnreadSeq = this.#firstUnread.get(name);
      const unreadMentions = this.#unread.mentionsIn(name);
      return {
        name,
        joined: this.#joined.has(name),
        unread: this.#unread.get(name),
        kind: info.kind,
        open: info.open,
        mute: this.#muteOf(name),
        e2ee: info.e2ee ? (this.#encryption.get(name) ?? 'joining') : 'not-encrypted',
        ...(firstUnreadSeq !== undefined ? { firstUnreadSeq } : {}),
        ...(unreadMentions > 0 ? { unreadMentions } : {}),
        ...(info.role ? { role: info.role } : {}),
        ...(info.topic ? { topic: info.topic } : {}),
        ...(info.peer ? { peer: info.peer } : {}),
      };
    });
  }

  /** The session says where this device's group of an end-to-end encrypted room stands. */
  setEncryption(room: string, state: Exclude<RoomEncryption, 'not-encrypted'>): void {
    if (this.#encryption.get(room) === state) return;
    this.#encryption.set(room, state);
    this.emitRooms();
  }

  /** Whether `room` is end-to-end encrypted, as the host last said. */
  isEncrypted(room: string): boolean {
    const host = this.#host;
    const info =
      this.#hostRooms.get(room) ?? (host ? this.#history.roomInfo(host.id).get(room) : undefined);
    return info?.e2ee === true;
  }

  emitRooms(): void {
    this.#events.rooms(this.list());
  }

  // ── the room on screen, unread counts ──────────────────────────────────────────────

  get active(): string | null {
    return this.#active;
  }

  get windowFocused(): boolean {
    return this.#windowFocused;
  }

  /**
   * The user is looking at `room` (null: at none); its unread count goes. Moving away from a
   * room that was seen takes its "New messages" line away: it was read.
   */
  setActive(room: string | null): void {
    const previous = this.#active;
    if (previous === room) {
      if (room && this.#windowFocused) this.#activeSeen = true;
      if (room && this.#unread.reset(room)) this.#emitUnread();
      return;
    }
    const lineGone = previous !== null && this.#activeSeen && this.#firstUnread.delete(previous);
    this.#active = room;
    this.#activeSeen = room !== null && this.#windowFocused;
    if ((room && this.#unread.reset(room)) || lineGone) this.#emitUnread();
  }

  setWindowFocused(focused: boolean): void {
    this.#windowFocused = focused;
    if (focused && this.#active) this.#activeSeen = true;
    if (focused && this.#active && this.#unread.reset(this.#active)) this.#emitUnread();
  }

  /** The user can see `room` now. */
  isVisible(room: string): boolean {
    return this.#active === room && this.#windowFocused;
  }

  /**
   * A new message in `room` (at `seq`; `mention`: it names us): unread unless the user is
   * looking at it, or not in it. The first one since the room was read draws the line.
   */
  countUnread(room: string, seq?: number, mention = false): void {
    if (this.isVisible(room) || !this.#joined.has(room)) return;
    if (this.#unread.get(room) === 0 && seq !== undefined && !this.#firstUnread.has(room)) {
      this.#firstUnread.set(room, seq);
      // The room on screen behind an unfocused window: this line has not been seen yet.
      if (room === this.#active) this.#activeSeen = false;
    }
    this.#unread.increment(room, { mention, ...(seq !== undefined ? { seq } : {}) });
    this.#emitUnread();
  }

  /**
   * Our read position in `room` moved to `upTo` (a `read` of ours from another install): what
   * is at or before it is read here too, and the "New messages" line moves to what is left.
   */
  readElsewhere(room: string, upTo: number): void {
    if (this.#unread.readUpTo(room, upTo)) this.#unreadChanged(room);
  }

  /** The message at `seq` was deleted: it no longer waits to be read. */
  messageDeleted(room: string, seq: number): void {
    if (this.#unread.removeSeq(room, seq)) this.#unreadChanged(room);
  }

  #unreadChanged(room: string): void {
    const first = this.#unread.firstSeq(room);
    if (first === undefined) this.#firstUnread.delete(room);
    else this.#firstUnread.set(room, first);
    this.#emitUnread();
  }

  /** A member's role in `room` as the host last said (ours too). */
  roleOf(room: string, key: string): Role | undefined {
    if (key === this.#ownKey) {
      const own = this.hostRoom(room)?.role;
      if (own) return own;
    }
    return this.#members.roleOf(room, key);
  }

  /** What this host adds to the badge: muted rooms are left out, 'mentions' ones count those. */
  get unreadTotal(): number {
    return this.#unread.badgeTotal(this.#muteOf);
  }

  /** Unread mentions the tray shows apart (rooms muted to 'nothing' left out). */
  get unreadMentions(): number {
    return this.#unread.badgeMentions(this.#muteOf);
  }

  /** A room's notification level changed: the badge and the list follow. */
  muteChanged(): void {
    this.#emitUnread();
  }

  emitUnreadCounts(): void {
    this.#events.unread({
      counts: this.#unread.counts(),
      total: this.unreadTotal,
      mentions: this.#unread.mentions(),
      mentionTotal: this.unreadMentions,
    });
  }

  #emitUnread(): void {
    this.emitUnreadCounts();
    this.emitRooms();
  }

  // ── members ─────────────────────────────────────────────────────────────────────────

  members(room: string): MemberView[] {
    const e2eeOf = this.#e2eeOf;
    // What the host said of the room (offline: what it said last time, from the store).
    const info =
      this.#hostRooms.get(room) ??
      (this.#host ? this.#history.roomInfo(this.#host.id)?.get(room) : undefined);
    const encrypted = info?.e2ee === true;
    return this.#members.views(
      room,
      this.#ownKey,
      (key) => this.#isVerified(key, encrypted),
      e2eeOf ? (key) => e2eeOf(room, key) : undefined,
    );
  }

  presence(presence: Presence): void {
    const { room, event, nick, fp, key } = presence;
    if (event === 'joined') this.#members.joined(room, { nick, fp, key });
    else if (event === 'renamed') this.#members.renamed(room, key, presence.newNick ?? nick);
    else this.#members.left(room, key);
    this.#membersChangedIn(room);
  }

  membersPresent(update: MembersUpdate): void {
    this.#members.setPresent(update.room, update.members);
    this.#membersChangedIn(update.room);
  }

  /** A room event that changes who is a member, or a member's role. */
  membership(change: MembershipChange): void {
    const { room, person } = change;
    if (change.action === 'joined') this.#members.admitted(room, person, change.role ?? 'member');
    else if (change.action === 'role') {
      if (!change.role || !this.#members.roleChanged(room, person.key, change.role)) return;
    } else if (!this.#members.removed(room, person.key)) return;
    this.#membersChangedIn(room);
  }

  /** Our connection is gone: nobody is known to be online. */
  allOffline(): void {
    for (const room of this.#members.allOffline()) this.#membersChangedIn(room);
  }

  /**
   * The host took our new nickname. It tells the others with a presence line, not us: our own
   * row in every member list is renamed here, or it kept the old name until a reload.
   */
  selfRenamed(nick: string): void {
    for (const room of this.#members.roomsOf(this.#ownKey)) {
      this.#members.renamed(room, this.#ownKey, nick);
      this.#membersChangedIn(room);
    }
  }

  /** A room's group changed (devices, a changed key): its list is told again. */
  e2eeMembersChanged(room: string): void {
    this.#membersChangedIn(room);
  }

  /** The user (un)verified `key`: every list it is in shows it. */
  verifiedChanged(key: string): void {
    for (const room of this.#members.roomsOf(key)) this.#membersChangedIn(room);
  }

  /**
   * The full list goes to the UI once per turn per room, however many presence events came in
   * it: a flood of joins costs one list, not one list per join.
   */
  #membersChangedIn(room: string): void {
    this.#membersChanged.add(room);
    this.#membersFlush ??= setImmediate(() => {
      this.#membersFlush = undefined;
      const rooms = [...this.#membersChanged];
      this.#membersChanged.clear();
      for (const changed of rooms) this.#events.members(changed, this.members(changed));
    });
  }

  close(): void {
    if (this.#membersFlush) clearImmediate(this.#membersFlush);
    this.#membersFlush = undefined;
  }

  #requireHost(): HostContext {
    if (!this.#host) throw new Error('no host yet');
    return this.#host;
  }
}

function storedInfo(room: HostRoom): StoredRoomInfo {
  return {
    kind: room.kind,
    open: room.open,
    ...(room.role ? { role: room.role } : {}),
    ...(room.topic ? { topic: room.topic } : {}),
    ...(room.peer ? { peer: room.peer } : {}),
    ...(room.e2ee ? { e2ee: true } : {}),
  };
}
