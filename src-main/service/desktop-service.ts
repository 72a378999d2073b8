import { join } from 'node:path';
import { encodeBase64Url } from '../../src-shared/base64url.ts';
import { fingerprint } from '../../src-shared/fingerprint.ts';
import { isValidRoomName } from '../../src-shared/identifiers.ts';
import { parseInvite } from '../../src-shared/invite.ts';
import type { EventName, EventPayload, RequestOutput } from '../../src-shared/ipc/contract.ts';
import {
  type AppSnapshot,
  type AuthorityView,
  type ChatMessageView,
  type ConnectionState,
  InviteRefusal,
  type InviteView,
  type MemberView,
  type RoomEventView,
  type Settings,
} from '../../src-shared/ipc/domain.ts';
import { ChatSession, ChatSessionError, type ChatSessionOptions } from '../client/chat-session.ts';
import { createHostVerifier } from '../client/host-trust.ts';
import type {
  InviteRefused,
  RoomRemoved,
  SessionError,
  SessionFatal,
  StateChange,
  Welcome,
} from '../client/session-events.ts';
import { TypedEmitter } from '../client/typed-emitter.ts';
import type { CryptoBackend } from '../protocol/crypto/crypto-backend.ts';
import { selectBackend } from '../protocol/crypto/select-backend.ts';
import type { ChatMessage, InviteInfo, RoomEvent, RoomInfo } from '../protocol/wire/messages.ts';
import { KNOWN_HOSTS_FILE, KnownHosts, KnownHostsError } from '../store/known-hosts.ts';
import { askingVerifier } from './asking-verifier.ts';
import { Authorities } from './authorities.ts';
import { connectTarget } from './connect-target.ts';
import { nextConnectionState } from './connection-state.ts';
import type { ParsedInput, RequestHandlers } from './dispatch.ts';
import { safeExternalUrl } from './external-url.ts';
import { HostConnection } from './host-connection.ts';
import { hostText } from './host-text.ts';
import { type SecretStorage, loadIdentity } from './identity-store.ts';
import { LocalHistory, type LocalHistoryOptions } from './local-history.ts';
import { LocalStoreGuard } from './local-store-guard.ts';
import { membershipFailure } from './membership-error.ts';
import type { ShownNotification } from './notification-policy.ts';
import { personView } from './person-view.ts';
import { RecentHosts } from './recent-hosts.ts';
import { RecentNotifications } from './recent-notifications.ts';
import { removalNotice } from './removal-notice.ts';
import { type HostRoom, RoomsModel } from './rooms-model.ts';
import { ServiceError } from './service-error.ts';
import { type ServiceLog, errorName } from './service-log.ts';
import { SettingsStore } from './settings-store.ts';
import { VerifiedMembers } from './verified-members.ts';

export { HOST_HISTORY_TIMEOUT_MS } from './host-connection.ts';
export type { ServiceLog } from './service-log.ts';

/**
 * The desktop app without Electron: one method per request of the IPC contract and one typed
 * event per contract event. It is a facade: the state lives with its one owner — the rooms
 * and what is listed about them in RoomsModel, the running session and what belongs to it in
 * HostConnection, settings, recent hosts, verified members and authorities in their stores —
 * and this class turns requests and session events into calls on them. Side effects (clock,
 * data folder, secret storage, window focus, opening links) are injected, so the same code
 * runs in Electron's main process, under plain Node in tests, and behind the browser test
 * bridge. The Electron glue (src-main/app) only forwards to it.
 */
export type ServiceEvents = { [N in EventName]: EventPayload<N> } & {
  /** A desktop notification to show (already decided by the notification policy). */
  notify: ShownNotification;
};

export interface DesktopServiceOptions {
  /** This install's folder: identity, known hosts, history, settings. */
  readonly dataDir: string;
  /** The OS keychain (Electron's safeStorage in the app); absent → a 0600 key file + warning. */
  readonly secretStorage?: SecretStorage;
  readonly backend?: CryptoBackend;
  /** `process.platform` of the machine the notifications appear on. */
  readonly platform?: string;
  readonly now?: () => number;
  /** Opens an already validated http(s) URL in the system browser. */
  readonly openExternal?: (url: string) => Promise<void>;
  /** Builds the chat session (tests may wrap or replace it). */
  readonly createSession?: (options: ChatSessionOptions) => ChatSession;
  /** Passed to every ChatSession (e.g. faster reconnects in tests). */
  readonly sessionOptions?: Partial<
    Pick<
      ChatSessionOptions,
      | 'reconnect'
      | 'pingIntervalMs'
      | 'timeoutMs'
      | 'handshakeTimeoutMs'
      | 'welcomeTimeoutMs'
      | 'requestTimeoutMs'
    >
  >;
  readonly log?: ServiceLog;
  /** Retention and size limit of the local history (defaults in local-history.ts). */
  readonly history?: LocalHistoryOptions;
}

export const HISTORY_FILE = 'history.sqlite';

export class DesktopService implements RequestHandlers {
  readonly #events: TypedEmitter<ServiceEvents>;
  readonly #dataDir: string;
  readonly #backend: CryptoBackend;
  readonly #identity: { publicKey: Uint8Array; privateKey: Uint8Array };
  readonly #ownKey: string;
  readonly #ownFp: string;
  readonly #keyStorageWarning: string | undefined;
  readonly #history: LocalHistory;
  readonly #store: LocalStoreGuard;
  readonly #settings: SettingsStore;
  readonly #verified: VerifiedMembers;
  readonly #recentHosts: RecentHosts;
  readonly #authorities: Authorities;
  readonly #rooms: RoomsModel;
  readonly #notifications: RecentNotifications;
  readonly #now: () => number;
  readonly #openExternal: (url: string) => Promise<void>;
  readonly #createSession: (options: ChatSessionOptions) => ChatSession;
  readonly #sessionOptions: DesktopServiceOptions['sessionOptions'];
  readonly #log: ServiceLog;
  readonly #platform: string;

  /** The connection to the current host, from Connect until it stops. */
  #live: HostConnection | undefined;
  #connection: ConnectionState = { status: 'idle' };
  #closed = false;
  /** connect, disconnect and close run one at a time: each ends the session the previous began. */
  #lifecycle: Promise<unknown> = Promise.resolve();

  private constructor(
    options: DesktopServiceOptions,
    parts: {
      identity: { publicKey: Uint8Array; privateKey: Uint8Array };
      keyStorageWarning: string | undefined;
      history: LocalHistory;
      settings: SettingsStore;
      verified: VerifiedMembers;
      recentHosts: RecentHosts;
      backend: CryptoBackend;
    },
  ) {
    this.#log = options.log ?? (() => undefined);
    this.#events = new TypedEmitter((name, error) => {
      this.#log('error', 'listener-failed', { event: name, error: errorName(error) });
      // Told to the other listeners as an error state; a failing `error` listener is only logged.
      if (name !== 'error') {
        this.#emit('error', { code: 'listener-failed', message: `a "${name}" listener failed` });
      }
    });
    this.#dataDir = options.dataDir;
    this.#backend = parts.backend;
    this.#identity = parts.identity;
    this.#ownKey = encodeBase64Url(parts.identity.publicKey);
    this.#ownFp = fingerprint(parts.identity.publicKey);
    this.#keyStorageWarning = parts.keyStorageWarning;
    this.#history = parts.history;
    this.#settings = parts.settings;
    this.#verified = parts.verified;
    this.#recentHosts = parts.recentHosts;
    this.#now = options.now ?? Date.now;
    this.#openExternal =
      options.openExternal ??
      (() => Promise.reject(new ServiceError('refused', 'links cannot be opened here')));
    this.#createSession = options.createSession ?? ((o) => new ChatSession(o));
    this.#sessionOptions = options.sessionOptions;
    this.#authorities = new Authorities(options.dataDir, this.#now);
    this.#platform = options.platform ?? process.platform;
    this.#notifications = new RecentNotifications(this.#platform);
    this.#store = new LocalStoreGuard(this.#log, (error) => this.#emit('error', error));
    this.#rooms = new RoomsModel({
      history: this.#history,
      store: this.#store,
      ownKey: this.#ownKey,
      isVerified: (key) => this.#verified.has(key),
      events: {
        rooms: (list) => this.#emit('rooms', list),
        unread: (snapshot) => this.#emit('unread', snapshot),
        members: (room, members) => this.#emit('members', { room, members }),
      },
    });

    // Offline, the app is about the host used last: its rooms and history are shown.
    const last = this.#recentHosts.list()[0];
    if (last) {
      this.#rooms.aboutHost({ host: last.host, port: last.port });
      this.#connection = {
        status: 'idle',
        host: last.host,
        port: last.port,
        hostFingerprint: last.fingerprint,
        nick: last.nick,
      };
    }
  }

  /** Loads the identity (sealed with `secretStorage` where available) and the stores. */
  static async open(options: DesktopServiceOptions): Promise<DesktopService> {
    const backend = options.backend ?? selectBackend();
    const identity = await loadIdentity({
      dataDir: options.dataDir,
      backend,
      secretStorage: options.secretStorage,
    });
    const [settings, verified, recentHosts] = await Promise.all([
      SettingsStore.open(options.dataDir),
      VerifiedMembers.open(options.dataDir),
      RecentHosts.open(options.dataDir),
    ]);
    const history = LocalHistory.open(join(options.dataDir, HISTORY_FILE), options.history);
    return new DesktopService(options, {
      identity: identity.keyPair,
      keyStorageWarning: identity.warning,
      history,
      settings,
      verified,
      recentHosts,
      backend,
    });
  }

  // ── events ──────────────────────────────────────────────────────────────────────────

  on<N extends keyof ServiceEvents>(
    name: N,
    listener: (payload: ServiceEvents[N]) => void,
  ): () => void {
    return this.#events.on(name, listener);
  }

  off<N extends keyof ServiceEvents>(name: N, listener: (payload: ServiceEvents[N]) => void): void {
    this.#events.off(name, listener);
  }

  #emit<N extends keyof ServiceEvents>(name: N, payload: ServiceEvents[N]): void {
    if (!this.#closed) this.#events.emit(name, payload);
  }

  // ── for the shell (not IPC requests) ─────────────────────────────────────────────────

  /** This install's public key (base64url) and fingerprint, for "about" and tests. */
  get identity(): { key: string; fingerprint: string } {
    return { key: this.#ownKey, fingerprint: this.#ownFp };
  }

  get unreadTotal(): number {
    return this.#rooms.unreadTotal;
  }

  get activeRoom(): string | null {
    return this.#rooms.active;
  }

  /** The window gained or lost focus: drives unread counts and notifications. */
  setWindowFocused(focused: boolean): void {
    this.#rooms.setWindowFocused(focused);
  }

  /** Asks the UI to show a room (a notification was clicked). */
  openRoom(room: string): void {
    if (isValidRoomName(room)) this.#emit('openRoom', { room });
  }

  /** An invite link arrived from the OS; the UI asks the user before connecting. */
  openInvite(invite: string): boolean {
    if (!parseInvite(invite).ok) return false;
    this.#emit('openInvite', { invite: invite.trim() });
    return true;
  }

  /** Says goodbye to the host, saves the outbox, closes the history. */
  close(): Promise<void> {
    return this.#serially(async () => {
      if (this.#closed) return;
      await this.#endSession();
      this.#closed = true;
      this.#rooms.close();
      this.#history.close();
    });
  }

  // ── requests ────────────────────────────────────────────────────────────────────────

  getSnapshot(_input: ParsedInput<'getSnapshot'>): AppSnapshot {
    return {
      connection: { ...this.#connection },
      rooms: this.#rooms.list(),
      settings: this.#settings.current,
      recentHosts: this.#recentHosts.list(),
      ...(this.#keyStorageWarning ? { keyStorageWarning: this.#keyStorageWarning } : {}),
    };
  }

  connect(input: ParsedInput<'connect'>): Promise<ConnectionState> {
    return this.#serially(() => this.#connect(input));
  }

  async #connect(input: ParsedInput<'connect'>): Promise<ConnectionState> {
    this.#assertOpen();
    // The token stays in this call and the session: recent hosts keep host, port, nick and
    // room, never the link it came in.
    const { address, inviteKey, inviteRoom, inviteToken } = connectTarget(input);
    // What can fail is read first: a connect that cannot start leaves the app as it was (still
    // connected, and about the same host), never about a new host the UI was not told of.
    let knownHosts: KnownHosts;
    try {
      knownHosts = await KnownHosts.load(join(this.#dataDir, KNOWN_HOSTS_FILE));
    } catch (error) {
      // A damaged list of pinned keys must be repaired by a person, never reset silently.
      if (error instanceof KnownHostsError) throw new ServiceError('internal', error.message);
      throw error;
    }
    const authorities = await this.#authorities.current();
    await this.#endSession();
    if (this.#rooms.aboutHost(address)) this.#notifications.clear();
    const recent = this.#recentHosts.find(address);
    const rooms = this.#rooms.roomsToJoin(inviteRoom, recent?.room);
    const host = this.#rooms.host;
    if (!host) throw new ServiceError('internal', 'no host to connect to');
    const live = new HostConnection({
      host,
      viaInvite: inviteKey !== undefined,
      ...(inviteToken !== undefined && inviteRoom !== undefined ? { inviteRoom } : {}),
      roomsWithPast: rooms.filter((room) => this.#history.hasMessages(host.id, room)),
      ask: (question) => this.#emit('trustRequired', question),
      createSession: (askTrust) =>
        this.#createSession({
          ...this.#sessionOptions,
          address,
          identity: this.#identity,
          nick: input.nick,
          trust: askingVerifier(
            (ask) =>
              createHostVerifier({
                address,
                ...(inviteKey ? { inviteKey } : {}),
                knownHosts,
                authorities,
                now: this.#now,
                policy: { confirmNewHost: ask },
              }),
            askTrust,
          ),
          rooms,
          ...(inviteToken === undefined ? {} : { inviteToken }),
          backend: this.#backend.name,
          outboxStore: this.#history.outboxStore(host.id),
          now: this.#now,
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
    this.#rooms.emitRooms();
    this.#rooms.emitUnreadCounts();
    live.session.start();
    return { ...this.#connection };
  }

  disconnect(_input: ParsedInput<'disconnect'>): Promise<Record<string, never>> {
    return this.#serially(async () => {
      await this.#endSession();
      // Also after a refusal (changed key) that already ended the session: the user is done.
      if (this.#connection.status !== 'idle') {
        this.#setConnection({ ...this.#connection, status: 'idle', retryAt: undefined });
      }
      return {};
    });
  }

  send(input: ParsedInput<'send'>): { id: string } {
    const live = this.#requireLive();
    const id = this.#sessionCall(() => live.session.send(input.room, input.text));
    const view: ChatMessageView = {
      room: input.room,
      id,
      from: live.session.nick,
      fp: this.#ownFp,
      key: this.#ownKey,
      text: input.text,
      ts: this.#now(),
      own: true,
      status: 'queued',
    };
    this.#store.run('keep your message', () => this.#history.storeQueued(live.host.id, view));
    this.#emit('message', view);
    return { id };
  }

  joinRoom(input: ParsedInput<'joinRoom'>): Record<string, never> {
    const live = this.#requireLive();
    this.#sessionCall(() => live.session.join(input.room));
    live.askedToJoin(input.room);
    live.joined(input.room, this.#history.hasMessages(live.host.id, input.room));
    this.#rooms.joined(input.room);
    return {};
  }

  leaveRoom(input: ParsedInput<'leaveRoom'>): Record<string, never> {
    const live = this.#requireLive();
    this.#sessionCall(() => live.session.leave(input.room));
    live.left(input.room);
    this.#rooms.left(input.room);
    return {};
  }

  setActiveRoom(input: ParsedInput<'setActiveRoom'>): Record<string, never> {
    const { room } = input;
    if (room) this.#notifications.forgetRoom(room);
    this.#rooms.setActive(room);
    const host = this.#rooms.host;
    if (room && host && this.#rooms.isJoined(room)) {
      void this.#persist(this.#recentHosts.update(host.address, { room }));
    }
    return {};
  }

  async loadHistory(input: ParsedInput<'loadHistory'>): Promise<RequestOutput<'loadHistory'>> {
    const host = this.#rooms.host;
    if (!host) return { messages: [], events: [], more: false };
    const read = () => this.#history.page(host.id, input.room, input.beforeSeq, input.limit);
    // Messages and room events share the room's seqs: a page counts both.
    const rows = (page: { messages: unknown[]; events: unknown[] }) =>
      page.messages.length + page.events.length;
    let local = read();
    const live = this.#live;
    if (!live || live.host.id !== host.id) return local;
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

  typing(input: ParsedInput<'typing'>): Record<string, never> {
    this.#live?.session.typing(input.room);
    return {};
  }

  setNick(input: ParsedInput<'setNick'>): Record<string, never> {
    const live = this.#requireLive();
    this.#sessionCall(() => live.session.setNick(input.nick));
    return {};
  }

  getMembers(input: ParsedInput<'getMembers'>): MemberView[] {
    return this.#rooms.members(input.room);
  }

  answerTrust(input: ParsedInput<'answerTrust'>): Record<string, never> {
    if (!this.#live?.answerTrust(input.requestId, input.trust)) {
      throw new ServiceError('not-found', 'that question is no longer open');
    }
    return {};
  }

  async markVerified(input: ParsedInput<'markVerified'>): Promise<Record<string, never>> {
    if (await this.#verified.set(input.key, input.verified)) {
      this.#rooms.verifiedChanged(input.key);
    }
    return {};
  }

  importAuthority(
    input: ParsedInput<'importAuthority'>,
  ): Promise<{ authority: AuthorityView; added: boolean }> {
    return this.#authorities.import(input.pem);
  }

  listAuthorities(_input: ParsedInput<'listAuthorities'>): Promise<AuthorityView[]> {
    return this.#authorities.list();
  }

  async removeAuthority(input: ParsedInput<'removeAuthority'>): Promise<Record<string, never>> {
    await this.#authorities.remove(input.fingerprint);
    return {};
  }

  getSettings(_input: ParsedInput<'getSettings'>): Settings {
    return this.#settings.current;
  }

  async updateSettings(input: ParsedInput<'updateSettings'>): Promise<Settings> {
    const settings = await this.#settings.update(input);
    this.#emit('settings', settings);
    return settings;
  }

  async openExternal(input: ParsedInput<'openExternal'>): Promise<Record<string, never>> {
    const url = safeExternalUrl(input.url);
    if (!url) throw new ServiceError('refused', 'only http and https links can be opened');
    await this.#openExternal(url);
    return {};
  }

  // ── private rooms ───────────────────────────────────────────────────────────────────

  async createInvite(input: ParsedInput<'createInvite'>): Promise<RequestOutput<'createInvite'>> {
    const { link, invite } = await this.#membership((session) =>
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

  async listInvites(input: ParsedInput<'listInvites'>): Promise<InviteView[]> {
    const invites = await this.#membership((session) => session.listInvites(input.room));
    return invites.map(inviteView);
  }

  async revokeInvite(input: ParsedInput<'revokeInvite'>): Promise<Record<string, never>> {
    await this.#membership((session) => session.revokeInvite(input.room, input.id));
    return {};
  }

  async createRoom(input: ParsedInput<'createRoom'>): Promise<{ room: string }> {
    const info = await this.#membership((session) =>
      session.createRoom(input.room, input.open === undefined ? {} : { open: input.open }),
    );
    return { room: info.room };
  }

  async setTopic(input: ParsedInput<'setTopic'>): Promise<Record<string, never>> {
    await this.#membership((session) => session.setTopic(input.room, input.topic));
    return {};
  }

  async setOpen(input: ParsedInput<'setOpen'>): Promise<Record<string, never>> {
    await this.#membership((session) => session.setOpen(input.room, input.open));
    return {};
  }

  async unban(input: ParsedInput<'unban'>): Promise<Record<string, never>> {
    await this.#membership((session) => session.unban(input.room, input.key));
    return {};
  }

  async partRoom(input: ParsedInput<'partRoom'>): Promise<Record<string, never>> {
    await this.#membership((session) => session.part(input.room));
    return {};
  }

  async removeMember(input: ParsedInput<'removeMember'>): Promise<Record<string, never>> {
    await this.#membership((session) => session.remove(input.room, input.key, { ban: input.ban }));
    return {};
  }

  async setRole(input: ParsedInput<'setRole'>): Promise<Record<string, never>> {
    await this.#membership((session) => session.setRole(input.room, input.key, input.role));
    return {};
  }

  async openDm(input: ParsedInput<'openDm'>): Promise<{ room: string }> {
    if (input.key === this.#ownKey) {
      throw new ServiceError('invalid-request', 'a direct message is with someone else');
    }
    const info = await this.#membership((session) => session.openDm(input.key));
    return { room: info.room };
  }

  /** A membership request on the current session; the host's refusal in the UI's terms. */
  async #membership<T>(call: (session: ChatSession) => Promise<T>): Promise<T> {
    const live = this.#requireLive();
    try {
      return await call(live.session);
    } catch (error) {
      throw membershipFailure(error);
    }
  }

  // ── the session ─────────────────────────────────────────────────────────────────────

  /** Session events reach the service only while their connection is the current one. */
  #bind(live: HostConnection): void {
    const { session } = live;
    const current = () => this.#live === live;
    session.on('state', (change) => current() && this.#onState(live, change));
    session.on('welcome', (welcome) => current() && this.#onWelcome(live, welcome));
    session.on('message', (message) => current() && this.#onMessage(live, message));
    session.on('ack', (ack) => {
      if (!current()) return;
      this.#store.run('mark a message sent', () =>
        this.#history.markSent(live.host.id, this.#ownKey, ack.id, ack.seq, ack.ts),
      );
      this.#emit('messageStatus', {
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
      this.#emit('presence', {
        room,
        event,
        nick,
        fp,
        key,
        ...(presence.newNick ? { newNick: presence.newNick } : {}),
        ts: this.#now(),
      });
    });
    session.on('members', (update) => current() && this.#rooms.membersPresent(update));
    session.on('roomList', ({ rooms }) => current() && this.#onRoomList(live, rooms));
    session.on('roomEvent', (event) => current() && this.#onRoomEvent(live, event));
    session.on('removed', (removed) => current() && this.#onRemoved(live, removed));
    session.on('redeemed', ({ room }) => {
      if (!current()) return;
      live.pendingInviteRoom = undefined;
      void this.#persist(this.#recentHosts.update(live.host.address, { room }));
    });
    session.on('inviteRefused', (refused) => current() && this.#onInviteRefused(live, refused));
    session.on('synced', ({ room }) => current() && live.synced(room));
    session.on('typing', ({ room, nick, fp }) => {
      if (current() && fp !== this.#ownFp) this.#emit('typing', { room, nick, fp });
    });
    session.on('nick', ({ nick }) => {
      if (!current()) return;
      this.#setConnection({ ...this.#connection, nick });
      void this.#persist(this.#recentHosts.update(live.host.address, { nick }));
    });
    session.on('history-end', (end) => current() && live.olderEnded(end.room, end.more));
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
    const state = nextConnectionState(this.#connection, live, change, this.#now());
    if (state) this.#setConnection(state);
  }

  #onWelcome(live: HostConnection, welcome: Welcome): void {
    live.welcomed();
    const room = this.#rooms.welcome(welcome.host.rooms);
    void this.#persist(
      this.#recentHosts.record({
        host: live.host.address.host,
        port: live.host.address.port,
        nick: welcome.nick,
        room,
        fingerprint: welcome.host.fingerprint,
        lastUsed: this.#now(),
      }),
    );
  }

  #onMessage(live: HostConnection, message: ChatMessage): void {
    const own = message.key === this.#ownKey;
    const view: ChatMessageView = {
      room: message.room,
      id: message.id,
      seq: message.seq,
      from: message.from,
      fp: message.fp,
      key: message.key,
      text: message.text,
      ts: message.ts,
      own,
      status: 'sent',
      ...(message.history ? { history: true } : {}),
    };
    // A store that cannot write still shows the message; the user is told once.
    const stored =
      this.#store.run('keep a message', () => this.#history.storeReceived(live.host.id, view)) ??
      'new';
    if (stored === 'invalid') return;
    if (stored === 'confirmed') {
      this.#emit('messageStatus', {
        room: view.room,
        id: view.id,
        status: 'sent',
        seq: message.seq,
        ts: message.ts,
      });
      return;
    }
    if (stored !== 'new') return;
    // The answer to our own request for older messages goes back through loadHistory.
    const answersRequest = live.answersOlderRequest(message);
    if (!answersRequest) this.#emit('message', view);
    if (own) return;
    if (live.isNews(message) && !answersRequest) this.#rooms.countUnread(message.room);
    const notification = this.#notifications.decide(view, message.history === true, {
      windowFocused: this.#rooms.windowFocused,
      roomVisible: this.#rooms.active === view.room,
      settings: this.#settings.current,
      now: this.#now(),
    });
    if (notification) this.#emit('notify', notification);
  }

  /** The host's list of the rooms this key may see: the rooms with a role are joined. */
  #onRoomList(live: HostConnection, rooms: readonly RoomInfo[]): void {
    const hostRooms = rooms.map(hostRoom);
    const joining = new Set(live.session.rooms);
    const forgotten = this.#rooms.roomList(hostRooms, {
      joins: (room) => joining.has(room),
      join: (first) => {
        live.session.join(first);
        live.joined(first, this.#history.hasMessages(live.host.id, first));
      },
      complete: live.firstList(),
      keeps: (room) => live.keeps(room),
      redeeming: live.pendingInviteRoom !== undefined,
    });
    live.forgotten(forgotten);
    this.#recentRoomGone(live, forgotten);
    for (const room of hostRooms) {
      if (room.role !== undefined && joining.has(room.name)) {
        live.joined(room.name, this.#history.hasMessages(live.host.id, room.name));
      }
    }
  }

  #onRoomEvent(live: HostConnection, event: RoomEvent): void {
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
      this.#store.run('keep a room event', () =>
        this.#history.storeEvent(live.host.id, view, this.#ownKey),
      ) ?? 'new';
    if (stored !== 'new') return;
    // A live event changes the member list; one from history is in the list already.
    if (!event.history) this.#membershipChanged(view);
    if (!live.answersOlderRequest(view)) this.#emit('roomEvent', view);
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
    const { room, reason } = removed;
    live.left(room);
    this.#rooms.removed(room);
    this.#recentRoomGone(live, [room]);
    this.#notifications.forgetRoom(room);
    const by = removed.by ? personView(removed.by) : undefined;
    this.#log('info', 'room-removed', { reason });
    this.#emit('roomRemoved', { room, reason, ...(by ? { by } : {}) });
    const notice = removalNotice(
      { room, reason, ...(by ? { by: by.nick } : {}) },
      {
        windowFocused: this.#rooms.windowFocused,
        settings: this.#settings.current,
        platform: this.#platform,
      },
    );
    if (notice) this.#emit('notify', notice);
  }

  /** The room remembered for this host is not ours any more: the next connect opens another. */
  #recentRoomGone(live: HostConnection, gone: readonly string[]): void {
    const recent = this.#recentHosts.find(live.host.address);
    if (!recent || !gone.includes(recent.room)) return;
    const next = this.#rooms.list().find((r) => r.joined)?.name;
    if (next) void this.#persist(this.#recentHosts.update(live.host.address, { room: next }));
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
    this.#log('warn', 'invite-refused', { code: refused.code });
    this.#emit('inviteRefused', {
      code: code.success ? code.data : 'invite-unknown',
      message: hostText(refused.message),
      ...(room !== undefined ? { room } : {}),
    });
  }

  #onError(live: HostConnection, error: SessionError): void {
    if (error.dropped) {
      const { dropped } = error;
      this.#store.run('mark a message failed', () =>
        this.#history.markFailed(live.host.id, this.#ownKey, dropped.id),
      );
      this.#emit('messageStatus', {
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
    this.#log('warn', 'session-error', { code: error.code });
    this.#emit('error', { code: error.code, message: hostText(error.message) });
  }

  #onFatal(live: HostConnection, fatal: SessionFatal): void {
    live.fatalReason = fatal.message;
    this.#log('warn', 'session-fatal', { code: fatal.code });
    if (fatal.code === 'host-key-mismatch') {
      this.#emit('hostKeyChanged', {
        host: live.host.address.host,
        port: live.host.address.port,
        expectedFingerprint: fatal.expectedFingerprint,
        actualFingerprint: fatal.actualFingerprint,
        ...(fatal.certificateProblem ? { certificateProblem: fatal.certificateProblem } : {}),
      });
    } else if (fatal.code !== 'host-key-unknown') {
      this.#emit('error', { code: fatal.code, message: fatal.message });
    }
  }

  /** Stops the current session (if any) and waits until its outbox is saved. */
  async #endSession(): Promise<void> {
    const live = this.#live;
    if (!live) return;
    await live.stop();
    // stop() reports 'stopped', which clears #live; a session that was still starting may not.
    if (this.#live === live) {
      this.#live = undefined;
      this.#setConnection({ ...this.#connection, status: 'idle', retryAt: undefined });
    }
  }

  // ── plumbing ────────────────────────────────────────────────────────────────────────

  #serially<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#lifecycle.then(task, task);
    this.#lifecycle = result.catch(() => undefined);
    return result;
  }

  #requireLive(): HostConnection {
    this.#assertOpen();
    const live = this.#live;
    if (!live) throw new ServiceError('not-connected', 'connect to a host first');
    return live;
  }

  #assertOpen(): void {
    if (this.#closed) throw new ServiceError('not-connected', 'Parley is shutting down');
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
    this.#emit('connectionState', { ...clean });
  }

  /** Store writes that need not hold up the caller, but whose failure must be seen. */
  async #persist(write: Promise<void>): Promise<void> {
    try {
      await write;
    } catch (error) {
      this.#log('error', 'store-write-failed', { error: errorName(error) });
    }
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
