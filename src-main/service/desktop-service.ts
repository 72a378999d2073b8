import { join } from 'node:path';
import { encodeBase64Url } from '../../src-shared/base64url.ts';
import { fingerprint } from '../../src-shared/fingerprint.ts';
import { isValidRoomName } from '../../src-shared/identifiers.ts';
import { parseInvite } from '../../src-shared/invite.ts';
import type { RequestOutput } from '../../src-shared/ipc/contract.ts';
import type {
  AppSnapshot,
  AuthorityView,
  HostId,
  HostState,
  InviteView,
  MemberView,
  SearchResult,
  Settings,
} from '../../src-shared/ipc/domain.ts';
import { ChatSession, type ChatSessionOptions } from '../client/chat-session.ts';
import { TypedEmitter } from '../client/typed-emitter.ts';
import type { CryptoBackend } from '../protocol/crypto/crypto-backend.ts';
import { selectBackend } from '../protocol/crypto/select-backend.ts';
import { KNOWN_HOSTS_FILE, KnownHosts, KnownHostsError, hostId } from '../store/known-hosts.ts';
import { loadOrCreateAtRestKey } from './at-rest-key.ts';
import { Authorities } from './authorities.ts';
import { type ConnectTarget, connectTarget } from './connect-target.ts';
import type { ParsedInput, RequestHandlers } from './dispatch.ts';
import { safeExternalUrl } from './external-url.ts';
import { type ChooseSavePath, FileRequests } from './file-requests.ts';
import { type DesktopE2ee, type E2eeStorage, openDesktopE2ee } from './desktop-e2ee.ts';
import { type HostSessionShared, HostSession } from './host-session.ts';
import { type SecretStorage, loadIdentity } from './identity-store.ts';
import { LocalHistory, type LocalHistoryOptions } from './local-history.ts';
import { LocalStoreGuard } from './local-store-guard.ts';
import { MessageSearch } from './message-search.ts';
import { RECENT_HOSTS_FILE, RecentHosts } from './recent-hosts.ts';
import { ROOM_MUTES_FILE, RoomMutes } from './room-mutes.ts';
import { DAMAGED_SUFFIX } from './json-file.ts';
import { ServiceError } from './service-error.ts';
import type { ServiceEvents } from './service-events.ts';
import { type ServiceLog, errorName } from './service-log.ts';
import { SettingsStore } from './settings-store.ts';
import { VerifiedMembers } from './verified-members.ts';
import { safetyNumber } from '../e2ee/safety-number.ts';

export { HOST_HISTORY_TIMEOUT_MS } from './host-connection.ts';
export type { ServiceLog } from './service-log.ts';
export type { HostNotification, ServiceEvents } from './service-events.ts';

/**
 * The desktop app without Electron: one method per request of the IPC contract and one typed
 * event per contract event. It is a facade over several hosts at once: what is this install's
 * (identity, settings, local history, authorities, recent hosts, verified members) lives
 * here, and each host in the sidebar is a HostSession (its connection, rooms, unread counts and
 * notifications), found by the `hostId` every host-scoped request names. Side effects (clock,
 * data folder, secret storage, window focus, opening links) are injected, so the same code
 * runs in Electron's main process, under plain Node in tests, and behind the browser test
 * bridge. The Electron glue (src-main/app) only forwards to it.
 */
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
  readonly history?: Omit<LocalHistoryOptions, 'atRestKey' | 'ownKey'>;
  /** How long a room's read position waits before it is sent to our other installs (3 s). */
  readonly readSyncDelayMs?: number;
  /**
   * Where the device's MLS secrets and the person-key pins live: `file` (the app: in the data
   * folder, sealed with the at-rest key), `memory` (the browser bridge, tests), or `false`: no
   * end-to-end encryption (end-to-end encrypted rooms cannot be joined). Default `file`.
   */
  readonly e2ee?: E2eeStorage | false;
  /**
   * Asks the user where to save a received file (the app: a save dialog that confirms
   * overwriting); absent: files cannot be saved.
   */
  readonly chooseSavePath?: ChooseSavePath;
}

export const HISTORY_FILE = 'history.sqlite';
/**
 * Hosts in the sidebar at once. Each holds a connection, its rooms and a reconnect loop, so a
 * renderer (or a pasted list of links) must not add them without end; more than a person can
 * follow in a sidebar anyway.
 */
export const MAX_HOSTS = 32;

export class DesktopService implements RequestHandlers {
  readonly #events: TypedEmitter<ServiceEvents>;
  readonly #dataDir: string;
  readonly #ownKey: string;
  readonly #ownFp: string;
  readonly #keyStorageWarning: string | undefined;
  readonly #history: LocalHistory;
  readonly #search: MessageSearch;
  readonly #settings: SettingsStore;
  readonly #verified: VerifiedMembers;
  readonly #e2ee: DesktopE2ee | undefined;
  readonly #recentHosts: RecentHosts;
  readonly #authorities: Authorities;
  readonly #now: () => number;
  readonly #openExternal: (url: string) => Promise<void>;
  readonly #log: ServiceLog;
  /** What every host's session shares. */
  readonly #shared: HostSessionShared;
  /** sendFile, cancelFile, getFile, saveFile: uploads under way and decrypted images. */
  readonly #files: FileRequests;

  /** The hosts in the sidebar, in the order they were added. */
  readonly #hosts = new Map<HostId, HostSession>();
  /** The host and room on screen (drives unread counts, the "New messages" line, notifications). */
  #activeHost: HostId | null = null;
  #windowFocused = true;
  /** close() began: no host may start any more. */
  #closing = false;
  /** close() ended: nothing is emitted any more. */
  #closed = false;
  /**
   * Per host, connect, retry and disconnect run one at a time: each ends the session the
   * previous began. Different hosts do not wait for each other.
   */
  readonly #lifecycles = new Map<HostId, Promise<unknown>>();
  /** Store writes under way: close() waits for them, so the next start reads what was done. */
  readonly #writes = new Set<Promise<void>>();
  /** Orders hosts added within the same millisecond. */
  #lastOpenedAt = 0;
  /** Store files found damaged at open, told to the UI once it is there (restoreHosts). */
  #damaged: string[];

  private constructor(
    options: DesktopServiceOptions,
    parts: {
      identity: { publicKey: Uint8Array; privateKey: Uint8Array };
      keyStorageWarning: string | undefined;
      history: LocalHistory;
      settings: SettingsStore;
      verified: VerifiedMembers;
      recentHosts: RecentHosts;
      mutes: RoomMutes;
      backend: CryptoBackend;
      e2ee: DesktopE2ee | undefined;
    },
  ) {
    this.#log = options.log ?? (() => undefined);
    this.#damaged = damagedNotices(parts.recentHosts, parts.mutes);
    for (const message of this.#damaged) this.#log('warn', 'store-damaged', { message });
    this.#events = new TypedEmitter((name, error) => {
      this.#log('error', 'listener-failed', { event: name, error: errorName(error) });
      // Told to the other listeners as an error state; a failing `error` listener is only logged.
      if (name !== 'error') {
        this.#emit('error', { code: 'listener-failed', message: `a "${name}" listener failed` });
      }
    });
    this.#dataDir = options.dataDir;
    this.#ownKey = encodeBase64Url(parts.identity.publicKey);
    this.#ownFp = fingerprint(parts.identity.publicKey);
    this.#keyStorageWarning = parts.keyStorageWarning;
    this.#history = parts.history;
    this.#search = new MessageSearch(parts.history);
    this.#settings = parts.settings;
    this.#verified = parts.verified;
    this.#e2ee = parts.e2ee;
    this.#recentHosts = parts.recentHosts;
    this.#now = options.now ?? Date.now;
    this.#openExternal =
      options.openExternal ??
      (() => Promise.reject(new ServiceError('refused', 'links cannot be opened here')));
    this.#authorities = new Authorities(options.dataDir, this.#now);
    const platform = options.platform ?? process.platform;
    const store = new LocalStoreGuard(this.#log, (error) => this.#emit('error', error));
    this.#shared = {
      identity: parts.identity,
      ownKey: this.#ownKey,
      ownFp: this.#ownFp,
      backend: parts.backend,
      history: parts.history,
      store,
      settings: parts.settings,
      verified: parts.verified,
      e2ee: parts.e2ee,
      recentHosts: parts.recentHosts,
      mutes: parts.mutes,
      now: this.#now,
      platform,
      log: this.#log,
      createSession: options.createSession ?? ((o) => new ChatSession(o)),
      sessionOptions: options.sessionOptions,
      emit: (name, payload) => this.#emit(name, payload),
      unread: (id, { counts, total, mentions }) =>
        this.#emit('unread', {
          hostId: id,
          counts,
          total,
          allHosts: this.unreadTotal,
          mentions,
          allHostsMentions: this.unreadMentions,
        }),
      persist: (write) => void this.#persist(write),
      search: this.#search,
      // The closures run later: #files is made right after #shared.
      deleted: (id, room, seq) => this.#files.messageDeleted(id, room, seq),
      forgotten: (id, room) => this.#files.roomForgotten(id, room),
      ...(options.readSyncDelayMs !== undefined
        ? { readSyncDelayMs: options.readSyncDelayMs }
        : {}),
    };
    this.#files = new FileRequests({
      session: (id) => this.#session(id).fileSession(),
      fileOf: (id, room, seq) => parts.history.fileOf(id, room, seq),
      keepQueued: (id, view, meta) => {
        store.run('keep your message', () => parts.history.storeQueued(id, view, meta));
        // Read back: a reply's quote comes from our own copy.
        const kept = store.run('read your message', () =>
          parts.history.find(id, this.#ownKey, view.id),
        );
        if (kept) this.#emit('message', { ...kept, hostId: id });
      },
      emit: (name, payload) => this.#emit(name, payload),
      self: { key: this.#ownKey, fp: this.#ownFp },
      now: this.#now,
      log: this.#log,
      ...(options.chooseSavePath ? { chooseSavePath: options.chooseSavePath } : {}),
    });
  }

  /** Loads the identity (sealed with `secretStorage` where available) and the stores. */
  static async open(options: DesktopServiceOptions): Promise<DesktopService> {
    const backend = options.backend ?? selectBackend();
    const identity = await loadIdentity({
      dataDir: options.dataDir,
      backend,
      secretStorage: options.secretStorage,
    });
    // The key that seals the local history's text and the device's MLS secrets: kept like the
    // identity (the keychain where there is one; the identity's warning covers both).
    const atRest = await loadOrCreateAtRestKey({
      dataDir: options.dataDir,
      secretStorage: options.secretStorage,
    });
    const [settings, verified, recentHosts, mutes] = await Promise.all([
      SettingsStore.open(options.dataDir),
      VerifiedMembers.open(options.dataDir),
      RecentHosts.open(options.dataDir),
      RoomMutes.open(options.dataDir),
    ]);
    const storage = options.e2ee ?? 'file';
    const e2ee =
      storage === false
        ? undefined
        : await openDesktopE2ee({
            dataDir: options.dataDir,
            atRestKey: atRest.key,
            identity: identity.keyPair,
            storage,
          });
    let history: LocalHistory;
    try {
      history = LocalHistory.open(join(options.dataDir, HISTORY_FILE), {
        ...options.history,
        atRestKey: atRest.key,
        ownKey: encodeBase64Url(identity.keyPair.publicKey),
      });
    } catch (error) {
      await e2ee?.close();
      throw error;
    }
    return new DesktopService(options, {
      identity: identity.keyPair,
      keyStorageWarning: identity.warning,
      history,
      settings,
      verified,
      recentHosts,
      mutes,
      backend,
      e2ee,
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

  /** The badge across every host (muted rooms left out): the tray, dock and window title. */
  get unreadTotal(): number {
    let total = 0;
    for (const session of this.#hosts.values()) total += session.unreadTotal;
    return total;
  }

  /** Unread mentions across every host (rooms muted to 'nothing' left out): the tray shows them. */
  get unreadMentions(): number {
    let total = 0;
    for (const session of this.#hosts.values()) total += session.unreadMentions;
    return total;
  }

  /** The host and room on screen, if any. */
  get activeRoom(): { hostId: HostId; room: string } | null {
    const session = this.#activeHost ? this.#hosts.get(this.#activeHost) : undefined;
    const room = session?.activeRoom;
    return session && room ? { hostId: session.id, room } : null;
  }

  /** The window gained or lost focus: drives unread counts and notifications. */
  setWindowFocused(focused: boolean): void {
    this.#windowFocused = focused;
    for (const session of this.#hosts.values()) session.setWindowFocused(focused);
  }

  /** Asks the UI to show a room (a notification was clicked). */
  openRoom(target: { hostId: HostId; room: string }): void {
    if (isValidRoomName(target.room) && this.#hosts.has(target.hostId)) {
      this.#emit('openRoom', { hostId: target.hostId, room: target.room });
    }
  }

  /** An invite link arrived from the OS; the UI asks the user before connecting. */
  openInvite(invite: string): boolean {
    if (!parseInvite(invite).ok) return false;
    this.#emit('openInvite', { invite: invite.trim() });
    return true;
  }

  /**
   * Connects again to the hosts that were in the sidebar when the app last quit, in the order
   * they were added. The shell calls it once its window is ready (not `open`, so tests decide
   * when). A host that cannot be started is logged and skipped; the others come back.
   */
  async restoreHosts(): Promise<HostState[]> {
    // What could not be read is said, not silently started over from (the UI is up now).
    for (const message of this.#damaged.splice(0)) {
      this.#emit('error', { code: 'store-damaged', message });
    }
    const states: HostState[] = [];
    for (const recent of this.#recentHosts.openHosts()) {
      // Already there, or being connected by the user as the window came up: theirs wins.
      const id = hostId(recent);
      if (this.#hosts.has(id) || this.#lifecycles.has(id)) continue;
      try {
        states.push(
          await this.connect({ host: recent.host, port: recent.port, nick: recent.nick }),
        );
      } catch (error) {
        this.#log('warn', 'restore-host-failed', { error: errorName(error) });
      }
    }
    return states;
  }

  /** Says goodbye to every host, saves their outboxes, closes the history. */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    this.#files.close();
    // Whatever is under way per host finishes first (a connect queued now is refused).
    await Promise.all([...this.#lifecycles.values()].map((p) => p.catch(() => undefined)));
    await Promise.all([...this.#hosts.values()].map((session) => session.end()));
    await Promise.all([...this.#writes]);
    this.#closed = true;
    this.#hosts.clear();
    this.#search.close();
    this.#history.close();
    await this.#e2ee?.close();
  }

  // ── requests ────────────────────────────────────────────────────────────────────────

  getSnapshot(_input: ParsedInput<'getSnapshot'>): AppSnapshot {
    return {
      hosts: this.#sidebar().map((session) => session.snapshot()),
      settings: this.#settings.current,
      recentHosts: this.#recentHosts.list(),
      ...(this.#keyStorageWarning ? { keyStorageWarning: this.#keyStorageWarning } : {}),
    };
  }

  /**
   * Adds the host to the sidebar and connects, or — already there — connects it again with
   * this input. Other hosts are untouched.
   */
  async connect(input: ParsedInput<'connect'>): Promise<HostState> {
    this.#assertOpen();
    return this.#start(input, connectTarget(input));
  }

  #start(input: ParsedInput<'connect'>, target: ConnectTarget): Promise<HostState> {
    const id = hostId(target.address);
    // A host's place in the sidebar is the order of the Connects, whichever starts first.
    const openedAt = this.#hosts.get(id)?.openedAt ?? this.#nextOpenedAt();
    return this.#serially(id, async () => {
      this.#assertOpen();
      // What can fail is read first: a connect that cannot start leaves the app as it was,
      // never with a host in the sidebar the UI was not told of.
      let knownHosts: KnownHosts;
      try {
        knownHosts = await KnownHosts.load(join(this.#dataDir, KNOWN_HOSTS_FILE));
      } catch (error) {
        // A damaged list of pinned keys must be repaired by a person, never reset silently.
        if (error instanceof KnownHostsError) throw new ServiceError('internal', error.message);
        throw error;
      }
      const authorities = await this.#authorities.current();
      this.#assertOpen();
      let session = this.#hosts.get(id);
      if (session && target.inviteKey) session.assertInviteMatches(target.inviteKey);
      if (!session) {
        // Checked here, where the host is added in the same turn: Connects at once count too.
        if (this.#hosts.size >= MAX_HOSTS) {
          throw new ServiceError(
            'refused',
            `Parley holds at most ${MAX_HOSTS} hosts at once; disconnect from one first`,
          );
        }
        session = new HostSession(this.#shared, target.address, id, openedAt);
        session.setWindowFocused(this.#windowFocused);
        this.#hosts.set(id, session);
      }
      return session.start({ input, target, knownHosts, authorities });
    });
  }

  /** Ends the session with one host; it leaves the sidebar (its history stays on disk). */
  async disconnect(input: ParsedInput<'disconnect'>): Promise<Record<string, never>> {
    // A host still being added (its Connect reads the pinned keys first) is let go once it is.
    if (this.#lifecycles.has(input.hostId)) this.#assertOpen();
    else this.#session(input.hostId);
    return this.#serially(input.hostId, async () => {
      const session = this.#session(input.hostId);
      const last = await session.end();
      this.#hosts.delete(session.id);
      this.#files.hostGone(session.id);
      if (this.#activeHost === session.id) this.#activeHost = null;
      // Also after a refusal (changed key) that already ended the session: the user is done.
      this.#emit('connectionState', last);
      this.#emit('unread', {
        hostId: session.id,
        counts: {},
        total: 0,
        allHosts: this.unreadTotal,
        mentions: {},
        allHostsMentions: this.unreadMentions,
      });
      await this.#persist(this.#recentHosts.setOpen(session.address, undefined));
      return {};
    });
  }

  /** While reconnecting or offline: try now instead of waiting for the countdown. */
  async retryNow(input: ParsedInput<'retryNow'>): Promise<Record<string, never>> {
    await this.#retry(this.#session(input.hostId));
    return {};
  }

  /** The network came back or the machine woke: every host waiting to reconnect tries now. */
  async networkChanged(_input: ParsedInput<'networkChanged'>): Promise<Record<string, never>> {
    this.#assertOpen();
    const waiting = [...this.#hosts.values()].filter((session) => session.waitsToReconnect);
    await Promise.all(
      waiting.map((session) =>
        this.#retry(session).catch((error: unknown) =>
          this.#log('warn', 'retry-failed', { error: errorName(error) }),
        ),
      ),
    );
    return {};
  }

  async #retry(session: HostSession): Promise<void> {
    if (session.retryNow()) return;
    // A Connect, retry or disconnect of this host is under way: it decides; pressing Retry now
    // again must not end the attempt it started with another.
    const underWay = this.#lifecycles.get(session.id);
    if (underWay) {
      await underWay;
      return;
    }
    // The connection stopped (it gave up, or was refused): a new one, as Connect would.
    const nick = session.nick ?? this.#recentHosts.find(session.address)?.nick;
    if (nick === undefined) {
      throw new ServiceError('not-connected', `connect to ${session.id} again to choose a nick`);
    }
    // With the invite's key if it came with one (never its token): without it, a host refused
    // for not matching the link would be asked about as a stranger, one click from trusted.
    const { address, inviteKey } = session;
    await this.#start(
      { host: address.host, port: address.port, nick },
      { address, ...(inviteKey ? { inviteKey } : {}) },
    );
  }

  send(input: ParsedInput<'send'>): { id: string } {
    return this.#session(input.hostId).send(input);
  }

  joinRoom(input: ParsedInput<'joinRoom'>): Record<string, never> {
    this.#session(input.hostId).joinRoom(input.room);
    return {};
  }

  leaveRoom(input: ParsedInput<'leaveRoom'>): Record<string, never> {
    this.#session(input.hostId).leaveRoom(input.room);
    return {};
  }

  setActiveRoom(input: ParsedInput<'setActiveRoom'>): Record<string, never> {
    const { hostId: id, room } = input;
    if (id !== null) this.#session(id);
    this.#activeHost = id;
    for (const session of this.#hosts.values()) {
      session.setActive(session.id === id ? room : null);
    }
    return {};
  }

  async setRoomMute(input: ParsedInput<'setRoomMute'>): Promise<Record<string, never>> {
    const session = this.#session(input.hostId);
    await session.setMute(input.room, input.mute).catch((error: unknown) => {
      if (error instanceof ServiceError) throw error;
      this.#log('error', 'store-write-failed', { error: errorName(error) });
      throw new ServiceError('internal', 'the notification level could not be saved');
    });
    // The badge across hosts follows (the session told its own counts already).
    return {};
  }

  loadHistory(input: ParsedInput<'loadHistory'>): Promise<RequestOutput<'loadHistory'>> {
    return this.#session(input.hostId).loadHistory(input);
  }

  typing(input: ParsedInput<'typing'>): Record<string, never> {
    this.#session(input.hostId).typing(input.room);
    return {};
  }

  setNick(input: ParsedInput<'setNick'>): Record<string, never> {
    this.#session(input.hostId).setNick(input.nick);
    return {};
  }

  getMembers(input: ParsedInput<'getMembers'>): MemberView[] {
    return this.#session(input.hostId).getMembers(input.room);
  }

  answerTrust(input: ParsedInput<'answerTrust'>): Record<string, never> {
    for (const session of this.#hosts.values()) {
      if (session.answerTrust(input.requestId, input.trust)) return {};
    }
    throw new ServiceError('not-found', 'that question is no longer open');
  }

  async markVerified(input: ParsedInput<'markVerified'>): Promise<Record<string, never>> {
    // A safety number binds the person key accepted for them now (a later change drops it); a
    // fingerprint compared in a room without end-to-end encryption covers no person key.
    const person = input.bySafetyNumber ? this.#e2ee?.pins.personOf(input.key) : undefined;
    if (await this.#verified.set(input.key, input.verified, person)) {
      for (const session of this.#hosts.values()) session.verifiedChanged(input.key);
    }
    return {};
  }

  safetyNumber(input: ParsedInput<'safetyNumber'>): string {
    const e2ee = this.#e2ee;
    if (!e2ee) throw new ServiceError('refused', 'end-to-end encryption is off in this app');
    if (input.key === this.#ownKey) {
      throw new ServiceError('invalid-request', 'a safety number is between you and someone else');
    }
    const person = this.#session(input.hostId).personOf(input.key) ?? e2ee.pins.personOf(input.key);
    if (!person) {
      throw new ServiceError(
        'not-found',
        'their devices are not known yet: a safety number needs an end-to-end encrypted room ' +
          'you are both in, set up',
      );
    }
    return safetyNumber(
      { parleyKey: e2ee.device.parleyKey, personKey: e2ee.device.personKey },
      { parleyKey: input.key, personKey: person },
    );
  }

  async acceptKeyChange(input: ParsedInput<'acceptKeyChange'>): Promise<Record<string, never>> {
    const e2ee = this.#e2ee;
    if (!e2ee) throw new ServiceError('refused', 'end-to-end encryption is off in this app');
    const person = this.#session(input.hostId).personOf(input.key);
    if (!person) throw new ServiceError('not-found', 'no changed key to accept for them');
    if (e2ee.pins.check(input.key, person) !== 'same') {
      await e2ee.pins.accept(input.key, person);
      for (const session of this.#hosts.values()) session.keyAccepted(input.key);
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

  createInvite(input: ParsedInput<'createInvite'>): Promise<RequestOutput<'createInvite'>> {
    return this.#session(input.hostId).createInvite(input);
  }

  listInvites(input: ParsedInput<'listInvites'>): Promise<InviteView[]> {
    return this.#session(input.hostId).listInvites(input.room);
  }

  async revokeInvite(input: ParsedInput<'revokeInvite'>): Promise<Record<string, never>> {
    await this.#session(input.hostId).membership((s) => s.revokeInvite(input.room, input.id));
    return {};
  }

  async createRoom(input: ParsedInput<'createRoom'>): Promise<{ room: string }> {
    const info = await this.#session(input.hostId).membership((s) =>
      s.createRoom(input.room, input.open === undefined ? {} : { open: input.open }),
    );
    return { room: info.room };
  }

  async setTopic(input: ParsedInput<'setTopic'>): Promise<Record<string, never>> {
    await this.#session(input.hostId).membership((s) => s.setTopic(input.room, input.topic));
    return {};
  }

  async setOpen(input: ParsedInput<'setOpen'>): Promise<Record<string, never>> {
    await this.#session(input.hostId).membership((s) => s.setOpen(input.room, input.open));
    return {};
  }

  async unban(input: ParsedInput<'unban'>): Promise<Record<string, never>> {
    await this.#session(input.hostId).membership((s) => s.unban(input.room, input.key));
    return {};
  }

  async partRoom(input: ParsedInput<'partRoom'>): Promise<Record<string, never>> {
    await this.#session(input.hostId).membership((s) => s.part(input.room));
    return {};
  }

  async removeMember(input: ParsedInput<'removeMember'>): Promise<Record<string, never>> {
    await this.#session(input.hostId).membership((s) =>
      s.remove(input.room, input.key, { ban: input.ban }),
    );
    return {};
  }

  async setRole(input: ParsedInput<'setRole'>): Promise<Record<string, never>> {
    await this.#session(input.hostId).membership((s) =>
      s.setRole(input.room, input.key, input.role),
    );
    return {};
  }

  async openDm(input: ParsedInput<'openDm'>): Promise<{ room: string }> {
    if (input.key === this.#ownKey) {
      throw new ServiceError('invalid-request', 'a direct message is with someone else');
    }
    const info = await this.#session(input.hostId).membership((s) => s.openDm(input.key));
    return { room: info.room };
  }

  // ── the conversation's events (#17: being built, see design17.md) ────────────────────

  editMessage(input: ParsedInput<'editMessage'>): { id: string } {
    return this.#session(input.hostId).editMessage(input);
  }

  deleteMessage(input: ParsedInput<'deleteMessage'>): { id: string } {
    return this.#session(input.hostId).deleteMessage(input);
  }

  react(input: ParsedInput<'react'>): { id: string } {
    return this.#session(input.hostId).react(input);
  }

  sendFile(input: ParsedInput<'sendFile'>): { id: string } {
    return this.#files.sendFile(input);
  }

  cancelFile(input: ParsedInput<'cancelFile'>): Record<string, never> {
    this.#session(input.hostId);
    return this.#files.cancelFile(input);
  }

  getFile(input: ParsedInput<'getFile'>): Promise<{ data: string; mime: string; name: string }> {
    this.#session(input.hostId);
    return this.#files.getFile(input);
  }

  saveFile(input: ParsedInput<'saveFile'>): Promise<{ saved: boolean }> {
    this.#session(input.hostId);
    return this.#files.saveFile(input);
  }

  /**
   * Searches the local, decrypted history. The index is built in the background from shortly
   * after start (message-search.ts); a search before it is complete waits for it.
   */
  async search(input: ParsedInput<'search'>): Promise<{ results: SearchResult[] }> {
    this.#assertOpen();
    return {
      results: await this.#search.search(input.query, {
        ...(input.hostId !== undefined ? { hostId: input.hostId } : {}),
        ...(input.room !== undefined ? { room: input.room } : {}),
        ...(input.limit !== undefined ? { limit: input.limit } : {}),
      }),
    };
  }

  // ── plumbing ────────────────────────────────────────────────────────────────────────

  /** The hosts in the order they were added. */
  #sidebar(): HostSession[] {
    return [...this.#hosts.values()].sort((a, b) => a.openedAt - b.openedAt);
  }

  /** The host a request names; one not in the sidebar is refused, saying which. */
  #session(id: HostId): HostSession {
    this.#assertOpen();
    const session = this.#hosts.get(id);
    if (!session) {
      throw new ServiceError(
        'not-connected',
        `${id} is not one of your hosts now; connect to it first`,
      );
    }
    return session;
  }

  #serially<T>(id: HostId, task: () => Promise<T>): Promise<T> {
    const previous = this.#lifecycles.get(id) ?? Promise.resolve();
    const result = previous.then(task, task);
    const settled = result.catch(() => undefined);
    this.#lifecycles.set(id, settled);
    void settled.then(() => {
      if (this.#lifecycles.get(id) === settled) this.#lifecycles.delete(id);
    });
    return result;
  }

  #nextOpenedAt(): number {
    this.#lastOpenedAt = Math.max(this.#now(), this.#lastOpenedAt + 1);
    return this.#lastOpenedAt;
  }

  #assertOpen(): void {
    if (this.#closing) throw new ServiceError('not-connected', 'Parley is shutting down');
  }

  /** Store writes that need not hold up the caller, but whose failure must be seen. */
  #persist(write: Promise<void>): Promise<void> {
    const done = write.catch((error: unknown) => {
      this.#log('error', 'store-write-failed', { error: errorName(error) });
    });
    this.#writes.add(done);
    void done.then(() => this.#writes.delete(done));
    return done;
  }
}

/** What the user is told about store files that could not be read (each was set aside). */
function damagedNotices(recentHosts: RecentHosts, mutes: RoomMutes): string[] {
  const aside = (file: string) => `the file was set aside as ${file}${DAMAGED_SUFFIX}`;
  return [
    ...(recentHosts.damaged
      ? [
          `${RECENT_HOSTS_FILE} could not be read, so the hosts open when Parley last quit are ` +
            `not back; ${aside(RECENT_HOSTS_FILE)}`,
        ]
      : []),
    ...(mutes.damaged
      ? [
          `${ROOM_MUTES_FILE} could not be read, so every room notifies again until muted ` +
            `anew; ${aside(ROOM_MUTES_FILE)}`,
        ]
      : []),
  ];
}
