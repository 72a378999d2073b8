import { fingerprint } from '../../src-shared/fingerprint.ts';
import { mentions } from '../../src-shared/mentions.ts';
import type { HostAddress } from '../../src-shared/invite.ts';
import type { RequestOutput } from '../../src-shared/ipc/contract.ts';
import {
  type ChatMessageView,
  type ConnectionState,
  type HostId,
  type HostSnapshot,
  type HostState,
  InviteRefusal,
  type InviteView,
  type MemberView,
  type RoomEventView,
  type RoomMute,
} from '../../src-shared/ipc/domain.ts';
import type { ChatSession } from '../client/chat-session.ts';
import { ChatSessionError, type ChatSessionOptions } from '../client/chat-session.ts';
import { createHostVerifier } from '../client/host-trust.ts';
import type {
  DevicesUpdate,
  EncryptionState,
  GroupMember,
  InviteRefused,
  RoomRemoved,
  SessionError,
  SessionFatal,
  SessionMessage,
  StateChange,
  Welcome,
} from '../client/session-events.ts';
import type { CryptoBackend } from '../protocol/crypto/crypto-backend.ts';
import type { ChatEvent } from '../protocol/wire/chat-event.ts';
import type { InviteInfo, RoomEvent, RoomInfo } from '../protocol/wire/messages.ts';
import type { KnownHosts } from '../store/known-hosts.ts';
import { askingVerifier } from './asking-verifier.ts';
import type { Authorities } from './authorities.ts';
import type { ConnectTarget } from './connect-target.ts';
import type { DesktopE2ee } from './desktop-e2ee.ts';
import { nextConnectionState } from './connection-state.ts';
import type { ParsedInput } from './dispatch.ts';
import { HostConnection } from './host-connection.ts';
import { hostText } from './host-text.ts';
import { type EventMessage, applyEvent } from './apply-event.ts';
import { fileView } from './file-view.ts';
import type { MessageMeta } from './history-conversation.ts';
import type { LocalHistory } from './local-history.ts';
import type { MessageSearch } from './message-search.ts';
import { ReadSync } from './read-sync.ts';
import type { LocalStoreGuard } from './local-store-guard.ts';
import { membershipFailure } from './membership-error.ts';
import { personView } from './person-view.ts';
import type { RecentHosts } from './recent-hosts.ts';
import { RecentNotifications } from './recent-notifications.ts';
import { removalNotice } from './removal-notice.ts';
import type { RoomMutes } from './room-mutes.ts';
import { type HostRoom, RoomsModel, type UnreadSnapshot } from './rooms-model.ts';
import { ServiceError } from './service-error.ts';
import type { EmitEvent } from './service-events.ts';
import { type ServiceLog, errorName } from './service-log.ts';
import type { SettingsStore } from './settings-store.ts';
import type { VerifiedMembers } from './verified-members.ts';

/** What every host's session shares with the app: identity, stores, clock and the event outlet. */
export interface HostSessionShared {
  readonly identity: { publicKey: Uint8Array; privateKey: Uint8Array };
  readonly ownKey: string;
  readonly ownFp: string;
  readonly backend: CryptoBackend;
  readonly history: LocalHistory;
  readonly store: LocalStoreGuard;
  readonly settings: SettingsStore;
  readonly verified: VerifiedMembers;
  /** The device, its MLS store, the person pins and the suite; absent: no E2EE in this app. */
  readonly e2ee: DesktopE2ee | undefined;
  readonly recentHosts: RecentHosts;
  readonly mutes: RoomMutes;
  readonly now: () => number;
  readonly platform: string;
  readonly log: ServiceLog;
  readonly createSession: (options: ChatSessionOptions) => ChatSession;
  readonly sessionOptions: Partial<ChatSessionOptions> | undefined;
  /** Emits a service event (payloads already carry this host's id). */
  readonly emit: EmitEvent;
  /** This host's unread counts changed: the app adds every host's badge count to them. */
  readonly unread: (hostId: HostId, snapshot: UnreadSnapshot) => void;
  /** Store writes that need not hold up the caller, but whose failure must be logged. */
  readonly persist: (write: Promise<void>) => void;
  /** The search index over every host's local history (kept current here). */
  readonly search: MessageSearch;
  /** How long a room's read position waits before it is sent (default 3 s). */
  readonly readSyncDelayMs?: number;
  /** A message was deleted (a tombstone now): whatever is cached of its file goes. */
  readonly deleted?: (hostId: HostId, room: string, seq: number) => void;
  /** A room's local history was dropped (we are not a member any more): its files' too. */
  readonly forgotten?: (hostId: HostId, room: string) => void;
}

/** An event of ours that is not a row of the timeline (edit, deletion, reaction, read). */
interface PendingEvent {
  readonly room: string;
  readonly event: ChatEvent;
}

/** What starting a session needs that the app reads first (a failure leaves all as it was). */
export interface SessionStart {
  readonly input: ParsedInput<'connect'>;
  readonly target: ConnectTarget;
  readonly knownHosts: KnownHosts;
  readonly authorities: Awaited<ReturnType<Authorities['current']>>;
}

/**
 * One host in the sidebar, from the Connect that added it until the user disconnects from it:
 * its running connection (HostConnection, replaced on reconnecting by hand), its rooms
 * (RoomsModel: list, unread, members, the "New messages" line), its connection state and its
 * notifications. Every event it emits names its host: two hosts can each have a `#lobby`.
 * DesktopService owns the shared parts (identity, stores) and routes requests here by hostId.
 */
export class HostSession {
  readonly id: HostId;
  readonly address: HostAddress;
  /** When the host joined the sidebar: orders the sidebar, and the hosts restored on start. */
  readonly openedAt: number;
  readonly #shared: HostSessionShared;
  readonly #rooms: RoomsModel;
  readonly #notifications: RecentNotifications;
  /** The connection, from Connect until it stops. */
  #live: HostConnection | undefined;
  #connection: ConnectionState;
  /** The session stopped for good (changed key, nick taken…): retrying would be refused again. */
  #fatal = false;
  /** The key of the invite link the last Connect came with: a retry expects it too. */
  #inviteKey: Uint8Array | undefined;
  /**
   * Each end-to-end encrypted room's group as the session last reported it (`devices`): per
   * member key, its person key, devices and whether that person key is not the pinned one.
   */
  readonly #groups = new Map<string, Map<string, GroupMember>>();
  /**
   * Our edits, deletions, reactions and reads the host has not acknowledged yet, by client id:
   * applied here once the ack gives them their seq (the host does not echo them back live).
   */
  readonly #pendingEvents = new Map<string, PendingEvent>();
  readonly #readSync: ReadSync;

  constructor(shared: HostSessionShared, address: HostAddress, id: HostId, openedAt: number) {
    this.#shared = shared;
    this.#readSync = new ReadSync({
      ...(shared.readSyncDelayMs !== undefined ? { delayMs: shared.readSyncDelayMs } : {}),
      send: (room, upTo) => this.#sendRead(room, upTo),
    });
    this.address = address;
    this.id = id;
    this.openedAt = openedAt;
    this.#notifications = new RecentNotifications(shared.platform);
    this.#connection = { status: 'idle', host: address.host, port: address.port };
    this.#rooms = new RoomsModel({
      history: shared.history,
      store: shared.store,
      ownKey: shared.ownKey,
      // A mark holds for the person key accepted for them: a changed key drops it.
      // In an end-to-end encrypted room only a compared safety number counts.
      isVerified: (key, encrypted) => {
        const person = shared.e2ee?.pins.personOf(key);
        return encrypted
          ? shared.verified.hasCompared(key, person)
          : shared.verified.has(key, person);
      },
      e2eeOf: (room, key) => {
        const group = this.#groups.get(room);
        if (!group) return undefined;
        const member = group.get(key);
        return { devices: member?.devices.length ?? 0, keyChanged: member?.keyChanged === true };
      },
      muteOf: (room) => shared.mutes.get(id, room),
      events: {
        rooms: (rooms) => shared.emit('rooms', { hostId: id, rooms }),
        unread: (snapshot) => shared.unread(id, snapshot),
        members: (room, members) => shared.emit('members', { hostId: id, room, members }),
      },
    });
    this.#rooms.aboutHost(address);
  }

  // ── for the app ─────────────────────────────────────────────────────────────────────

  get connection(): HostState {
    return { ...this.#connection, hostId: this.id };
  }

  snapshot(): HostSnapshot {
    return { connection: this.connection, rooms: this.#rooms.list() };
  }

  /** What this host adds to the badge (muted rooms left out). */
  get unreadTotal(): number {
    return this.#rooms.unreadTotal;
  }

  /** Unread mentions the tray shows apart. */
  get unreadMentions(): number {
    return this.#rooms.unreadMentions;
  }

  get activeRoom(): string | null {
    return this.#rooms.active;
  }

  setWindowFocused(focused: boolean): void {
    this.#rooms.setWindowFocused(focused);
    const active = this.#rooms.active;
    if (focused && active) this.#maybeRead(active);
    else if (active) this.#readSync.leave(active);
  }

  verifiedChanged(key: string): void {
    this.#rooms.verifiedChanged(key);
  }

  /** The person key `key`'s devices carry in a group of this host, if one has them. */
  personOf(key: string): string | undefined {
    for (const group of this.#groups.values()) {
      const member = group.get(key);
      if (member) return member.person;
    }
    return undefined;
  }

  /** The user accepted `key`'s changed person key: the warning goes wherever it shows. */
  keyAccepted(key: string): void {
    for (const [room, group] of this.#groups) {
      const member = group.get(key);
      if (!member?.keyChanged) continue;
      group.set(key, { ...member, keyChanged: false });
      this.#rooms.e2eeMembersChanged(room);
    }
    this.#rooms.verifiedChanged(key);
  }

  /** The user's answer to one of this host's trust questions; false if it is not open here. */
  answerTrust(requestId: string, trust: boolean): boolean {
    return this.#live?.answerTrust(requestId, trust) ?? false;
  }

  /**
   * Starts (or restarts) the connection: the previous one, if any, says goodbye first. Returns
   * the state the UI shows until the session reports.
   */
  async start(start: SessionStart): Promise<HostState> {
    const { input, target, knownHosts, authorities } = start;
    const { address, inviteKey, inviteRoom, inviteToken } = target;
    const shared = this.#shared;
    await this.stop();
    this.#fatal = false;
    this.#inviteKey = inviteKey;
    const recent = shared.recentHosts.find(address);
    const rooms = this.#rooms.roomsToJoin(inviteRoom, recent?.room);
    const host = this.#rooms.host;
    if (!host) throw new ServiceError('internal', 'no host to connect to');
    const live = new HostConnection({
      host,
      viaInvite: inviteKey !== undefined,
      ...(inviteToken !== undefined && inviteRoom !== undefined ? { inviteRoom } : {}),
      roomsWithPast: rooms.filter((room) => shared.history.hasMessages(host.id, room)),
      ask: (question) => shared.emit('trustRequired', { ...question, hostId: this.id }),
      createSession: (askTrust) =>
        shared.createSession({
          ...shared.sessionOptions,
          address,
          identity: shared.identity,
          nick: input.nick,
          trust: askingVerifier(
            (ask) =>
              createHostVerifier({
                address,
                ...(inviteKey ? { inviteKey } : {}),
                knownHosts,
                authorities,
                now: shared.now,
                policy: { confirmNewHost: ask },
              }),
            askTrust,
          ),
          rooms,
          ...(inviteToken === undefined ? {} : { inviteToken }),
          backend: shared.backend.name,
          outboxStore: shared.history.outboxStore(host.id),
          now: shared.now,
          ...(shared.e2ee
            ? {
                e2ee: {
                  device: shared.e2ee.device,
                  store: shared.e2ee.store,
                  pins: shared.e2ee.pins,
                  suite: shared.e2ee.suite,
                },
              }
            : {}),
        }),
    });
    this.#live = live;
    this.#bind(live);
    this.#setConnection({
      status: 'connecting',
      host: address.host,
      port: address.port,
      nick: input.nick,
      ...(recent ? { hostFingerprint: recent.fingerprint } : {}),
    });
    // Back in the sidebar after a restart: the host comes back on the next start too.
    if (recent) shared.persist(shared.recentHosts.setOpen(address, this.openedAt));
    this.#rooms.emitRooms();
    this.#rooms.emitUnreadCounts();
    live.session.start();
    return this.connection;
  }

  /** Stops the connection (if any) and waits until its outbox is saved. */
  async stop(): Promise<void> {
    const live = this.#live;
    if (!live) return;
    await live.stop();
    // stop() reports 'stopped', which clears #live; a session that was still starting may not.
    if (this.#live === live) {
      this.#live = undefined;
      this.#setConnection({ ...this.#connection, status: 'idle', retryAt: undefined });
    }
  }

  /** The session is over for good: the last state the UI is told about this host. */
  async end(): Promise<HostState> {
    await this.stop();
    this.#rooms.close();
    this.#readSync.close();
    const { retryAt: _retryAt, ...rest } = this.#connection;
    return { ...rest, status: 'idle', hostId: this.id };
  }

  /**
   * Retry at once instead of waiting for the countdown. Returns false when there is no
   * connection left to retry (it stopped): the app starts a new one.
   */
  retryNow(): boolean {
    const live = this.#live;
    if (!live || live.stopping) return false;
    live.retryNow();
    return true;
  }

  /** Waiting to reconnect (or given up without being refused): worth trying again now. */
  get waitsToReconnect(): boolean {
    const { status } = this.#connection;
    return status === 'reconnecting' || (status === 'offline' && !this.#fatal);
  }

  /**
   * An invite for this host naming another key than the one it presents now is wrong or
   * forged: refused before the working connection is ended for it (it would fail anyway).
   */
  assertInviteMatches(inviteKey: Uint8Array): void {
    const { status, hostFingerprint } = this.#connection;
    const expected = fingerprint(inviteKey);
    if (status === 'connected' && hostFingerprint !== undefined && hostFingerprint !== expected) {
      throw new ServiceError(
        'refused',
        `the invite link's host key (${expected}) is not the one ${this.id} presents ` +
          `(${hostFingerprint}); nothing was sent, and the connection is unchanged`,
      );
    }
  }

  /** The host key the last Connect's invite link named, if it came with one. */
  get inviteKey(): Uint8Array | undefined {
    return this.#inviteKey;
  }

  /** The nick to reconnect with: the one in use, or the one connected with. */
  get nick(): string | undefined {
    return this.#connection.nick;
  }

  // ── requests ────────────────────────────────────────────────────────────────────────

  send(input: ParsedInput<'send'>): { id: string } {
    const live = this.#requireLive();
    const { history, store } = this.#shared;
    const reply = input.replyTo;
    const id = this.#sessionCall(() =>
      live.session.send(input.room, input.text, reply === undefined ? {} : { reply }),
    );
    const view: ChatMessageView = {
      room: input.room,
      id,
      from: live.session.nick,
      fp: this.#shared.ownFp,
      key: this.#shared.ownKey,
      text: input.text,
      ts: this.#shared.now(),
      own: true,
      status: 'queued',
    };
    const meta: MessageMeta | undefined = reply === undefined ? undefined : { reply };
    store.run('keep your message', () => history.storeQueued(live.host.id, view, meta));
    // Read back: the quote of the answered message comes from our own copy.
    const shown =
      (reply === undefined
        ? undefined
        : this.#read(() => history.find(live.host.id, this.#shared.ownKey, id))) ?? view;
    this.#shared.emit('message', { ...shown, hostId: this.id });
    return { id };
  }

  /** Replaces the text of one of our own messages, for everyone. */
  editMessage(input: ParsedInput<'editMessage'>): { id: string } {
    const target = this.#target(input.room, input.seq);
    if (target.key !== this.#shared.ownKey) {
      throw new ServiceError('forbidden', 'only your own messages can be edited');
    }
    return this.#sendEvent(input.room, { type: 'edit', target: input.seq, text: input.text });
  }

  /** Deletes a message for everyone: our own, or any where we are an owner or admin. */
  deleteMessage(input: ParsedInput<'deleteMessage'>): { id: string } {
    const target = this.#target(input.room, input.seq);
    if (target.key !== this.#shared.ownKey && !this.#isAdmin(input.room, this.#shared.ownKey)) {
      throw new ServiceError(
        'forbidden',
        "only the room's owners and admins can delete other people's messages",
      );
    }
    return this.#sendEvent(input.room, { type: 'delete', target: input.seq });
  }

  /** Adds (`on`) or takes back our reaction to a message. */
  react(input: ParsedInput<'react'>): { id: string } {
    this.#target(input.room, input.seq);
    return this.#sendEvent(input.room, {
      type: 'react',
      target: input.seq,
      emoji: input.emoji,
      on: input.on,
    });
  }

  /** A message of `room` this install holds, not deleted: what an event may be about. */
  #target(room: string, seq: number): ChatMessageView {
    const host = this.#requireLive().host.id;
    const target = this.#shared.history.messageAt(host, room, seq);
    if (!target || target.deleted) {
      throw new ServiceError(
        'not-found',
        'that message is not here any more (deleted, or not kept on this device)',
      );
    }
    return target;
  }

  /** Whether `key` may delete others' messages as far as we know (unknown: the host checked). */
  #mayDeleteOthers(room: string, key: string): boolean {
    return this.#rooms.roleOf(room, key) !== 'member';
  }

  #isAdmin(room: string, key: string): boolean {
    const role = this.#rooms.roleOf(room, key);
    return role === 'owner' || role === 'admin';
  }

  /** Queues an event that is not a row (edit, deletion, reaction, read): applied on its ack. */
  #sendEvent(room: string, event: ChatEvent): { id: string } {
    const live = this.#requireLive();
    const id = this.#sessionCall(() => live.session.sendEvent(room, event));
    this.#pendingEvents.set(id, { room, event });
    return { id };
  }

  /** Tells our other installs how far we have read `room` (ReadSync decides when). */
  #sendRead(room: string, upTo: number): boolean {
    const live = this.#live;
    if (!live || !this.#rooms.isJoined(room)) return false;
    try {
      this.#sendEvent(room, { type: 'read', upTo });
    } catch {
      // Not writable now (an encrypted room still joining, the session stopping): next time.
      return false;
    }
    this.#shared.store.run('keep your read position', () =>
      this.#shared.history.setReadUpTo(live.host.id, room, upTo),
    );
    return true;
  }

  /** `room` is on screen in a focused window: its read position may have to be sent. */
  #maybeRead(room: string): void {
    const live = this.#live;
    if (!live || !this.#rooms.isVisible(room)) return;
    const { history } = this.#shared;
    const known = history.readUpTo(live.host.id, room);
    if (known !== undefined) this.#readSync.known(room, known);
    this.#readSync.seen(room, history.newestSeq(live.host.id, room));
  }

  /**
   * A read of the local history for a view: a failure is logged, not told (the write that
   * matters was told), and — unlike the store guard — a read that works does not make the next
   * failing write be told again.
   */
  #read<T>(call: () => T): T | undefined {
    try {
      return call();
    } catch (error) {
      this.#shared.log('warn', 'local-store-read-failed', { error: errorName(error) });
      return undefined;
    }
  }

  /** A message view as the UI gets it: whether it names us. */
  #present(view: ChatMessageView): ChatMessageView {
    const nick = this.#live?.session.nick ?? this.#connection.nick;
    if (view.own || view.deleted || nick === undefined || !mentions(view.text, nick)) return view;
    return { ...view, mentioned: true };
  }

  joinRoom(room: string): void {
    const live = this.#requireLive();
    this.#sessionCall(() => live.session.join(room));
    live.askedToJoin(room);
    live.joined(room, this.#shared.history.hasMessages(live.host.id, room));
    this.#rooms.joined(room);
  }

  leaveRoom(room: string): void {
    const live = this.#requireLive();
    this.#sessionCall(() => live.session.leave(room));
    live.left(room);
    this.#rooms.left(room);
  }

  /** The user looks at `room` on this host (null: at another host, or none). */
  setActive(room: string | null): void {
    if (room === null && this.#rooms.active === null) return;
    if (room) this.#notifications.forgetRoom(room);
    const previous = this.#rooms.active;
    if (previous !== null && previous !== room) this.#readSync.leave(previous);
    this.#rooms.setActive(room);
    if (room) this.#maybeRead(room);
    if (room && this.#rooms.isJoined(room)) {
      this.#shared.persist(this.#shared.recentHosts.update(this.address, { room }));
    }
  }

  async setMute(room: string, mute: RoomMute): Promise<void> {
    const { changed, written } = this.#shared.mutes.set(this.id, room, mute);
    if (changed) this.#rooms.muteChanged();
    await written;
  }

  async loadHistory(input: ParsedInput<'loadHistory'>): Promise<RequestOutput<'loadHistory'>> {
    const page =
      input.aroundSeq === undefined
        ? await this.#loadPage(input)
        : await this.#loadAround(input.room, input.aroundSeq, input.limit);
    return { ...page, messages: page.messages.map((m) => this.#present(m)) };
  }

  /**
   * The messages around `seq` (to jump to a reply or a search result): from the local history,
   * after asking the host for them when this install does not hold `seq`.
   */
  async #loadAround(
    room: string,
    seq: number,
    limit: number,
  ): Promise<RequestOutput<'loadHistory'>> {
    const host = this.#rooms.host;
    if (!host) return { messages: [], events: [], more: false };
    const { history } = this.#shared;
    const read = () => history.around(host.id, room, seq, limit);
    const holds = (page: ReturnType<typeof read>) =>
      page.messages.some((m) => m.seq === seq) || page.events.some((e) => e.seq === seq);
    const local = read();
    const live = this.#live;
    if (holds(local) || !live || !(await live.whenSynced(room))) return local;
    // Far back: the host sends the page that ends just after it (stored, not emitted).
    await live.askOlder(room, seq + Math.ceil(limit / 2) + 1, limit);
    return read();
  }

  async #loadPage(input: ParsedInput<'loadHistory'>): Promise<RequestOutput<'loadHistory'>> {
    const host = this.#rooms.host;
    if (!host) return { messages: [], events: [], more: false };
    const { history } = this.#shared;
    const read = () => history.page(host.id, input.room, input.beforeSeq, input.limit);
    // Messages and room events share the room's seqs: a page counts both.
    const rows = (page: { messages: unknown[]; events: unknown[] }) =>
      page.messages.length + page.events.length;
    let local = read();
    const live = this.#live;
    if (!live) return local;
    if (rows(local) < input.limit) {
      // Until the join's replay is complete the host cannot be asked for older messages, and
      // what is kept here may not even be the newest yet: wait for it, not for ever.
      if (!(await live.whenSynced(input.room))) {
        // The host may hold older ones; with none here, there is nothing to page from.
        return { ...local, more: local.more || rows(local) > 0 };
      }
      local = read();
    }
    const seqs = [
      ...local.messages.flatMap((m) => (m.seq === undefined ? [] : [m.seq])),
      ...local.events.map((e) => e.seq),
    ];
    const before =
      seqs.length > 0 ? Math.min(...seqs) : (input.beforeSeq ?? Number.MAX_SAFE_INTEGER);
    if (before <= 0) return local;
    // A full page says nothing of where the room starts (a first join keeps exactly two pages):
    // only the host, asked for the next page, can.
    if (rows(local) >= input.limit) return { ...local, more: true };
    // Not enough kept here: ask the host for the older ones, then read again.
    const hostMore = await live.askOlder(input.room, before, input.limit - rows(local));
    if (hostMore === undefined) return local;
    const again = read();
    // `more` with nothing to page from would have the timeline ask again at once, for ever.
    return { ...again, more: rows(again) > 0 && (again.more || hostMore) };
  }

  typing(room: string): void {
    this.#live?.session.typing(room);
  }

  setNick(nick: string): void {
    const live = this.#requireLive();
    this.#sessionCall(() => live.session.setNick(nick));
  }

  getMembers(room: string): MemberView[] {
    return this.#rooms.members(room);
  }

  // ── membership requests ─────────────────────────────────────────────────────────────

  async createInvite(input: ParsedInput<'createInvite'>): Promise<RequestOutput<'createInvite'>> {
    const { link, invite } = await this.membership((session) =>
      session.createInvite(input.room, {
        role: input.role,
        uses: input.uses,
        expiresInMs: input.expiresInMs,
      }),
    );
    return {
      link,
      id: invite.id,
      role: invite.role,
      expiresAt: invite.expiresAt,
      usesLeft: invite.usesLeft,
    };
  }

  async listInvites(room: string): Promise<InviteView[]> {
    const invites = await this.membership((session) => session.listInvites(room));
    return invites.map(inviteView);
  }

  /** A membership request on the current session; the host's refusal in the UI's terms. */
  async membership<T>(call: (session: ChatSession) => Promise<T>): Promise<T> {
    const live = this.#requireLive();
    try {
      return await call(live.session);
    } catch (error) {
      throw membershipFailure(error);
    }
  }

  /** The running session, for file transfers (file-requests.ts); not connected: refused. */
  fileSession(): ChatSession {
    return this.#requireLive().session;
  }

  // ── the session ─────────────────────────────────────────────────────────────────────

  /** Session events reach the app only while their connection is this host's current one. */
  #bind(live: HostConnection): void {
    const { session } = live;
    const shared = this.#shared;
    const hostId = this.id;
    const current = () => this.#live === live;
    session.on('state', (change) => current() && this.#onState(live, change));
    session.on('welcome', (welcome) => current() && this.#onWelcome(live, welcome));
    session.on('message', (message) => current() && this.#onMessage(live, message));
    session.on('ack', (ack) => {
      if (!current()) return;
      // Restored from the outbox after a restart, an event is known only from its ack.
      const pending =
        this.#pendingEvents.get(ack.id) ??
        (ack.event && ack.event.type !== 'text' && ack.event.type !== 'file'
          ? { room: ack.room, event: ack.event }
          : undefined);
      if (pending) {
        this.#pendingEvents.delete(ack.id);
        this.#applyEvent(live, {
          room: pending.room,
          seq: ack.seq,
          key: shared.ownKey,
          from: live.session.nick,
          event: pending.event,
        });
        return;
      }
      const sent = shared.store.run('mark a message sent', () =>
        shared.history.markSent(live.host.id, shared.ownKey, ack.id, ack.seq, ack.ts),
      );
      // Now it has a place: search can find it (and jump to it).
      if (sent) shared.search.put(live.host.id, sent);
      shared.emit('messageStatus', {
        hostId,
        room: ack.room,
        id: ack.id,
        status: 'sent',
        seq: ack.seq,
        ts: ack.ts,
      });
    });
    session.on('presence', (presence) => {
      if (!current()) return;
      this.#rooms.presence(presence);
      const { room, event, nick, fp, key } = presence;
      shared.emit('presence', {
        hostId,
        room,
        event,
        nick,
        fp,
        key,
        ...(presence.newNick ? { newNick: presence.newNick } : {}),
        ts: shared.now(),
      });
    });
    session.on('members', (update) => current() && this.#rooms.membersPresent(update));
    session.on('roomList', ({ rooms }) => current() && this.#onRoomList(live, rooms));
    session.on('roomEvent', (event) => current() && this.#onRoomEvent(live, event));
    session.on('removed', (removed) => current() && this.#onRemoved(live, removed));
    session.on('redeemed', ({ room }) => {
      if (!current()) return;
      live.pendingInviteRoom = undefined;
      shared.persist(shared.recentHosts.update(live.host.address, { room }));
    });
    session.on('inviteRefused', (refused) => current() && this.#onInviteRefused(live, refused));
    session.on('synced', ({ room }) => {
      if (!current()) return;
      live.synced(room);
      this.#maybeRead(room);
    });
    session.on('typing', ({ room, nick, fp }) => {
      if (current() && fp !== shared.ownFp) shared.emit('typing', { hostId, room, nick, fp });
    });
    session.on('nick', ({ nick }) => {
      if (!current()) return;
      this.#setConnection({ ...this.#connection, nick });
      this.#rooms.selfRenamed(nick);
      shared.persist(shared.recentHosts.update(live.host.address, { nick }));
    });
    session.on('history-end', (end) => current() && live.olderEnded(end.room, end.more));
    session.on('encryption', (state) => current() && this.#onEncryption(state));
    session.on('devices', (update) => current() && this.#onDevices(update));
    session.on('keyChanged', ({ key }) => {
      if (!current()) return;
      // The next `devices` carries the flag too; until then every list of theirs shows it.
      for (const [room, group] of this.#groups) {
        const member = group.get(key);
        if (member && !member.keyChanged) {
          group.set(key, { ...member, keyChanged: true });
          this.#rooms.e2eeMembersChanged(room);
        }
      }
      shared.log('warn', 'member-key-changed', {});
    });
    session.on('error', (error) => current() && this.#onError(live, error));
    session.on('fatal', (fatal) => current() && this.#onFatal(live, fatal));
  }

  #onState(live: HostConnection, change: StateChange): void {
    if (change.state === 'reconnecting') {
      this.#rooms.allOffline();
      live.lost();
    } else if (change.state === 'stopped') {
      this.#live = undefined;
      live.abandon();
      this.#rooms.allOffline();
    }
    const state = nextConnectionState(this.#connection, live, change, this.#shared.now());
    if (state) this.#setConnection(state);
  }

  #onWelcome(live: HostConnection, welcome: Welcome): void {
    live.welcomed();
    const room = this.#rooms.welcome(welcome.host.rooms);
    this.#shared.persist(
      this.#shared.recentHosts.record(
        {
          host: live.host.address.host,
          port: live.host.address.port,
          nick: welcome.nick,
          room,
          fingerprint: welcome.host.fingerprint,
          lastUsed: this.#shared.now(),
        },
        this.openedAt,
      ),
    );
  }

  #onEncryption(state: EncryptionState): void {
    if (state.state === 'not-encrypted') return;
    if (state.state === 'broken') {
      this.#shared.log('warn', 'e2ee-broken', {});
    }
    this.#rooms.setEncryption(state.room, state.state);
  }

  #onDevices(update: DevicesUpdate): void {
    this.#groups.set(update.room, new Map(update.members.map((member) => [member.key, member])));
    this.#rooms.e2eeMembersChanged(update.room);
  }

  #onMessage(live: HostConnection, message: SessionMessage): void {
    const shared = this.#shared;
    const own = message.key === shared.ownKey;
    const failed = message.e2ee?.status === 'failed' ? message.e2ee : undefined;
    // A plaintext line from a host or client that knows no events is a line of text.
    const event: ChatEvent | undefined =
      message.event ??
      (message.deleted || failed ? undefined : { type: 'text', text: message.text });
    if (event && event.type !== 'text' && event.type !== 'file') {
      this.#applyEvent(live, { ...message, event });
      return;
    }
    const meta: MessageMeta | undefined =
      event === undefined
        ? undefined
        : {
            ...(event.reply !== undefined ? { reply: event.reply } : {}),
            ...(event.type === 'file' ? { file: event.file } : {}),
          };
    const view: ChatMessageView = {
      room: message.room,
      id: message.id,
      seq: message.seq,
      from: message.from,
      fp: message.fp,
      key: message.key,
      // Decrypted by the session in an end-to-end encrypted room ('' if it could not be).
      text: event === undefined ? '' : event.type === 'file' ? (event.text ?? '') : event.text,
      ts: message.ts,
      own,
      status: 'sent',
      ...(message.history ? { history: true } : {}),
      ...(message.deleted ? { deleted: true } : {}),
      ...(failed ? { e2ee: { status: 'failed' as const, reason: failed.reason } } : {}),
      ...(message.e2ee?.status === 'ok' && message.e2ee.keyChanged
        ? { e2ee: { status: 'ok' as const, keyChanged: true as const } }
        : {}),
    };
    // A store that cannot write still shows the message; the user is told once.
    const written = shared.store.run('keep a message', () =>
      shared.history.storeReceived(live.host.id, view, meta),
    );
    const stored = written ?? 'new';
    if (stored === 'invalid') return;
    if (stored === 'confirmed') {
      shared.emit('messageStatus', {
        hostId: this.id,
        room: view.room,
        id: view.id,
        status: 'sent',
        seq: message.seq,
        ts: message.ts,
      });
      return;
    }
    if (stored !== 'new') return;
    // As shown: the quote of the answered message, or an edit that came first (paging back,
    // history) — read back from the store; a plain live line is shown as it came.
    const readBack = written !== undefined && (meta?.reply !== undefined || message.history);
    const readView = readBack
      ? this.#read(() => shared.history.messageAt(live.host.id, view.room, message.seq))
      : undefined;
    const shown = this.#present(
      // The store keeps no `history` flag: it is this delivery's.
      (readView ? { ...readView, ...(message.history ? { history: true } : {}) } : undefined) ??
        (event?.type === 'file' && !message.deleted
          ? { ...view, file: fileView(event.file) }
          : view),
    );
    shared.search.put(live.host.id, shown);
    // The answer to our own request for older messages goes back through loadHistory.
    const answersRequest = live.answersOlderRequest(message);
    if (!answersRequest) shared.emit('message', { ...shown, hostId: this.id });
    if (shown.deleted) {
      this.#deleted(view.room, message.seq);
      return;
    }
    this.#maybeRead(view.room);
    if (own) return;
    const mention = shown.mentioned === true;
    // Read already on another install of ours (its `read` came first): not unread here.
    const readUpTo = this.#read(() => shared.history.readUpTo(live.host.id, message.room));
    const readElsewhere = readUpTo !== undefined && message.seq <= readUpTo;
    if (live.isNews(message) && !answersRequest && !readElsewhere) {
      this.#rooms.countUnread(message.room, message.seq, mention);
    }
    const mute = shared.mutes.get(this.id, view.room);
    const notification = this.#notifications.decide(
      { ...view, text: view.text || (shown.file?.name ?? '') },
      message.history === true,
      {
        windowFocused: this.#rooms.windowFocused,
        roomVisible: this.#rooms.active === view.room,
        settings: shared.settings.current,
        now: shared.now(),
        roomMuted: mute === 'nothing' || (mute === 'mentions' && !mention),
      },
    );
    if (notification) shared.emit('notify', { ...notification, hostId: this.id });
  }

  /**
   * An edit, deletion, reaction or read position (ours once acknowledged, or anyone's from the
   * host): applied to the message it is about, which is shown again under its own id. None of
   * them is a row, counts as unread or notifies.
   */
  #applyEvent(live: HostConnection, message: EventMessage): void {
    const shared = this.#shared;
    const host = live.host.id;
    const outcome = applyEvent(
      {
        history: shared.history,
        store: shared.store,
        host,
        ownKey: shared.ownKey,
        mayDeleteOthers: (room, key) => this.#mayDeleteOthers(room, key),
        log: shared.log,
      },
      message,
    );
    if (outcome.readUpTo !== undefined) this.#readElsewhere(message.room, outcome.readUpTo);
    if (outcome.deleted !== undefined) this.#deleted(message.room, outcome.deleted);
    if (!outcome.changed) return;
    const shown = this.#present(outcome.changed);
    shared.search.put(host, shown);
    shared.emit('message', { ...shown, hostId: this.id });
  }

  /** Our read position in `room` moved (another install of ours read it; already stored). */
  #readElsewhere(room: string, upTo: number): void {
    this.#readSync.known(room, upTo);
    this.#rooms.readElsewhere(room, upTo);
  }

  /** A room's history was dropped: search, read sync and cached files let go of it too. */
  #roomForgotten(room: string): void {
    this.#readSync.forget(room);
    this.#shared.search.forgetRoom();
    this.#shared.forgotten?.(this.id, room);
  }

  /** The message at `seq` is a tombstone now: not unread, nothing of its file kept. */
  #deleted(room: string, seq: number): void {
    this.#rooms.messageDeleted(room, seq);
    this.#shared.deleted?.(this.id, room, seq);
  }

  /** The host's list of the rooms this key may see: the rooms with a role are joined. */
  #onRoomList(live: HostConnection, rooms: readonly RoomInfo[]): void {
    const { history } = this.#shared;
    const hostRooms = rooms.map(hostRoom);
    const joining = new Set(live.session.rooms);
    const forgotten = this.#rooms.roomList(hostRooms, {
      joins: (room) => joining.has(room),
      join: (first) => {
        live.session.join(first);
        live.joined(first, history.hasMessages(live.host.id, first));
      },
      complete: live.firstList(),
      keeps: (room) => live.keeps(room),
      redeeming: live.pendingInviteRoom !== undefined,
    });
    live.forgotten(forgotten);
    this.#recentRoomGone(live, forgotten);
    for (const room of forgotten) this.#roomForgotten(room);
    for (const room of hostRooms) {
      if (room.role !== undefined && joining.has(room.name)) {
        live.joined(room.name, history.hasMessages(live.host.id, room.name));
      }
    }
  }

  #onRoomEvent(live: HostConnection, event: RoomEvent): void {
    const shared = this.#shared;
    const view: RoomEventView = {
      room: event.room,
      seq: event.seq,
      ts: event.ts,
      action: event.action,
      ...(event.actor ? { actor: personView(event.actor) } : {}),
      ...(event.target ? { target: personView(event.target) } : {}),
      ...(event.role ? { role: event.role } : {}),
      ...(event.topic !== undefined ? { topic: event.topic } : {}),
      ...(event.history ? { history: true } : {}),
    };
    const stored =
      shared.store.run('keep a room event', () =>
        shared.history.storeEvent(live.host.id, view, shared.ownKey),
      ) ?? 'new';
    if (stored !== 'new') return;
    // A live event changes the member list; one from history is in the list already.
    if (!event.history) this.#membershipChanged(view);
    if (!live.answersOlderRequest(view)) shared.emit('roomEvent', { ...view, hostId: this.id });
  }

  #membershipChanged(event: RoomEventView): void {
    const { room, action } = event;
    if (action === 'joined' || action === 'left') {
      if (event.actor) this.#rooms.membership({ room, action, person: event.actor });
    } else if (action === 'removed' || action === 'banned' || action === 'role') {
      if (event.target) {
        this.#rooms.membership({
          room,
          action,
          person: event.target,
          ...(event.role ? { role: event.role } : {}),
        });
      }
    }
  }

  /** We are no longer a member of a room: it goes, and the user is told by whom. */
  #onRemoved(live: HostConnection, removed: RoomRemoved): void {
    const shared = this.#shared;
    const { room, reason } = removed;
    live.left(room);
    this.#groups.delete(room);
    this.#rooms.removed(room);
    this.#roomForgotten(room);
    this.#recentRoomGone(live, [room]);
    this.#notifications.forgetRoom(room);
    const by = removed.by ? personView(removed.by) : undefined;
    shared.log('info', 'room-removed', { reason });
    shared.emit('roomRemoved', { hostId: this.id, room, reason, ...(by ? { by } : {}) });
    const notice = removalNotice(
      { room, reason, ...(by ? { by: by.nick } : {}) },
      {
        windowFocused: this.#rooms.windowFocused,
        settings: shared.settings.current,
        platform: shared.platform,
      },
    );
    if (notice) shared.emit('notify', { ...notice, hostId: this.id });
  }

  /** The room remembered for this host is not ours any more: the next connect opens another. */
  #recentRoomGone(live: HostConnection, gone: readonly string[]): void {
    const { recentHosts } = this.#shared;
    const recent = recentHosts.find(live.host.address);
    if (!recent || !gone.includes(recent.room)) return;
    const next = this.#rooms.list().find((r) => r.joined)?.name;
    if (next) this.#shared.persist(recentHosts.update(live.host.address, { room: next }));
  }

  /** The invite we came with was not taken: the connection stays, for our other rooms. */
  #onInviteRefused(live: HostConnection, refused: InviteRefused): void {
    const room = live.pendingInviteRoom;
    live.pendingInviteRoom = undefined;
    if (room !== undefined) {
      live.refusedInviteRoom = room;
      this.#rooms.inviteRefused(room);
    }
    const code = InviteRefusal.safeParse(refused.code);
    this.#shared.log('warn', 'invite-refused', { code: refused.code });
    this.#shared.emit('inviteRefused', {
      hostId: this.id,
      code: code.success ? code.data : 'invite-unknown',
      message: hostText(refused.message),
      ...(room !== undefined ? { room } : {}),
    });
  }

  #onError(live: HostConnection, error: SessionError): void {
    const shared = this.#shared;
    if (error.dropped && this.#pendingEvents.delete(error.dropped.id)) {
      // An edit, deletion or reaction the host refused: no row to mark, the error says why.
    } else if (error.dropped) {
      const { dropped } = error;
      shared.store.run('mark a message failed', () =>
        shared.history.markFailed(live.host.id, shared.ownKey, dropped.id),
      );
      shared.emit('messageStatus', {
        hostId: this.id,
        room: dropped.room,
        id: dropped.id,
        status: 'failed',
        error: error.message,
      });
    }
    if (error.code === 'unknown-room' && error.room) {
      // The invite's room: its join was answered as a room that is not there for us because
      // the host refused the invite, which `inviteRefused` tells (it may come just after, as
      // the session settles the redeem a moment later than it reports the join's error).
      // So is a room we were removed from while away: the host's list no longer had it.
      if (
        error.room === live.pendingInviteRoom ||
        error.room === live.refusedInviteRoom ||
        live.wasForgotten(error.room)
      ) {
        live.refused(error);
        return;
      }
      this.#rooms.gone(error.room);
    }
    live.refused(error);
    shared.log('warn', 'session-error', { code: error.code });
    shared.emit('error', { hostId: this.id, code: error.code, message: hostText(error.message) });
  }

  #onFatal(live: HostConnection, fatal: SessionFatal): void {
    live.fatalReason = fatal.message;
    this.#fatal = true;
    this.#shared.log('warn', 'session-fatal', { code: fatal.code });
    if (fatal.code === 'host-key-mismatch') {
      this.#shared.emit('hostKeyChanged', {
        hostId: this.id,
        host: live.host.address.host,
        port: live.host.address.port,
        expectedFingerprint: fatal.expectedFingerprint,
        actualFingerprint: fatal.actualFingerprint,
        expectedFrom: fatal.expectedFrom,
        ...(fatal.certificateProblem ? { certificateProblem: fatal.certificateProblem } : {}),
      });
    } else if (fatal.code !== 'host-key-unknown') {
      this.#shared.emit('error', { hostId: this.id, code: fatal.code, message: fatal.message });
    }
  }

  // ── plumbing ────────────────────────────────────────────────────────────────────────

  #requireLive(): HostConnection {
    const live = this.#live;
    if (!live) {
      throw new ServiceError(
        'not-connected',
        `not connected to ${this.id} now; wait until it is back, or connect again`,
      );
    }
    return live;
  }

  /** Runs a ChatSession call, turning its refusals into errors the user can act on. */
  #sessionCall<T>(call: () => T): T {
    try {
      return call();
    } catch (error) {
      if (!(error instanceof ChatSessionError)) throw error;
      switch (error.code) {
        case 'not-joined':
          throw new ServiceError('not-found', error.message);
        case 'stopped':
          throw new ServiceError('not-connected', error.message);
        default:
          throw new ServiceError('invalid-request', error.message);
      }
    }
  }

  #setConnection(state: ConnectionState): void {
    const clean = Object.fromEntries(
      Object.entries(state).filter(([, v]) => v !== undefined),
    ) as ConnectionState;
    this.#connection = clean;
    // 'idle' tells the UI the host left the sidebar, which only disconnect says (with the last
    // state end() returns). A connection stopped here is on its way to a new one (Connect again).
    if (clean.status === 'idle') return;
    this.#shared.emit('connectionState', { ...clean, hostId: this.id });
  }
}

/** A room as the host lists it, for the rooms model (a direct message's peer with its print). */
function hostRoom(info: RoomInfo): HostRoom {
  return {
    name: info.room,
    kind: info.kind,
    open: info.open,
    ...(info.role ? { role: info.role } : {}),
    ...(info.topic ? { topic: info.topic } : {}),
    ...(info.peer ? { peer: personView(info.peer) } : {}),
    ...(info.e2ee ? { e2ee: true } : {}),
  };
}

function inviteView(invite: InviteInfo): InviteView {
  return {
    id: invite.id,
    room: invite.room,
    role: invite.role,
    usesLeft: invite.usesLeft,
    expiresAt: invite.expiresAt,
    ...(invite.createdBy ? { createdBy: personView(invite.createdBy) } : {}),
    createdAt: invite.createdAt,
  };
}
