import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { encodeBase64Url } from '../../src-shared/base64url.ts';
import { fingerprint } from '../../src-shared/fingerprint.ts';
import {
  type HostAddress,
  formatHost,
  isValidRoomName,
  parseHostAddress,
  parseInvite,
} from '../../src-shared/invite.ts';
import type { EventName, EventPayload } from '../../src-shared/ipc/contract.ts';
import type {
  AppSnapshot,
  AuthorityView,
  CertificateProblem,
  ChatMessageView,
  ConnectionState,
  MemberView,
  Settings,
} from '../../src-shared/ipc/domain.ts';
import { ChatSession, ChatSessionError, type ChatSessionOptions } from '../client/chat-session.ts';
import { type HostTrust, type HostVerifier, createHostVerifier } from '../client/host-trust.ts';
import type {
  Ack,
  HistoryEnd,
  MembersUpdate,
  Presence,
  SessionError,
  SessionFatal,
  StateChange,
  Typing,
  Welcome,
} from '../client/session-events.ts';
import type { CryptoBackend } from '../protocol/crypto/crypto-backend.ts';
import { selectBackend } from '../protocol/crypto/select-backend.ts';
import type { ChatMessage } from '../protocol/wire/messages.ts';
import { KNOWN_HOSTS_FILE, KnownHosts, KnownHostsError, hostId } from '../store/known-hosts.ts';
import type { AuthorityStore } from '../trust/authority-store.ts';
import type { ParsedInput, RequestHandlers } from './dispatch.ts';
import { safeExternalUrl } from './external-url.ts';
import { type SecretStorage, loadIdentity } from './identity-store.ts';
import { LocalHistory, type LocalHistoryOptions } from './local-history.ts';
import {
  type RecentNotification,
  type ShownNotification,
  decideNotification,
} from './notification-policy.ts';
import { RecentHosts } from './recent-hosts.ts';
import { RoomMembers } from './room-members.ts';
import { ServiceError } from './service-error.ts';
import { SettingsStore } from './settings-store.ts';
import { TypedEmitter } from '../client/typed-emitter.ts';
import { UnreadCounts } from './unread-counts.ts';
import { VerifiedMembers } from './verified-members.ts';

/**
 * The desktop app without Electron: one method per request of the IPC contract, one typed
 * event per contract event, and everything behind them — the ChatSession of the current host,
 * local history, unread counts, members, recent hosts, settings, the trust question. Side
 * effects (clock, data folder, secret storage, window focus, opening links) are injected, so
 * the same code runs in Electron's main process, under plain Node in tests, and behind the
 * browser test bridge. The Electron glue (src-main/app) only forwards to it.
 */
export type ServiceEvents = { [N in EventName]: EventPayload<N> } & {
  /** A desktop notification to show (already decided by the notification policy). */
  notify: ShownNotification;
};

export type ServiceLog = (
  level: 'debug' | 'info' | 'warn' | 'error',
  event: string,
  fields?: Record<string, string | number | boolean>,
) => void;

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

/** How long `loadHistory` waits for the host to answer a request for older messages. */
export const HOST_HISTORY_TIMEOUT_MS = 5000;
/** Notifications remembered for coalescing. */
const RECENT_NOTIFICATIONS_MS = 60_000;
/**
 * ... and at most this many: enough to coalesce any burst the user could read, while a flood
 * of messages costs the same per message as a quiet room.
 */
const MAX_RECENT_NOTIFICATIONS = 200;

export const HISTORY_FILE = 'history.sqlite';

/** The host's answers that refuse a request about a room (chat-session.ts #roomRefused). */
const HISTORY_REFUSALS: ReadonlySet<string> = new Set([
  'rate-limited',
  'internal',
  'not-in-room',
  'unknown-room',
]);

/** The host the app is about (connected or not): its history is shown even offline. */
interface HostContext {
  readonly id: string;
  readonly address: HostAddress;
}

interface PendingOlder {
  readonly before: number;
  readonly promise: Promise<boolean | undefined>;
  finish(more: boolean | undefined): void;
}

/** The running ChatSession and what belongs to it alone. */
interface Live {
  readonly session: ChatSession;
  readonly context: HostContext;
  readonly viaInvite: boolean;
  /** The user asked to stop it (disconnect, or connect elsewhere). */
  stopping: boolean;
  fatalReason?: string;
  readonly synced: Set<string>;
  /** Rooms that had local history before this session's join replay: new history counts as unread. */
  readonly roomsWithPast: Set<string>;
  readonly pendingOlder: Map<string, PendingOlder>;
}

interface PendingTrust {
  readonly live: () => Live | undefined;
  readonly resolve: (trusted: boolean) => void;
}

export class DesktopService implements RequestHandlers {
  readonly #events: TypedEmitter<ServiceEvents>;
  readonly #dataDir: string;
  readonly #backend: CryptoBackend;
  readonly #identity: { publicKey: Uint8Array; privateKey: Uint8Array };
  readonly #ownKey: string;
  readonly #ownFp: string;
  readonly #keyStorageWarning: string | undefined;
  readonly #history: LocalHistory;
  readonly #settings: SettingsStore;
  readonly #verified: VerifiedMembers;
  readonly #recentHosts: RecentHosts;
  readonly #platform: string;
  readonly #now: () => number;
  readonly #openExternal: (url: string) => Promise<void>;
  readonly #createSession: (options: ChatSessionOptions) => ChatSession;
  readonly #sessionOptions: DesktopServiceOptions['sessionOptions'];
  readonly #log: ServiceLog;

  #context: HostContext | undefined;
  #live: Live | undefined;
  #connection: ConnectionState = { status: 'idle' };
  #hostRooms: string[] = [];
  #joined = new Set<string>();
  #activeRoom: string | null = null;
  #windowFocused = true;
  readonly #unread = new UnreadCounts();
  readonly #members = new RoomMembers();
  readonly #pendingTrust = new Map<string, PendingTrust>();
  /** Rooms whose member list changed this turn: one `members` event each, at the turn's end. */
  readonly #membersChanged = new Set<string>();
  #membersFlush: NodeJS.Immediate | undefined;
  /** The local store failed and the user was told; cleared by its next success. */
  #storeFailing = false;
  #recentNotifications: RecentNotification[] = [];
  #closed = false;
  /** Loaded on first use: reading certificates loads node-forge, which startup does not need. */
  #authorities: Promise<AuthorityStore> | undefined;
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
    this.#platform = options.platform ?? process.platform;
    this.#now = options.now ?? Date.now;
    this.#openExternal =
      options.openExternal ??
      (() => Promise.reject(new ServiceError('refused', 'links cannot be opened here')));
    this.#createSession = options.createSession ?? ((o) => new ChatSession(o));
    this.#sessionOptions = options.sessionOptions;

    // Offline, the app is about the host used last: its rooms and history are shown.
    const last = this.#recentHosts.list()[0];
    if (last) {
      const address = { host: last.host, port: last.port };
      this.#context = { id: hostId(address), address };
      this.#joined = new Set(this.#storedJoinedRooms(this.#context.id));
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
    return this.#unread.total;
  }

  get activeRoom(): string | null {
    return this.#activeRoom;
  }

  /** The window gained or lost focus: drives unread counts and notifications. */
  setWindowFocused(focused: boolean): void {
    this.#windowFocused = focused;
    if (focused && this.#activeRoom && this.#unread.reset(this.#activeRoom)) this.#emitUnread();
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
      if (this.#membersFlush) clearImmediate(this.#membersFlush);
      this.#history.close();
    });
  }

  // ── requests ────────────────────────────────────────────────────────────────────────

  getSnapshot(_input: ParsedInput<'getSnapshot'>): AppSnapshot {
    return {
      connection: { ...this.#connection },
      rooms: this.#roomList(),
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
    let address: HostAddress;
    let inviteKey: Uint8Array | undefined;
    let inviteRoom: string | undefined;
    if ('invite' in input) {
      const invite = parseInvite(input.invite);
      if (!invite.ok) throw new ServiceError('invalid-invite', invite.error.message);
      address = { host: invite.value.host, port: invite.value.port };
      inviteKey = invite.value.hostKey;
      inviteRoom = invite.value.room;
    } else {
      const bare = input.host.trim().replace(/^\[(.*)\]$/, '$1');
      const parsed = parseHostAddress(`${formatHost(bare)}:${input.port}`);
      if (!parsed.ok) throw new ServiceError('invalid-request', parsed.error.message);
      address = parsed.value;
    }

    await this.#endSession();
    const id = hostId(address);
    if (this.#context?.id !== id) {
      this.#context = { id, address };
      this.#activeRoom = null;
      this.#hostRooms = [];
      this.#unread.clear();
      this.#members.clear();
      this.#recentNotifications = [];
    }
    const context = this.#context;

    const rooms = new Set(this.#storedJoinedRooms(id));
    if (inviteRoom) rooms.add(inviteRoom);
    const recent = this.#recentHosts.find(address);
    if (rooms.size === 0 && recent && isValidRoomName(recent.room)) rooms.add(recent.room);
    this.#store('remember your rooms', () => {
      for (const room of rooms) this.#history.setJoined(id, room, true);
    });
    this.#joined = rooms;

    let knownHosts: KnownHosts;
    try {
      knownHosts = await KnownHosts.load(join(this.#dataDir, KNOWN_HOSTS_FILE));
    } catch (error) {
      // A damaged list of pinned keys must be repaired by a person, never reset silently.
      if (error instanceof KnownHostsError) throw new ServiceError('internal', error.message);
      throw error;
    }
    const authorities = await this.#authorityStore();
    await authorities.reload(); // an administrator may have dropped a .pem in meanwhile
    // The verifier is built before the session it serves; the question needs both.
    const ref: { live?: Live } = {};
    const verifier = askingVerifier(
      (ask) =>
        createHostVerifier({
          address,
          ...(inviteKey ? { inviteKey } : {}),
          knownHosts,
          authorities,
          now: this.#now,
          policy: { confirmNewHost: ask },
        }),
      (print, addr, problem) => this.#askTrust(() => ref.live, print, addr, problem),
    );
    const session = this.#createSession({
      ...this.#sessionOptions,
      address,
      identity: this.#identity,
      nick: input.nick,
      trust: verifier,
      rooms: [...rooms],
      backend: this.#backend.name,
      outboxStore: this.#history.outboxStore(id),
      now: this.#now,
    });
    const live: Live = {
      session,
      context,
      viaInvite: inviteKey !== undefined,
      stopping: false,
      synced: new Set(),
      roomsWithPast: new Set([...rooms].filter((room) => this.#history.hasMessages(id, room))),
      pendingOlder: new Map(),
    };
    ref.live = live;
    this.#live = live;
    this.#bind(live);
    this.#setConnection({
      status: 'connecting',
      host: address.host,
      port: address.port,
      nick: input.nick,
      ...(recent ? { hostFingerprint: recent.fingerprint } : {}),
    });
    this.#emitRooms();
    this.#emit('unread', this.#unread.snapshot());
    session.start();
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
    this.#store('keep your message', () => this.#history.storeQueued(live.context.id, view));
    this.#emit('message', view);
    return { id };
  }

  joinRoom(input: ParsedInput<'joinRoom'>): Record<string, never> {
    const live = this.#requireLive();
    this.#sessionCall(() => live.session.join(input.room));
    if (this.#history.hasMessages(live.context.id, input.room)) live.roomsWithPast.add(input.room);
    this.#joined.add(input.room);
    this.#store('remember your rooms', () =>
      this.#history.setJoined(live.context.id, input.room, true),
    );
    this.#emitRooms();
    return {};
  }

  leaveRoom(input: ParsedInput<'leaveRoom'>): Record<string, never> {
    const live = this.#requireLive();
    this.#sessionCall(() => live.session.leave(input.room));
    this.#joined.delete(input.room);
    live.synced.delete(input.room);
    this.#store('remember your rooms', () =>
      this.#history.setJoined(live.context.id, input.room, false),
    );
    this.#members.forget(input.room);
    this.#unread.reset(input.room);
    this.#emitUnread();
    return {};
  }

  setActiveRoom(input: ParsedInput<'setActiveRoom'>): Record<string, never> {
    this.#activeRoom = input.room;
    if (input.room) {
      this.#recentNotifications = this.#recentNotifications.filter((n) => n.room !== input.room);
      if (this.#unread.reset(input.room)) this.#emitUnread();
      if (this.#context && this.#joined.has(input.room)) {
        void this.#persist(this.#recentHosts.update(this.#context.address, { room: input.room }));
      }
    }
    return {};
  }

  async loadHistory(
    input: ParsedInput<'loadHistory'>,
  ): Promise<{ messages: ChatMessageView[]; more: boolean }> {
    const context = this.#context;
    if (!context) return { messages: [], more: false };
    const local = this.#history.page(context.id, input.room, input.beforeSeq, input.limit);
    const live = this.#live;
    if (local.messages.length >= input.limit || !live || live.context !== context) return local;
    // Not enough kept here: ask the host for the older ones, then read again.
    const seqs = local.messages.flatMap((m) => (m.seq === undefined ? [] : [m.seq]));
    const before =
      seqs.length > 0 ? Math.min(...seqs) : (input.beforeSeq ?? Number.MAX_SAFE_INTEGER);
    if (before <= 0) return local;
    const hostMore = await this.#askHostForOlder(
      live,
      input.room,
      before,
      input.limit - local.messages.length,
    );
    if (hostMore === undefined) return local;
    const again = this.#history.page(context.id, input.room, input.beforeSeq, input.limit);
    return { messages: again.messages, more: again.more || hostMore };
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
    return this.#memberViews(input.room);
  }

  answerTrust(input: ParsedInput<'answerTrust'>): Record<string, never> {
    const pending = this.#pendingTrust.get(input.requestId);
    if (!pending) throw new ServiceError('not-found', 'that question is no longer open');
    this.#pendingTrust.delete(input.requestId);
    pending.resolve(input.trust);
    return {};
  }

  async markVerified(input: ParsedInput<'markVerified'>): Promise<Record<string, never>> {
    if (await this.#verified.set(input.key, input.verified)) {
      for (const room of this.#members.roomsOf(input.key)) this.#emitMembers(room);
    }
    return {};
  }

  importAuthority(
    input: ParsedInput<'importAuthority'>,
  ): Promise<{ authority: AuthorityView; added: boolean }> {
    return this.#authorityCall(async (store) => {
      const { authorityView } = await import('../trust/authority-store.ts');
      const { authority, added } = await store.import(input.pem);
      return { authority: authorityView(authority), added };
    });
  }

  listAuthorities(_input: ParsedInput<'listAuthorities'>): Promise<AuthorityView[]> {
    return this.#authorityCall(async (store) => {
      const { authorityView } = await import('../trust/authority-store.ts');
      await store.reload();
      return store.list().map(authorityView);
    });
  }

  removeAuthority(input: ParsedInput<'removeAuthority'>): Promise<Record<string, never>> {
    return this.#authorityCall(async (store) => {
      await store.remove(input.fingerprint);
      return {};
    });
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

  // ── the session ─────────────────────────────────────────────────────────────────────

  #bind(live: Live): void {
    const { session } = live;
    const current = () => this.#live === live;
    session.on('state', (change) => current() && this.#onState(live, change));
    session.on('welcome', (welcome) => current() && this.#onWelcome(live, welcome));
    session.on('message', (message) => current() && this.#onMessage(live, message));
    session.on('ack', (ack) => current() && this.#onAck(live, ack));
    session.on('presence', (presence) => current() && this.#onPresence(presence));
    session.on('members', (update) => current() && this.#onMembers(update));
    session.on('synced', ({ room }) => {
      if (!current()) return;
      live.synced.add(room);
      live.roomsWithPast.add(room);
    });
    session.on('typing', (typing) => current() && this.#onTyping(typing));
    session.on('nick', ({ nick }) => current() && this.#onNick(live, nick));
    session.on('history-end', (end) => current() && this.#onHistoryEnd(live, end));
    session.on('error', (error) => current() && this.#onError(live, error));
    session.on('fatal', (fatal) => current() && this.#onFatal(live, fatal));
  }

  #onState(live: Live, change: StateChange): void {
    const { address } = live.context;
    const base: ConnectionState = {
      status: 'connecting',
      host: address.host,
      port: address.port,
      nick: live.session.nick,
      ...(this.#connection.hostFingerprint
        ? { hostFingerprint: this.#connection.hostFingerprint }
        : {}),
      ...(this.#connection.hostName ? { hostName: this.#connection.hostName } : {}),
    };
    switch (change.state) {
      case 'idle':
        return;
      case 'connecting':
        return this.#setConnection({ ...base, status: 'connecting', attempt: change.attempt });
      case 'connected': {
        const host = live.session.host;
        return this.#setConnection({
          ...base,
          status: 'connected',
          ...(host
            ? {
                hostName: hostText(host.name),
                hostFingerprint: host.fingerprint,
                ...trustState(host.trust, live.viaInvite),
              }
            : {}),
        });
      }
      case 'reconnecting':
        for (const room of this.#members.allOffline()) this.#emitMembers(room);
        live.synced.clear();
        return this.#setConnection({
          ...base,
          status: 'reconnecting',
          attempt: change.attempt,
          ...(change.retryInMs !== undefined ? { retryAt: this.#now() + change.retryInMs } : {}),
          ...(change.reason ? { reason: change.reason } : {}),
        });
      case 'stopped': {
        this.#live = undefined;
        this.#abandon(live);
        for (const room of this.#members.allOffline()) this.#emitMembers(room);
        const reason = live.fatalReason ?? (live.stopping ? undefined : change.reason);
        return this.#setConnection({
          ...base,
          status: live.stopping && !live.fatalReason ? 'idle' : 'offline',
          ...(reason ? { reason } : {}),
        });
      }
    }
  }

  #onWelcome(live: Live, welcome: Welcome): void {
    this.#hostRooms = welcome.host.rooms.filter(isValidRoomName);
    if (this.#joined.size === 0 && this.#hostRooms[0]) {
      const first = this.#hostRooms[0];
      live.session.join(first);
      this.#joined.add(first);
      this.#store('remember your rooms', () =>
        this.#history.setJoined(live.context.id, first, true),
      );
    }
    const room =
      (this.#activeRoom && this.#joined.has(this.#activeRoom) ? this.#activeRoom : undefined) ??
      [...this.#joined][0] ??
      this.#hostRooms[0] ??
      'lobby';
    void this.#persist(
      this.#recentHosts.record({
        host: live.context.address.host,
        port: live.context.address.port,
        nick: welcome.nick,
        room,
        fingerprint: welcome.host.fingerprint,
        lastUsed: this.#now(),
      }),
    );
    this.#emitRooms();
  }

  #onMessage(live: Live, message: ChatMessage): void {
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
      this.#store('keep a message', () => this.#history.storeReceived(live.context.id, view)) ??
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
    const older = live.pendingOlder.get(message.room);
    const answersRequest =
      message.history === true && older !== undefined && message.seq < older.before;
    if (!answersRequest) this.#emit('message', view);
    if (own) return;

    const countsAsNew = !message.history || live.roomsWithPast.has(message.room);
    const visible = this.#activeRoom === message.room && this.#windowFocused;
    if (countsAsNew && !visible && !answersRequest && this.#joined.has(message.room)) {
      this.#unread.increment(message.room);
      this.#emitUnread();
    }
    this.#maybeNotify(view, message.history === true);
  }

  #maybeNotify(view: ChatMessageView, history: boolean): void {
    const now = this.#now();
    const settings = this.#settings.current;
    this.#recentNotifications = this.#recentNotifications.filter(
      (n) => now - n.at < RECENT_NOTIFICATIONS_MS,
    );
    const decision = decideNotification({
      message: { room: view.room, from: view.from, text: view.text, own: view.own, history },
      windowFocused: this.#windowFocused,
      roomVisible: this.#activeRoom === view.room,
      muted: settings.muted,
      privacy: settings.notificationPrivacy,
      recent: this.#recentNotifications,
      now,
      platform: this.#platform,
    });
    if (!decision.show) return;
    this.#recentNotifications.push({ room: view.room, from: view.from, at: now });
    if (this.#recentNotifications.length > MAX_RECENT_NOTIFICATIONS) {
      this.#recentNotifications.splice(
        0,
        this.#recentNotifications.length - MAX_RECENT_NOTIFICATIONS,
      );
    }
    this.#emit('notify', decision);
  }

  #onAck(live: Live, ack: Ack): void {
    this.#store('mark a message sent', () =>
      this.#history.markSent(live.context.id, this.#ownKey, ack.id, ack.seq, ack.ts),
    );
    this.#emit('messageStatus', {
      room: ack.room,
      id: ack.id,
      status: 'sent',
      seq: ack.seq,
      ts: ack.ts,
    });
  }

  #onPresence(presence: Presence): void {
    const { room, event, nick, fp, key } = presence;
    if (event === 'joined') this.#members.joined(room, { nick, fp, key });
    else if (event === 'renamed') this.#members.renamed(room, key, presence.newNick ?? nick);
    else this.#members.left(room, key);
    this.#emitMembers(room);
    this.#emit('presence', {
      room,
      event,
      nick,
      fp,
      key,
      ...(presence.newNick ? { newNick: presence.newNick } : {}),
      ts: this.#now(),
    });
  }

  #onMembers(update: MembersUpdate): void {
    this.#members.setPresent(update.room, update.members);
    this.#emitMembers(update.room);
  }

  #onTyping(typing: Typing): void {
    if (typing.fp === this.#ownFp) return;
    this.#emit('typing', { room: typing.room, nick: typing.nick, fp: typing.fp });
  }

  #onNick(live: Live, nick: string): void {
    this.#setConnection({ ...this.#connection, nick });
    void this.#persist(this.#recentHosts.update(live.context.address, { nick }));
  }

  #onHistoryEnd(live: Live, end: HistoryEnd): void {
    live.pendingOlder.get(end.room)?.finish(end.more);
  }

  #onError(live: Live, error: SessionError): void {
    if (error.dropped) {
      const { dropped } = error;
      this.#store('mark a message failed', () =>
        this.#history.markFailed(live.context.id, this.#ownKey, dropped.id),
      );
      this.#emit('messageStatus', {
        room: dropped.room,
        id: dropped.id,
        status: 'failed',
        error: error.message,
      });
    }
    if (error.code === 'unknown-room' && error.room) {
      const room = error.room;
      this.#joined.delete(room);
      this.#store('forget a room', () => this.#history.setJoined(live.context.id, room, false));
      this.#emitRooms();
    }
    // A refused history request is answered: loadHistory need not wait for its timeout. Only
    // the host's refusal of a request about the room itself (ref = room) is one; a refused
    // send, or a message the session skipped, must not end the wait before the page arrives.
    if (error.room && error.ref === error.room && HISTORY_REFUSALS.has(error.code)) {
      live.pendingOlder.get(error.room)?.finish(undefined);
    }
    this.#log('warn', 'session-error', { code: error.code });
    this.#emit('error', { code: error.code, message: hostText(error.message) });
  }

  #onFatal(live: Live, fatal: SessionFatal): void {
    live.fatalReason = fatal.message;
    this.#log('warn', 'session-fatal', { code: fatal.code });
    if (fatal.code === 'host-key-mismatch') {
      this.#emit('hostKeyChanged', {
        host: live.context.address.host,
        port: live.context.address.port,
        expectedFingerprint: fatal.expectedFingerprint,
        actualFingerprint: fatal.actualFingerprint,
        ...(fatal.certificateProblem ? { certificateProblem: fatal.certificateProblem } : {}),
      });
    } else if (fatal.code !== 'host-key-unknown') {
      this.#emit('error', { code: fatal.code, message: fatal.message });
    }
  }

  /** The trust-on-first-use question: asked through the UI, answered by `answerTrust`. */
  #askTrust(
    live: () => Live | undefined,
    print: string,
    address: HostAddress,
    certificateProblem: CertificateProblem | undefined,
  ): Promise<boolean> {
    const requestId = randomUUID();
    return new Promise<boolean>((resolve) => {
      this.#pendingTrust.set(requestId, { live, resolve });
      this.#emit('trustRequired', {
        requestId,
        host: address.host,
        port: address.port,
        fingerprint: print,
        ...(certificateProblem ? { certificateProblem } : {}),
      });
    });
  }

  #authorityStore(): Promise<AuthorityStore> {
    this.#authorities ??= import('../trust/authority-store.ts').then(({ AuthorityStore }) =>
      AuthorityStore.load(this.#dataDir, { now: this.#now }),
    );
    return this.#authorities;
  }

  /** Runs an authority-store call, turning its refusals into errors the user can act on. */
  async #authorityCall<T>(call: (store: AuthorityStore) => Promise<T>): Promise<T> {
    const { AuthorityError } = await import('../trust/authority.ts');
    try {
      return await call(await this.#authorityStore());
    } catch (error) {
      if (!(error instanceof AuthorityError)) throw error;
      throw new ServiceError(
        error.code === 'authority-store' ? 'internal' : error.code,
        error.message,
      );
    }
  }

  #askHostForOlder(
    live: Live,
    room: string,
    before: number,
    limit: number,
  ): Promise<boolean | undefined> {
    const pending = live.pendingOlder.get(room);
    if (pending) return pending.promise;
    if (!live.synced.has(room) || !live.session.loadOlder(room, before, limit)) {
      return Promise.resolve(undefined);
    }
    let finish: (more: boolean | undefined) => void = () => undefined;
    const promise = new Promise<boolean | undefined>((resolve) => {
      const timer = setTimeout(() => finish(undefined), HOST_HISTORY_TIMEOUT_MS);
      timer.unref?.();
      finish = (more) => {
        clearTimeout(timer);
        if (live.pendingOlder.get(room)?.promise === promise) live.pendingOlder.delete(room);
        resolve(more);
      };
    });
    live.pendingOlder.set(room, { before, promise, finish: (more) => finish(more) });
    return promise;
  }

  /** Stops the current session (if any) and waits until its outbox is saved. */
  async #endSession(): Promise<void> {
    const live = this.#live;
    if (!live) return;
    live.stopping = true;
    this.#abandon(live);
    await live.session.stop();
    // stop() reports 'stopped', which clears #live; a session that was still starting may not.
    if (this.#live === live) {
      this.#live = undefined;
      this.#setConnection({ ...this.#connection, status: 'idle', retryAt: undefined });
    }
  }

  /** Closes what the session left open: trust questions (answered "no"), history requests. */
  #abandon(live: Live): void {
    for (const [id, pending] of this.#pendingTrust) {
      const owner = pending.live();
      if (owner === live || owner === undefined) {
        this.#pendingTrust.delete(id);
        pending.resolve(false);
      }
    }
    for (const pending of live.pendingOlder.values()) pending.finish(undefined);
  }

  // ── plumbing ────────────────────────────────────────────────────────────────────────

  #serially<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#lifecycle.then(task, task);
    this.#lifecycle = result.catch(() => undefined);
    return result;
  }

  #requireLive(): Live {
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

  #storedJoinedRooms(host: string): string[] {
    return this.#history
      .rooms(host)
      .filter((r) => r.joined && isValidRoomName(r.room))
      .map((r) => r.room);
  }

  #roomList(): { name: string; joined: boolean; unread: number }[] {
    const names = new Set<string>(this.#hostRooms);
    if (this.#context) {
      for (const { room } of this.#history.rooms(this.#context.id)) names.add(room);
    }
    for (const room of this.#joined) names.add(room);
    return [...names]
      .filter(isValidRoomName)
      .map((name) => ({ name, joined: this.#joined.has(name), unread: this.#unread.get(name) }));
  }

  #memberViews(room: string): MemberView[] {
    return this.#members.views(room, this.#ownKey, (key) => this.#verified.has(key));
  }

  /**
   * The full list goes to the UI once per turn per room, however many presence events came in
   * it: a flood of joins costs one list, not one list per join.
   */
  #emitMembers(room: string): void {
    this.#membersChanged.add(room);
    this.#membersFlush ??= setImmediate(() => {
      this.#membersFlush = undefined;
      const rooms = [...this.#membersChanged];
      this.#membersChanged.clear();
      for (const changed of rooms) {
        this.#emit('members', { room: changed, members: this.#memberViews(changed) });
      }
    });
  }

  /**
   * Runs a local-history call from an event handler. A failing store (disk full, locked, I/O
   * error) becomes an `error` event the user sees — once, until the store works again — and
   * the chat goes on without it: never an exception into the session.
   */
  #store<T>(what: string, call: () => T): T | undefined {
    try {
      const result = call();
      this.#storeFailing = false;
      return result;
    } catch (error) {
      this.#log('error', 'local-store-failed', { error: errorName(error) });
      if (!this.#storeFailing) {
        this.#storeFailing = true;
        this.#emit('error', {
          code: 'local-store',
          message: `Parley could not ${what} in its local history (${storeReason(error)}); the chat goes on, but it is not kept on this computer`,
        });
      }
      return undefined;
    }
  }

  #emitRooms(): void {
    this.#emit('rooms', this.#roomList());
  }

  #emitUnread(): void {
    this.#emit('unread', this.#unread.snapshot());
    this.#emitRooms();
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

/**
 * The verifier, with the certificate problem of the refused key passed on to the question:
 * host-trust's policy callback gets only the fingerprint, but the UI should say why a
 * certificate the host presented did not count.
 */
function askingVerifier(
  build: (ask: (print: string, address: HostAddress) => Promise<boolean>) => HostVerifier,
  ask: (
    print: string,
    address: HostAddress,
    problem: CertificateProblem | undefined,
  ) => Promise<boolean>,
): HostVerifier {
  let problem: CertificateProblem | undefined;
  const inner = build((print, address) => ask(print, address, problem));
  return {
    address: inner.address,
    canConfirm: inner.canConfirm,
    verify: (hostKey, hostInfo) => inner.verify(hostKey, hostInfo),
    confirm: (unknown) => {
      problem = unknown.certificateProblem;
      return inner.confirm(unknown);
    },
  };
}

/** How the UI should describe the trust behind this connection. */
function trustState(
  trust: HostTrust,
  viaInvite: boolean,
): Pick<ConnectionState, 'trust' | 'authority' | 'replacedFingerprint' | 'certificateProblem'> {
  const method = viaInvite
    ? 'invite'
    : trust.method === 'authority'
      ? 'authority'
      : trust.newlyPinned
        ? 'first-use'
        : 'known';
  return {
    trust: method,
    ...(method === 'authority' && trust.authority ? { authority: trust.authority } : {}),
    ...(trust.replacedFingerprint ? { replacedFingerprint: trust.replacedFingerprint } : {}),
    ...(trust.certificateProblem ? { certificateProblem: trust.certificateProblem } : {}),
  };
}

/**
 * Text the host chose (its name, its error messages), made safe to show: control characters
 * and bidirectional overrides become visible escapes, so a host cannot reorder or hide what
 * the user reads around it.
 */
function hostText(text: string): string {
  return text.replace(
    /[\p{Cc}\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu,
    (c) => `\\u{${(c.codePointAt(0) ?? 0).toString(16)}}`,
  );
}

/** SQLite's own words for what failed (never message text: it names the fault, not the data). */
function storeReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0]?.slice(0, 120) ?? 'unknown error';
}

function errorName(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : typeof error;
}
