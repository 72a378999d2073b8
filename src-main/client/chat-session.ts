import net, { type Socket } from 'node:net';
import { encodeBase64Url } from '../../src-shared/base64url.ts';
import { ClientMessageId } from '../../src-shared/identifier-schemas.ts';
import { NICK_RULE, isInviteToken, isValidRoomName } from '../../src-shared/identifiers.ts';
import { type HostAddress, formatAddress, formatInvite } from '../../src-shared/invite.ts';
import { initiateChannel } from '../protocol/client-handshake.ts';
import type { BackendName, KeyPair } from '../protocol/crypto/crypto-backend.ts';
import { ProtocolError } from '../protocol/errors.ts';
import type { CloseInfo, SecureChannel } from '../protocol/secure-channel.ts';
import type { Suite } from '../protocol/suites.ts';
import { ChatEvent, FileRef, relationOf } from '../protocol/wire/chat-event.ts';
import { WireError, decodeMessage, encodeMessage, utf8Length } from '../protocol/wire/codec.ts';
import {
  ClientMessage,
  CloseCode,
  type HostErrorCode,
  Hello,
  type RoomEvent,
  HostInfo,
  HostMessage,
  MAX_TEXT_BYTES,
  type Member,
  type RoomInfo,
  WIRE_VERSION,
} from '../protocol/wire/messages.ts';
import { type BackoffOptions, DEFAULT_BACKOFF, backoffDelay } from './backoff.ts';
import {
  type Disposition,
  IncompatibleHost,
  afterClose,
  afterConnectFailure,
} from './close-policy.ts';
import { Deadlines } from './deadlines.ts';
import { chunkCount, maxPlainSize, newFileKey } from './files/file-cipher.ts';
import {
  type FileTransferCode,
  FileTransferError,
  FileTransfers,
  type TransferOptions,
} from './files/file-transfer.ts';
import type { E2eeOptions } from './e2ee/e2ee-options.ts';
import { SessionCrypto, type SessionPort } from './e2ee/session-crypto.ts';
import { GAP_PAGE_SIZE, GapFill, MAX_GAP_PAGES } from './gap-fill.ts';
import {
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_WELCOME_TIMEOUT_MS,
  HostMisbehaved,
  MAX_RETRY_AFTER_MS,
  timeProblem,
} from './host-bounds.ts';
import type { HostTrust, HostVerifier } from './host-trust.ts';
import { InviteRedeemer } from './invite-redeemer.ts';
import { Keepalive } from './keepalive.ts';
import { MembershipApi } from './membership-api.ts';
import {
  type AnswerOf,
  MembershipError,
  MembershipRequests,
  type RequestBody,
} from './membership-requests.ts';
import {
  Outbox,
  type OutboxEntry,
  type OutboxStore,
  memoryOutboxStore,
  newMessageId,
} from './outbox.ts';
import { eventText } from '../store/outbox-store.ts';
import { RoomDirectory } from './room-directory.ts';
import { RoomState } from './room-state.ts';
import { SendPacer } from './send-pacer.ts';
import type {
  HostDetails,
  SessionError,
  SessionFatal,
  SessionState,
  StateChange,
} from './session-events.ts';
import { fingerprintOfKey } from './key-fingerprint.ts';
import type { TimelineItem } from './timeline.ts';
import { Timer, type Timers, realTimers } from './timers.ts';

// What a caller builds to enable end-to-end encrypted rooms (the desktop and the line client).
export type { E2eeOptions } from './e2ee/e2ee-options.ts';

export const CLIENT_SOFTWARE = 'parley/0.1.0';
/** stop() waits this long at most for the encrypted rooms' work in progress. */
const STOP_CRYPTO_WAIT_MS = 5000;
/** Typing notices leave at most this often per room; the host drops extras anyway. */
export const TYPING_INTERVAL_MS = 3000;
const PACE_MARGIN = 0.9;

export interface ChatSessionOptions {
  readonly address: HostAddress;
  readonly identity: KeyPair;
  readonly nick: string;
  /** Decides whether the host is the one we meant (see host-trust.ts). */
  readonly trust: HostVerifier;
  /**
   * Joined on every (re)connect, besides the rooms the host lists with a role for this key
   * (those are joined by themselves). A room this key cannot see is refused `unknown-room`.
   */
  readonly rooms: readonly string[];
  /**
   * An invite link's token: redeemed after each welcome until the host admits the key, then
   * forgotten (never logged, never stored). Refused for good: the `inviteRefused` event.
   */
  readonly inviteToken?: string;
  readonly backend?: BackendName;
  readonly suite?: Suite;
  readonly software?: string;
  readonly reconnect?: Partial<BackoffOptions>;
  /** Send a ping after this long without traffic (default 15 s). */
  readonly pingIntervalMs?: number;
  /** Nothing from the host for this long: the connection is dead, reconnect (default 30 s). */
  readonly timeoutMs?: number;
  readonly handshakeTimeoutMs?: number;
  /** The host must send `welcome` this soon after the handshake (default 15 s). */
  readonly welcomeTimeoutMs?: number;
  /** The host must finish answering a join or a history page this soon (default 30 s). */
  readonly requestTimeoutMs?: number;
  readonly outboxStore?: OutboxStore;
  /**
   * End-to-end encrypted rooms (MLS, docs/protocol.md §12): this install's device, its store,
   * the person-key pins and the suite. Without it, such rooms cannot be joined.
   */
  readonly e2ee?: E2eeOptions;
  readonly now?: () => number;
  /** In [0, 1), for the reconnect jitter. */
  readonly random?: () => number;
  readonly timers?: Timers;
  /** Opens the TCP connection (default `net.connect`). */
  readonly connect?: (address: HostAddress) => Socket;
}

/**
 * A call the session cannot honour: a programming or input error, thrown synchronously; and
 * why a file transfer failed (sendFile and fetchFile reject with it).
 */
export class ChatSessionError extends Error {
  override readonly name = 'ChatSessionError';
  readonly code:
    | 'invalid-nick'
    | 'invalid-room'
    | 'invalid-text'
    | 'invalid-request'
    | 'not-joined'
    | 'stopped'
    // Files (sendFile, fetchFile): their promises reject with these.
    | FileTransferCode;

  constructor(code: ChatSessionError['code'], message: string) {
    super(message);
    this.code = code;
  }
}

interface Connection {
  readonly channel: SecureChannel;
  readonly host: HostDetails;
  /** The host's key, checked by the handshake: the key of the links this session makes. */
  readonly hostKey: Uint8Array;
  welcomed: boolean;
  pacer: SendPacer | undefined;
}

/**
 * One chat session with one host: connects, checks the host key, joins rooms, keeps an
 * outbox that survives reconnects, reconnects with backoff, and reports everything as typed
 * events. It prints nothing and owns no process state, so the line client, the desktop app
 * and a test bridge can all drive it.
 *
 * It trusts the host with nothing it cannot check: every value is validated for what the
 * client does with it, everything held for the host is bounded, and every answer waited for
 * has a deadline (host-bounds.ts). A host that breaks one is told `protocol-error`, the user
 * gets an `error` saying what happened, and the session reconnects with backoff. A listener
 * that throws is reported as an `error` event and affects neither the session nor others.
 */
export class ChatSession extends MembershipApi {
  readonly #address: HostAddress;
  readonly #identity: KeyPair;
  readonly #verifier: HostVerifier;
  readonly #options: ChatSessionOptions;
  readonly #backoff: BackoffOptions;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #store: OutboxStore;
  readonly #outbox = new Outbox();
  readonly #rooms = new Map<string, RoomState>();
  /** What the host says this key may see (its `rooms`); #rooms is what the session joins. */
  readonly #directory = new RoomDirectory();
  /** Rooms the caller left: not joined again by themselves when the host lists them. */
  readonly #leftByCaller = new Set<string>();
  readonly #requests: MembershipRequests;
  readonly #files: FileTransfers;
  /** sendFile calls waiting for their room's join: checked whenever a room syncs or leaves. */
  readonly #syncWaiters = new Set<() => void>();
  readonly #redeemer: InviteRedeemer;
  readonly #typingSentAt = new Map<string, number>();
  readonly #retryTimer: Timer;
  readonly #pumpTimer: Timer;
  readonly #keepalive: Keepalive;
  readonly #deadlines: Deadlines;
  readonly #welcomeTimeoutMs: number;
  readonly #requestTimeoutMs: number;
  /** Retries the host asked us to wait for (a refused join or gap page), per connection. */
  readonly #retries = new Set<Timer>();
  readonly #timers: Timers;
  #nick: string;
  #state: SessionState = 'idle';
  #attempt = 0;
  /**
   * The attempt under way, or the one that just failed, was asked for (retryNow): the UI can
   * tell its outcome from that of an automatic attempt whose news was still on its way.
   */
  #retried = false;
  #penalized = false;
  /** Bumped by every attempt and by stop(): callbacks of older attempts are ignored. */
  #generation = 0;
  #socket: Socket | undefined;
  #connection: Connection | undefined;
  #stopped = false;
  /** A handshake with the host has completed since start(): it is there, at this address. */
  #reached = false;
  #pingCounter = 0;
  #saving: Promise<void> | undefined;
  #saveWanted = false;
  /** End-to-end encrypted rooms; undefined without `e2ee` options. */
  readonly #crypto: SessionCrypto | undefined;
  /** Plaintext rooms already reported `not-encrypted`. */
  readonly #plainReported = new Set<string>();

  constructor(options: ChatSessionOptions) {
    super((name, error) => {
      // An `error` listener that throws has nobody left to tell.
      if (name !== 'error') {
        this.#emitError({
          code: 'listener-failed',
          message: `a listener of "${name}" failed: ${describe(error)}`,
        });
      }
    });
    if (!Hello.shape.nick.safeParse(options.nick).success) {
      throw new ChatSessionError('invalid-nick', NICK_RULE);
    }
    if (options.inviteToken !== undefined && !isInviteToken(options.inviteToken)) {
      // Sent as is, a malformed token would be a protocol error the host hangs up on.
      throw new ChatSessionError('invalid-request', 'an invite code is 24 characters of base64url');
    }
    this.#options = options;
    this.#address = options.address;
    this.#identity = options.identity;
    this.#verifier = options.trust;
    this.#nick = options.nick;
    this.#backoff = { ...DEFAULT_BACKOFF, ...options.reconnect };
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
    this.#store = options.outboxStore ?? memoryOutboxStore();
    const timers = options.timers ?? realTimers;
    this.#timers = timers;
    this.#welcomeTimeoutMs = options.welcomeTimeoutMs ?? DEFAULT_WELCOME_TIMEOUT_MS;
    this.#requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.#deadlines = new Deadlines(timers, this.#now, (what) =>
      this.#misbehaved(
        this.#connection,
        new HostMisbehaved('host-timeout', `the host did not ${what} in time`),
      ),
    );
    this.#requests = new MembershipRequests(this.#deadlines, this.#requestTimeoutMs);
    this.#files = new FileTransfers({
      request: (request) =>
        this.#requests.start(request, (message) =>
          this.#connection?.welcomed ? this.#write(message) : false,
        ),
      writeChunk: (message) => (this.#connection?.welcomed ? this.#write(message) : false),
      expect: (key, ms, what) => this.#deadlines.set(key, ms, what),
      settle: (key) => this.#deadlines.settle(key),
    });
    this.#redeemer = new InviteRedeemer(options.inviteToken, {
      redeem: (token, redeemed, failed) =>
        this.#requests.send(
          { t: 'redeem', token },
          (message) => this.#write(message),
          ({ room, role }) => redeemed({ room, role }),
          failed,
        ),
      later: (ms, action) => this.#later(ms, action),
      redeemed: (redeemed) => this.emit('redeemed', redeemed),
      refused: (refused) => this.emit('inviteRefused', refused),
    });
    this.#retryTimer = new Timer(timers);
    this.#pumpTimer = new Timer(timers);
    this.#keepalive = new Keepalive({
      pingIntervalMs: options.pingIntervalMs ?? 15_000,
      timeoutMs: options.timeoutMs ?? 30_000,
      now: this.#now,
      timers,
      ping: () => this.#write({ t: 'ping', n: ++this.#pingCounter }),
      dead: (silentMs) =>
        this.#connection?.channel.destroy(
          new ProtocolError(
            'connection-lost',
            `no traffic from the host for ${(silentMs / 1000).toFixed(1)} s`,
          ),
        ),
    });
    this.#crypto = options.e2ee
      ? new SessionCrypto(
          options.e2ee,
          options.identity,
          formatAddress(options.address.host, options.address.port),
          encodeBase64Url(options.identity.publicKey),
          this.#cryptoPort(),
        )
      : undefined;
    for (const room of options.rooms) this.#addRoom(room);
  }

  get state(): SessionState {
    return this.#state;
  }

  get nick(): string {
    return this.#nick;
  }

  get publicKey(): Uint8Array {
    return this.#identity.publicKey;
  }

  /** The host of the current connection, once the handshake is done. */
  get host(): HostDetails | undefined {
    return this.#connection?.host;
  }

  get rooms(): string[] {
    return [...this.#rooms.keys()];
  }

  /** Messages written but not yet acknowledged by the host, oldest first. */
  get pending(): OutboxEntry[] {
    return this.#outbox.entries;
  }

  members(room: string): Member[] {
    return this.#rooms.get(room)?.members ?? [];
  }

  /** The rooms this key may see, as the host last listed them (with the changes since). */
  get roomList(): RoomInfo[] {
    return this.#directory.list;
  }

  roomInfo(room: string): RoomInfo | undefined {
    return this.#directory.get(room);
  }

  /** Loads the saved outbox, then connects. Events start after this returns. */
  start(): void {
    if (this.#state !== 'idle') return;
    this.#setState('connecting');
    void this.#begin();
  }

  /**
   * While waiting to reconnect: connects now instead of when the countdown ends (the user
   * pressed "Retry now", the network came back, the machine woke). The attempt count still
   * grows, so another failure waits as long as it would have. Returns whether an attempt
   * started: while connecting or connected there is nothing to skip, and a stopped session
   * (by stop(), or for good: a person must act first) stays stopped.
   */
  retryNow(): boolean {
    if (this.#stopped) return false;
    // An attempt already under way answers the request: its outcome is said to be the retry's.
    if (this.#state === 'connecting') this.#retried = true;
    if (this.#state !== 'reconnecting' || !this.#retryTimer.active) return false;
    this.#retryTimer.clear();
    this.#retried = true;
    void this.#connect();
    return true;
  }

  /** Says goodbye to the host and stops reconnecting. Unacknowledged messages stay in the store. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#shutDown();
    this.#connection?.channel.close(CloseCode.bye, 'the user left');
    this.#connection = undefined;
    await this.#flushStore();
    // What the encrypted rooms were doing (a decryption, a state write) finishes first, so
    // the caller may close the E2EE store once this resolves.
    await this.#crypto?.idle(STOP_CRYPTO_WAIT_MS);
    this.#setState('stopped', { reason: 'stopped' });
  }

  /**
   * Queues a line for `room` (`reply`: quoting the message at that seq) and returns its client
   * message id. Works while offline.
   */
  send(room: string, text: string, options: { reply?: number } = {}): string {
    if (options.reply === undefined) {
      this.#assertWritable(room);
      this.#assertText(text);
      return this.#queue({ id: newMessageId(), room, text, queuedAt: this.#now() });
    }
    return this.sendEvent(room, { type: 'text', text, reply: options.reply });
  }

  /**
   * Queues any event for `room` — an edit, a deletion, a reaction, a read position, a line or a
   * file (chat-event.ts) — and returns its client message id. It goes out in order with the
   * room's other messages, survives reconnects and restarts in the outbox, and is delivered
   * once. Works while offline. The host refuses an edit or deletion it does not allow
   * (`no-such-message`, `forbidden`): the `error` event then carries it as `dropped`.
   */
  sendEvent(room: string, event: ChatEvent): string {
    return this.#sendEvent(room, event, newMessageId());
  }

  #sendEvent(room: string, event: ChatEvent, id: string): string {
    this.#assertWritable(room);
    const parsed = ChatEvent.safeParse(event);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue?.path.join('.') ?? '';
      throw new ChatSessionError(
        field === 'text' ? 'invalid-text' : 'invalid-request',
        `"${event.type}": ${field ? `${field}: ` : ''}${issue?.message ?? 'invalid'}`,
      );
    }
    const checked = parsed.data;
    const queuedAt = this.#now();
    // A bare line travels as before (`send {text}`): every host and client reads it.
    if (checked.type === 'text' && checked.reply === undefined) {
      this.#assertText(checked.text);
      return this.#queue({ id, room, text: checked.text, queuedAt });
    }
    return this.#queue({ id, room, text: eventText(checked), event: checked, queuedAt });
  }

  /**
   * The largest file (plaintext bytes) the host takes now: its limit is on the ciphertext it
   * stores, which is 16 bytes per 32 KiB chunk larger. 0: no files (or not connected yet).
   */
  get maxFileBytes(): number {
    return maxPlainSize(this.#connection?.host.limits.maxFileBytes ?? 0);
  }

  /**
   * Encrypts `file` with a fresh key, uploads it in chunks, and queues the `file` event that
   * carries the key (with `text` as caption, `reply`) in the outbox. Resolves once uploaded and
   * queued, with the event's client message id (`options.id` if given: the caller may show the
   * queued message under it from the start) and the FileRef queued. Waits for the room's join
   * to finish if a connection is up but the room is not synced yet (at most the request
   * deadline). Rejects with ChatSessionError: `file-too-large` (checked against maxFileBytes
   * before anything is sent), `quota-exceeded`, `cancelled` (`signal`; the host drops the
   * chunks), `not-connected` (offline, or the connection ended: retry), `file-failed`; or
   * `invalid-request` / `not-joined` for arguments no host takes.
   */
  async sendFile(
    room: string,
    file: {
      bytes: Uint8Array;
      name: string;
      mime: string;
      width?: number;
      height?: number;
      text?: string;
      reply?: number;
    },
    options: TransferOptions & { id?: string } = {},
  ): Promise<{ id: string; file: FileRef }> {
    this.#assertWritable(room);
    const id = options.id ?? newMessageId();
    if (!ClientMessageId.safeParse(id).success || this.#outbox.entries.some((e) => e.id === id)) {
      throw new ChatSessionError(
        'invalid-request',
        'a new message id is 22 characters of base64url',
      );
    }
    const key = newFileKey();
    const ref = (fileId: string): FileRef => ({
      id: fileId,
      name: file.name,
      mime: file.mime,
      size: file.bytes.length,
      chunks: chunkCount(file.bytes.length),
      key: Buffer.from(key).toString('base64url'),
      ...(file.width !== undefined ? { width: file.width } : {}),
      ...(file.height !== undefined ? { height: file.height } : {}),
    });
    const event = (fileId: string): Extract<ChatEvent, { type: 'file' }> => ({
      type: 'file',
      file: ref(fileId),
      ...(file.text !== undefined ? { text: file.text } : {}),
      ...(file.reply !== undefined ? { reply: file.reply } : {}),
    });
    // Checked before the upload (with a stand-in id): a bad name is not found after 25 MiB.
    const probe = ChatEvent.safeParse(event('A'.repeat(22)));
    if (!probe.success) {
      const issue = probe.error.issues[0];
      throw new ChatSessionError(
        'invalid-request',
        `file: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`,
      );
    }
    // The host's limit is known only while connected (checked at once if it is known), and an
    // upload needs the room joined.
    if (this.#connection?.welcomed) this.#checkFileSize(file.bytes.length);
    await this.#untilSynced(room, options.signal);
    this.#checkFileSize(file.bytes.length);
    let fileId: string;
    try {
      fileId = await this.#files.upload(room, key, file.bytes, options);
    } catch (error) {
      throw sessionFileError(error);
    }
    const sent = event(fileId);
    return { id: this.#sendEvent(room, sent, id), file: sent.file };
  }

  #checkFileSize(size: number): void {
    const max = this.maxFileBytes;
    if (size <= max) return;
    throw new ChatSessionError(
      'file-too-large',
      max === 0
        ? 'this host does not take files'
        : `the host takes files of up to ${max} bytes; this one has ${size}`,
    );
  }

  /**
   * Resolves once `room` is synced on a live connection. Offline (no connection at all):
   * `not-connected` at once; a join under way is waited for, up to the request deadline.
   */
  #untilSynced(room: string, signal: AbortSignal | undefined): Promise<void> {
    const ready = () =>
      this.#connection?.welcomed === true && this.#rooms.get(room)?.phase === 'synced';
    if (ready()) return Promise.resolve();
    if (!this.#connection) {
      return Promise.reject(
        new ChatSessionError('not-connected', 'not connected to the host; nothing was sent'),
      );
    }
    return new Promise((resolve, reject) => {
      const timer = new Timer(this.#timers);
      const done = (error?: Error) => {
        timer.clear();
        this.#syncWaiters.delete(check);
        signal?.removeEventListener('abort', abort);
        if (error) reject(error);
        else resolve();
      };
      const check = () => {
        if (this.#stopped) done(new ChatSessionError('stopped', 'the session has stopped'));
        else if (!this.#rooms.has(room)) done(new ChatSessionError('not-joined', `left "${room}"`));
        else if (ready()) done();
      };
      const abort = () => done(new ChatSessionError('cancelled', 'the transfer was cancelled'));
      timer.set(this.#requestTimeoutMs, () =>
        done(new ChatSessionError('not-connected', `"${room}" was not joined in time`)),
      );
      signal?.addEventListener('abort', abort, { once: true });
      this.#syncWaiters.add(check);
    });
  }

  /**
   * Downloads the file an event of `room` names and opens it with its key. Rejects with
   * ChatSessionError: `no-such-file` (expired, deleted, or not this room's), `not-connected`,
   * `file-failed` (a chunk altered, missing, moved, or the size wrong), `cancelled`.
   */
  async fetchFile(room: string, file: FileRef, options: TransferOptions = {}): Promise<Uint8Array> {
    this.#assertUsable();
    if (!this.#rooms.has(room)) {
      throw new ChatSessionError('not-joined', `join "${room}" before fetching its files`);
    }
    const parsed = FileRef.safeParse(file);
    if (!parsed.success) throw new ChatSessionError('invalid-request', 'not a file reference');
    try {
      return await this.#files.download(parsed.data, options);
    } catch (error) {
      throw sessionFileError(error);
    }
  }

  join(room: string): void {
    this.#assertUsable();
    this.#leftByCaller.delete(room);
    if (this.#rooms.has(room)) return;
    this.#addRoom(room);
    if (this.#connection?.welcomed) this.#sendJoin(room);
  }

  leave(room: string): void {
    this.#assertUsable();
    if (!this.#rooms.delete(room)) return;
    this.#leftByCaller.add(room);
    this.#settleRoom(room);
    this.#checkSyncWaiters();
    if (this.#connection?.welcomed) this.#write({ t: 'leave', room });
  }

  /** Asks for a new nickname; the `nick` event confirms it (offline: used on the next hello). */
  setNick(nick: string): void {
    this.#assertUsable();
    if (!Hello.shape.nick.safeParse(nick).success) {
      throw new ChatSessionError('invalid-nick', NICK_RULE);
    }
    if (this.#connection?.welcomed) this.#write({ t: 'nick', nick });
    else this.#nick = nick;
  }

  /** Tells the room we are typing, at most once per TYPING_INTERVAL_MS. Returns whether sent. */
  typing(room: string): boolean {
    const now = this.#now();
    if (this.#rooms.get(room)?.phase !== 'synced') return false;
    if (now - (this.#typingSentAt.get(room) ?? -Infinity) < TYPING_INTERVAL_MS) return false;
    this.#typingSentAt.set(room, now);
    return this.#write({ t: 'typing', room });
  }

  /** Asks for up to `limit` messages older than `beforeSeq`; `history-end` follows them. */
  loadOlder(room: string, beforeSeq: number, limit: number): boolean {
    if (this.#rooms.get(room)?.phase !== 'synced') return false;
    if (this.#crypto?.get(room)) {
      // Older pages of an end-to-end encrypted room were sealed for earlier epochs and cannot
      // be read: answer "no more" at once (the desktop shows what it kept).
      queueMicrotask(() => this.emit('history-end', { room, more: false }));
      return true;
    }
    const safeLimit = Math.max(1, Math.min(500, Math.floor(limit)));
    const before = Math.max(0, beforeSeq);
    if (!this.#write({ t: 'history', room, before, limit: safeLimit })) return false;
    this.#historyRequested(room, 'older');
    return true;
  }

  // ── membership (docs/protocol.md §11; the methods are MembershipApi's) ───────────────

  protected override inviteLink(room: string, token: string): string | undefined {
    const hostKey = this.#connection?.hostKey;
    if (!hostKey) return undefined;
    const { host, port } = this.#address;
    return formatInvite({ host, port, room, hostKey, token });
  }

  protected override request<R extends RequestBody>(request: R): Promise<AnswerOf<R['t']>> {
    if (this.#stopped) {
      return Promise.reject(new MembershipError('stopped', 'the session has stopped'));
    }
    // Checked here against the wire schema, so a bad argument is the caller's error, not a
    // protocol error the host hangs up on.
    const checked = ClientMessage.safeParse({ ...request, rid: 0 });
    if (!checked.success) {
      const issue = checked.error.issues[0];
      const field = issue?.path.join('.') ?? '';
      return Promise.reject(
        new ChatSessionError(
          'invalid-request',
          `"${request.t}": ${field ? `${field}: ` : ''}${issue?.message ?? 'invalid'}`,
        ),
      );
    }
    return this.#requests.start(request, (message) =>
      this.#connection?.welcomed ? this.#write(message) : false,
    );
  }

  // ── connecting ─────────────────────────────────────────────────────────────────────

  async #begin(): Promise<void> {
    try {
      this.#outbox.restore(await this.#store.load());
    } catch (error) {
      this.#emitError({
        code: 'outbox-store',
        message: `cannot load the outbox: ${describe(error)}`,
      });
    }
    try {
      await this.#crypto?.load();
    } catch (error) {
      this.#emitError({
        code: 'e2ee-failed',
        message: `cannot read the stored encryption state: ${describe(error)}`,
      });
    }
    if (!this.#stopped) void this.#connect();
  }

  async #connect(): Promise<void> {
    const generation = ++this.#generation;
    if (this.#state !== 'connecting') this.#setState('connecting');
    let details: HostDetails | undefined;
    let verifiedKey: Uint8Array | undefined;
    let channel: SecureChannel;
    try {
      const socket = (this.#options.connect ?? defaultConnect)(this.#address);
      this.#socket = socket;
      channel = await initiateChannel(socket, {
        staticKeyPair: this.#identity,
        hello: encodeMessage({
          v: WIRE_VERSION,
          nick: this.#nick,
          software: this.#options.software ?? CLIENT_SOFTWARE,
          ...(this.#crypto ? { device: this.#crypto.deviceText } : {}),
        } satisfies Hello),
        ...(this.#options.suite ? { suite: this.#options.suite } : {}),
        ...(this.#options.backend ? { backend: this.#options.backend } : {}),
        ...(this.#options.handshakeTimeoutMs
          ? { handshakeTimeoutMs: this.#options.handshakeTimeoutMs }
          : {}),
        verifyHost: async (hostKey, hostInfo) => {
          // The key first: nothing the host says matters until we know who is saying it.
          const trust = await this.#verifier.verify(hostKey, hostInfo);
          if (generation !== this.#generation) throw new Error('superseded');
          details = hostDetails(this.#address, trust, hostInfo);
          verifiedKey = hostKey;
        },
      });
    } catch (error) {
      if (generation === this.#generation) void this.#handle(afterConnectFailure(error));
      return;
    } finally {
      if (generation === this.#generation) this.#socket = undefined;
    }
    if (generation !== this.#generation || !details || !verifiedKey) {
      channel.close(CloseCode.bye, 'superseded');
      return;
    }
    this.#reached = true;
    const connection: Connection = {
      channel,
      host: details,
      hostKey: verifiedKey,
      welcomed: false,
      pacer: undefined,
    };
    this.#connection = connection;
    channel.on('message', (bytes) => this.#receive(connection, bytes));
    channel.on('close', (info) => this.#closed(connection, info));
    this.#keepalive.start();
    this.#deadlines.set('welcome', this.#welcomeTimeoutMs, 'send its welcome');
    channel.start();
  }

  #closed(connection: Connection, info: CloseInfo): void {
    if (this.#connection !== connection) return;
    this.#connection = undefined;
    this.#keepalive.stop();
    this.#stopWaiting();
    this.#pumpTimer.clear();
    this.#outbox.requeueAll();
    for (const room of this.#rooms.values()) room.disconnected();
    this.#crypto?.disconnected();
    this.#requests.failAll(
      new MembershipError('disconnected', 'the connection ended before the host answered'),
    );
    this.#files.disconnected();
    if (this.#stopped) return;
    void this.#handle(afterClose(info));
  }

  async #handle(disposition: Disposition): Promise<void> {
    if (this.#stopped) return;
    switch (disposition.kind) {
      case 'fatal':
        return this.#fatal(disposition.fatal);
      case 'ask': {
        const { unknown } = disposition;
        if (!this.#verifier.canConfirm) {
          return this.#fatal({
            code: 'host-key-unknown',
            message: unknown.message,
            fingerprint: unknown.fingerprint,
            ...(unknown.certificateProblem
              ? { certificateProblem: unknown.certificateProblem }
              : {}),
          });
        }
        const generation = this.#generation;
        let trusted: boolean;
        try {
          trusted = await this.#verifier.confirm(unknown);
        } catch (error) {
          if (generation === this.#generation) await this.#handle(afterConnectFailure(error));
          return;
        }
        if (generation !== this.#generation || this.#stopped) return;
        if (trusted) return this.#connect();
        return this.#fatal({
          code: 'host-key-unknown',
          message: 'the host was not trusted',
          fingerprint: unknown.fingerprint,
          ...(unknown.certificateProblem ? { certificateProblem: unknown.certificateProblem } : {}),
        });
      }
      case 'retry': {
        this.#penalized = disposition.penalized;
        const delay = backoffDelay(this.#attempt, this.#backoff, this.#random);
        this.#attempt++;
        this.#setState('reconnecting', {
          retryInMs: delay,
          reason: disposition.reason,
          failure: disposition.failure,
        });
        this.#retryTimer.set(delay, () => {
          this.#retried = false;
          void this.#connect();
        });
        return;
      }
    }
  }

  #fatal(fatal: SessionFatal): void {
    this.#shutDown();
    this.emit('fatal', fatal);
    void this.#flushStore();
    this.#setState('stopped', { reason: fatal.message });
  }

  #shutDown(): void {
    this.#stopped = true;
    this.#generation++;
    this.#retryTimer.clear();
    this.#pumpTimer.clear();
    this.#keepalive.stop();
    this.#stopWaiting();
    this.#outbox.requeueAll();
    this.#requests.failAll(new MembershipError('stopped', 'the session has stopped'));
    this.#files.disconnected();
    this.#checkSyncWaiters();
    this.#redeemer.forget();
    this.#socket?.destroy();
    this.#socket = undefined;
  }

  // ── receiving ──────────────────────────────────────────────────────────────────────

  #receive(connection: Connection, bytes: Uint8Array): void {
    if (this.#connection !== connection) return;
    this.#keepalive.received();
    let message: HostMessage;
    try {
      message = decodeMessage(HostMessage, bytes);
    } catch (error) {
      // The host broke the protocol: say why and start over, never guess.
      const reason = error instanceof WireError ? error.message : 'unreadable message';
      this.#misbehaved(connection, new HostMisbehaved('protocol-error', reason));
      return;
    }
    try {
      this.#handleMessage(connection, message);
    } catch (error) {
      // Thrown here it would unwind into the socket's data handler and end the process.
      this.#misbehaved(
        connection,
        error instanceof HostMisbehaved
          ? error
          : new HostMisbehaved(
              'client-failed',
              `the client failed to handle a "${message.t}" from the host (${describe(error)})`,
            ),
      );
    }
  }

  /**
   * The host broke the protocol, a bound or a deadline: tell the user what, hang up with
   * `protocol-error` (the reconnect is penalized), and start over with a fresh connection.
   */
  #misbehaved(connection: Connection | undefined, error: HostMisbehaved): void {
    if (!connection || this.#connection !== connection || connection.channel.closed) return;
    this.#stopWaiting();
    this.#emitError({ code: error.code, message: `${error.message}; reconnecting` });
    connection.channel.close(CloseCode.protocolError, error.message, { discardPending: true });
  }

  #handleMessage(connection: Connection, message: HostMessage): void {
    if (this.#membershipMessage(message)) return;
    // Only rooms this session asked for: anything else is a race with a leave, or a lie.
    const room = 'room' in message ? this.#rooms.get(message.room) : undefined;
    if ('room' in message && !room && message.t !== 'ack') return;
    // A Welcome comes between `joined` and the member pages: it does not end the listing.
    if (room && message.t !== 'members' && message.t !== 'mls-welcome' && room.finishPages()) {
      this.emit('members', { room: room.name, members: room.members });
    }
    switch (message.t) {
      case 'welcome':
        return this.#welcomed(connection, message.nick, message.fp, message.keyPackages);
      case 'joined':
        if (!room?.joinPending) return; // a join we did not send, or answered already
        return this.#joined(room, message.epoch);
      case 'members':
        if (room?.page(message.members)) {
          this.emit('members', { room: room.name, members: room.members });
        }
        return;
      case 'msg':
      case 'event':
      case 'commit':
        if (room) return this.#timelineItem(room, message);
        return;
      case 'mls-welcome':
        if (room) this.#crypto?.get(room.name)?.welcome(message.seq, message.data);
        return;
      case 'devices':
        if (room) this.#crypto?.get(room.name)?.membershipChanged();
        return;
      case 'synced':
        if (!room) return;
        return this.#roomSynced(room);
      case 'left':
        return;
      case 'ack': {
        const problem = timeProblem(message.ts);
        if (problem) throw new HostMisbehaved('protocol-error', `an acknowledgement: ${problem}`);
        const entry = this.#outbox.remove(message.id);
        if (!entry) return; // an answer to a resend we had already seen acknowledged
        this.#rooms.get(entry.room)?.seen(message.seq);
        this.#crypto?.get(entry.room)?.acked(message.seq);
        this.#saveStore();
        const { t: _t, duplicate, ...ack } = message;
        this.emit('ack', {
          ...ack,
          room: entry.room,
          duplicate: duplicate ?? false,
          ...(entry.event ? { event: entry.event } : {}),
        });
        return;
      }
      case 'presence': {
        const { t: _t, ...presence } = message;
        room?.presence(
          message.event,
          {
            nick: message.nick,
            fp: message.fp,
            key: message.key,
          },
          message.newNick,
        );
        // No full `members` list per change: listeners apply the change, at constant cost.
        this.emit('presence', presence);
        return;
      }
      case 'typing': {
        const { t: _t, ...typing } = message;
        this.emit('typing', typing);
        return;
      }
      case 'nick':
        this.#nick = message.nick;
        this.emit('nick', { nick: message.nick });
        return;
      case 'history-end': {
        if (!room || room.requests.length === 0) return; // not an answer to anything we asked
        const request = room.requests.shift();
        this.#historyAnswered(room);
        if (request === 'gap') return this.#gapPageEnded(room, message.more);
        const { t: _t, ...end } = message;
        this.emit('history-end', end);
        return;
      }
      case 'error':
        return this.#hostError(message);
      case 'ping':
        this.#write({ t: 'pong', n: message.n });
        return;
      case 'pong':
        return;
      case 'file-ack':
        this.#files.acked(message.file, message.index);
        return;
    }
  }

  /**
   * The room list, removals and the answers to membership requests. Returns false for
   * anything else. A `removed` or answer about nothing this session knows is ignored.
   */
  #membershipMessage(message: HostMessage): boolean {
    switch (message.t) {
      case 'rooms': {
        const listing = this.#directory.page(message.rooms, message.last !== false);
        if (!listing) return true; // more pages follow: the list is replaced once, whole
        for (const info of listing) this.#joinIfMember(info);
        this.emit('roomList', { rooms: this.#directory.list });
        return true;
      }
      case 'room':
        this.#directory.upsert(message.info);
        this.#joinIfMember(message.info);
        this.emit('roomList', { rooms: this.#directory.list });
        if (message.rid !== undefined) this.#requests.answer({ ...message, rid: message.rid });
        return true;
      case 'removed':
        this.#removed(message);
        return true;
      case 'redeemed':
      case 'invite':
      case 'invites':
      case 'done':
      case 'kps':
      case 'committed':
      case 'file-started':
      case 'file-data':
        this.#requests.answer(message);
        return true;
      case 'error':
        if (message.rid === undefined) return false;
        this.#requests.answer({ ...message, rid: message.rid });
        return true;
      default:
        return false;
    }
  }

  /** The rooms where this key has a role are joined by themselves, unless the caller left. */
  #joinIfMember(info: RoomInfo): void {
    if (info.role === undefined || this.#leftByCaller.has(info.room)) return;
    if (this.#rooms.has(info.room)) return;
    this.#addRoom(info.room);
    if (this.#connection?.welcomed) this.#sendJoin(info.room);
  }

  /** No longer a member: nothing more of the room comes, and its unsent lines cannot go. */
  #removed(message: Extract<HostMessage, { t: 'removed' }>): void {
    const { room } = message;
    const listed = this.#directory.remove(room);
    const joined = this.#rooms.delete(room);
    if (!listed && !joined) return;
    this.#checkSyncWaiters();
    // No longer a member: its group state is of no use (a new invite brings a new Welcome).
    this.#crypto?.drop(room, { forget: true });
    this.#settleRoom(room);
    const unsent = this.#outbox.entries.filter((entry) => entry.room === room);
    for (const entry of unsent) this.#outbox.remove(entry.id);
    if (unsent.length > 0) this.#saveStore();
    this.emit('removed', {
      room,
      reason: message.reason,
      ...(message.by ? { by: message.by } : {}),
      unsent,
    });
    this.emit('roomList', { rooms: this.#directory.list });
  }

  /** A message or room event: both take the room's seq, so both count in gaps and replays. */
  #timelineItem(room: RoomState, message: TimelineItem): void {
    const problem = timeProblem(message.ts);
    if (problem) {
      // One bad value costs that message, not the room: skip it and say so.
      this.#emitError({
        code: 'invalid-message',
        message: `a ${message.t === 'msg' ? 'message' : message.t === 'commit' ? 'commit' : 'room event'} from the host was not shown: ${problem}`,
        ref: room.name,
        room: room.name,
      });
      return;
    }
    if (message.history && room.phase === 'joining') {
      if (room.holdReplay(message) || room.isReplayOfSeen(message.seq)) return;
    }
    if (room.phase === 'filling' && room.fill) {
      if (message.history && room.requests[0] === 'gap') room.fill.history(message);
      else room.fill.live(message);
      if (room.fill.full) this.#fillBounded(room, room.fill);
      return;
    }
    // The rest of a gap page we stopped waiting for: older than what was delivered.
    if (message.history && room.requests[0] === 'gap') return;
    this.#deliver(room, message);
  }

  #deliver(room: RoomState, item: TimelineItem): void {
    room.seen(item.seq);
    const crypto = this.#crypto?.get(room.name);
    if (crypto) {
      // An end-to-end encrypted room: decrypted and applied in seq order, then reported.
      crypto.item(item);
      return;
    }
    if (item.t === 'commit') return; // not an end-to-end encrypted room: nothing to apply
    if (item.t === 'msg') {
      // A plaintext room: the event is what was sent (an `mls` here is never handed on).
      const { mls: _mls, text, ev, ...message } = item;
      const event: ChatEvent | undefined = message.deleted
        ? undefined
        : (ev ?? (text !== undefined ? { type: 'text', text } : undefined));
      this.emit('message', {
        ...message,
        fp: fingerprintOfKey(message.key),
        text: event ? eventText(event) : '',
        ...(event ? { event } : {}),
      });
      return;
    }
    this.#roomEvent(room, item);
  }

  #roomEvent(room: RoomState, item: RoomEvent): void {
    this.emit('roomEvent', item);
    // A live event changes who is a member; one from history is already in the member list.
    if (!item.history && this.#rooms.get(room.name) === room && room.memberEvent(item)) {
      this.emit('members', { room: room.name, members: room.members });
    }
  }

  /**
   * The join's replay is in. On a rejoin it may not reach back to the last message delivered
   * (the host replays only its last N): then page back until it does, holding the room's
   * messages, and report `synced` once the missed history is out.
   */
  #roomSynced(room: RoomState): void {
    if (room.phase !== 'joining') return; // not the end of a join in progress
    this.#deadlines.settle(`join:${room.name}`);
    const fill = new GapFill(room.lastSeq, room.takeReplay());
    if (fill.gapPossible) {
      room.phase = 'filling';
      room.fill = fill;
      this.#requestGapPage(room, fill);
      return;
    }
    this.#releaseFill(room, fill);
  }

  #requestGapPage(room: RoomState, fill: GapFill): void {
    // Unwritten only when the connection is closing: its close resets the room.
    if (this.#write({ t: 'history', room: room.name, before: fill.oldest, limit: GAP_PAGE_SIZE })) {
      this.#historyRequested(room.name, 'gap');
    }
  }

  #historyRequested(name: string, request: 'older' | 'gap'): void {
    const room = this.#rooms.get(name);
    if (!room) return;
    room.requests.push(request);
    if (room.requests.length === 1) this.#armHistory(room);
  }

  /** The oldest request was answered: the next one (if any) gets a fresh deadline. */
  #historyAnswered(room: RoomState): void {
    if (room.requests.length > 0) this.#armHistory(room);
    else this.#deadlines.settle(`history:${room.name}`);
  }

  #armHistory(room: RoomState): void {
    this.#deadlines.set(
      `history:${room.name}`,
      this.#requestTimeoutMs,
      `finish a page of "${room.name}"'s history`,
    );
  }

  /** The fill holds all it may: deliver that, and say the oldest missed messages are not shown. */
  #fillBounded(room: RoomState, fill: GapFill): void {
    this.#crypto?.get(room.name)?.gapLost();
    this.#emitError({
      code: 'history-gap',
      message: 'older messages not loaded: too many were posted while away',
      ref: room.name,
      room: room.name,
    });
    this.#releaseFill(room, fill);
  }

  #gapPageEnded(room: RoomState, more: boolean): void {
    const fill = room.fill;
    if (!fill || room.phase !== 'filling') return;
    const outcome = fill.pageEnded(more);
    if (outcome === 'more') return this.#requestGapPage(room, fill);
    if (outcome === 'bounded' && fill.full) return this.#fillBounded(room, fill);
    if (outcome === 'bounded') {
      this.#crypto?.get(room.name)?.gapLost();
      this.#emitError({
        code: 'history-gap',
        message: `older messages not loaded: more than ${MAX_GAP_PAGES * GAP_PAGE_SIZE} were posted while away`,
        ref: room.name,
        room: room.name,
      });
    }
    this.#releaseFill(room, fill);
  }

  /** Delivers the held history in seq order, then `synced`, then what arrived live meanwhile. */
  #releaseFill(room: RoomState, fill: GapFill): void {
    const { history, live } = fill.release();
    for (const message of history) this.#deliver(room, message);
    room.synced();
    this.#checkSyncWaiters();
    const crypto = this.#crypto?.get(room.name);
    // In an encrypted room `synced` waits its turn behind the history being decrypted.
    if (crypto) crypto.synced();
    else this.emit('synced', { room: room.name });
    for (const message of live) this.#deliver(room, message);
    this.#pump();
  }

  #welcomed(
    connection: Connection,
    nick: string,
    fp: string,
    keyPackages: number | undefined,
  ): void {
    if (connection.welcomed) return;
    connection.welcomed = true;
    this.#directory.reset();
    this.#deadlines.settle('welcome');
    const { limits } = connection.host;
    // Under the host's rate, with half its burst: a loaded machine or network can bunch paced
    // messages together on arrival, and the slack absorbs that.
    const rate = limits.messagesPerSecond * PACE_MARGIN;
    const burst = Math.max(1, Math.floor((limits.messageBurst ?? rate) / 2));
    connection.pacer = new SendPacer(rate, burst, this.#now());
    this.#nick = nick;
    if (!this.#penalized) this.#attempt = 0;
    this.#retried = false;
    this.#setState('connected');
    this.emit('welcome', { nick, fp, host: connection.host });
    const joinRooms = () => {
      if (this.#connection !== connection) return;
      // Before the joins: the host answers in order, so the invite's room is ours when joined.
      this.#redeemer.redeem();
      for (const room of this.#rooms.keys()) this.#sendJoin(room);
    };
    const topUp = this.#crypto?.topUp(keyPackages);
    // A device new to the host publishes its KeyPackages before joining: when the members see
    // it join, they can add it to the room's group at once (and hold their lines until then).
    if (topUp) void topUp.then(joinRooms);
    else joinRooms();
  }

  /**
   * The host confirmed a join. `epoch` marks an end-to-end encrypted room: its group (stored
   * or not) takes the timeline from where it stopped, so a rejoin's gap is measured from there.
   */
  #joined(room: RoomState, epoch: number | undefined): void {
    if (epoch === undefined && this.#crypto?.known(room.name)) {
      // The host says plaintext for a room this device holds the group of: a downgrade. The
      // room stays encrypted here (what the host sends in the clear shows as failed), and
      // nothing goes out until the host gives an epoch again: never the text in the clear.
      this.#emitError({
        code: 'e2ee-failed',
        message: `the host says "${room.name}" is not end-to-end encrypted, but it is: nothing is sent there`,
        ref: room.name,
        room: room.name,
      });
      const crypto = this.#crypto.room(room.name);
      room.resumeFrom(crypto.lastSeq);
      room.joined();
      return;
    }
    if (epoch === undefined) {
      room.joined();
      if (!this.#plainReported.has(room.name)) {
        this.#plainReported.add(room.name);
        this.emit('encryption', { room: room.name, state: 'not-encrypted' });
      }
      return;
    }
    if (!this.#crypto) {
      this.#rooms.delete(room.name);
      // Not joined again by itself on every reconnect, to be refused again.
      this.#leftByCaller.add(room.name);
      this.#settleRoom(room.name);
      this.#write({ t: 'leave', room: room.name });
      this.#emitError({
        code: 'e2ee-unavailable',
        message: `"${room.name}" is end-to-end encrypted, and this session has no encryption keys`,
        ref: room.name,
        room: room.name,
      });
      return;
    }
    const crypto = this.#crypto.room(room.name);
    crypto.joined(epoch);
    room.resumeFrom(crypto.lastSeq);
    room.joined();
  }

  #sendJoin(name: string): void {
    const room = this.#rooms.get(name);
    if (!room || !this.#write({ t: 'join', room: name })) return;
    room.joinPending = true;
    this.#deadlines.set(`join:${name}`, this.#requestTimeoutMs, `finish joining "${name}"`);
  }

  /** Nothing more is awaited for `name` (left, or refused for good). */
  #settleRoom(name: string): void {
    this.#deadlines.settle(`join:${name}`);
    this.#deadlines.settle(`history:${name}`);
  }

  /** The connection is over: no answer is awaited, no refused request is retried. */
  #stopWaiting(): void {
    this.#deadlines.clear();
    for (const retry of this.#retries) retry.clear();
    this.#retries.clear();
  }

  /** Does `action` after `ms`, unless this connection ends first. */
  #later(ms: number, action: () => void): void {
    const timer = new Timer(this.#timers);
    this.#retries.add(timer);
    timer.set(ms, () => {
      this.#retries.delete(timer);
      action();
    });
  }

  #hostError(message: Extract<HostMessage, { t: 'error' }>): void {
    const { t: _t, ...error } = message;
    const ref = message.ref;
    const now = this.#now();
    const retryAt = now + Math.min(message.retryAfterMs ?? 1000, MAX_RETRY_AFTER_MS);
    let dropped: OutboxEntry | undefined;
    let room: string | undefined;
    // A refused file chunk (its ref is the upload's id): the upload fails, sendFile says why.
    if (ref && this.#files.refused(ref, message.code, message.message)) return;
    const entry = ref ? this.#outbox.entries.find((e) => e.id === ref) : undefined;
    if (entry) {
      room = entry.room;
      switch (message.code) {
        case 'rate-limited':
        case 'internal':
          this.#outbox.holdFrom(entry.id, retryAt);
          this.#pump();
          break;
        case 'not-in-room':
          // We thought we were in; rejoin, and the message goes out once the room is synced.
          this.#outbox.holdFrom(entry.id, now);
          this.#rejoin(entry.room);
          break;
        case 'stale-epoch':
          // Encrypted for an epoch the host has left: it and the later ones of the room go
          // again once the group has caught up (the commit that moved on is on its way).
          this.#outbox.holdFrom(entry.id, now);
          this.#crypto?.get(entry.room)?.sendRefused(message.epoch);
          return;
        default:
          dropped = this.#outbox.remove(entry.id);
          this.#saveStore();
      }
    } else if (ref && this.#rooms.has(ref)) {
      room = ref;
      this.#roomRefused(ref, message.code, retryAt);
    }
    this.#emitError({
      ...error,
      // What the client will really wait, not what the host asked for.
      ...(error.retryAfterMs !== undefined ? { retryAfterMs: retryAt - now } : {}),
      ...(room ? { room } : {}),
      ...(dropped ? { dropped } : {}),
    });
  }

  /**
   * The host refused a request about room `name`: its join (we are waiting for `joined`) or
   * its oldest history page. A refusal answers the request; what may work later is retried.
   */
  #roomRefused(name: string, code: HostErrorCode, retryAt: number): void {
    const target = this.#rooms.get(name);
    if (!target) return;
    const temporary = code === 'rate-limited' || code === 'internal';
    if (target.joinPending && target.phase === 'waiting') {
      if (!temporary) {
        // No such room here, or one we may not join (too many rooms): the refusal answers the
        // join — stop asking for it on every reconnect, and do not wait out its deadline.
        this.#rooms.delete(name);
        this.#settleRoom(name);
      } else if (temporary) {
        this.#deadlines.settle(`join:${name}`);
        target.joinPending = false;
        this.#later(Math.max(1, retryAt - this.#now()), () => {
          if (this.#rooms.get(name) === target && target.phase === 'waiting') this.#sendJoin(name);
        });
      }
      return;
    }
    if (code === 'unknown-room') {
      this.#rooms.delete(name);
      this.#settleRoom(name);
      return;
    }
    if (target.requests.length === 0 || !(temporary || code === 'not-in-room')) return;
    const request = target.requests.shift();
    this.#historyAnswered(target);
    if (request !== 'gap' || !target.fill || target.phase !== 'filling') return;
    const fill = target.fill;
    if (temporary) {
      this.#later(Math.max(1, retryAt - this.#now()), () => {
        if (target.fill === fill && target.phase === 'filling') this.#requestGapPage(target, fill);
      });
    } else {
      this.#releaseFill(target, fill);
    }
  }

  #rejoin(name: string): void {
    const room = this.#rooms.get(name);
    if (!room || room.phase !== 'synced') return;
    room.phase = 'waiting';
    this.#sendJoin(name);
  }

  // ── sending ────────────────────────────────────────────────────────────────────────

  /** Writes what the outbox may send now, paced to the host's rate, and plans the rest. */
  #pump(): void {
    const connection = this.#connection;
    if (!connection?.pacer) return;
    const { pacer } = connection;
    const now = this.#now();
    const ready = (room: string) => {
      if (this.#rooms.get(room)?.phase !== 'synced') return false;
      const crypto = this.#crypto?.get(room);
      return crypto ? crypto.readyToSend() : true;
    };
    const batch = this.#outbox.take(ready, now, pacer.available(now));
    pacer.consume(batch.length, now);
    for (const entry of batch) {
      const crypto = this.#crypto?.get(entry.room);
      if (crypto)
        crypto.send(entry); // encrypted at its turn in the room's queue
      else this.#write(plainSend(entry));
    }
    const next = this.#outbox.nextSendAt(ready, now);
    if (next === undefined) this.#pumpTimer.clear();
    else {
      const at = Math.max(next, pacer.nextAt(now));
      this.#pumpTimer.set(Math.max(1, at - now), () => this.#pump());
    }
  }

  #write(message: ClientMessage): boolean {
    const channel = this.#connection?.channel;
    if (!channel || channel.closed) return false;
    this.#keepalive.sent();
    return channel.send(encodeMessage(message));
  }

  // ── end-to-end encryption (e2ee/session-crypto.ts) ─────────────────────────────────

  /** What the rooms' crypto may do with this session: only through these. */
  #cryptoPort(): SessionPort {
    const failed = (message: string, room?: string) =>
      this.#emitError({ code: 'e2ee-failed', message, ...(room ? { room, ref: room } : {}) });
    return {
      connection: () => (this.#connection?.welcomed ? this.#connection : undefined),
      roomSynced: (room) => this.#rooms.get(room)?.phase === 'synced',
      members: (room) => this.#rooms.get(room)?.members ?? [],
      emitMessage: (message) => this.emit('message', message),
      emitEvent: (name, event) => {
        const room = this.#rooms.get(name);
        if (room) this.#roomEvent(room, event);
        else this.emit('roomEvent', event);
      },
      emitSynced: (room) => this.emit('synced', { room }),
      emitEncryption: (state) => this.emit('encryption', state),
      emitDevices: (update) => this.emit('devices', update),
      emitKeyChanged: (change) => this.emit('keyChanged', change),
      failed,
      claim: async (room, have) => {
        const answer = await this.request({ t: 'kp-claim', room, have });
        return { devices: answer.devices, kps: answer.kps };
      },
      publish: async (kps) => {
        await this.request({ t: 'kp-publish', kps });
      },
      commit: (room, body, committed, refused) => {
        const write = (message: ClientMessage) =>
          this.#connection?.welcomed ? this.#write(message) : false;
        this.#requests.send(
          { t: 'commit', room, ...body },
          write,
          ({ seq, epoch }) => committed({ seq, epoch }),
          refused,
        );
      },
      writeSend: (room, id, mls, epoch, relation) =>
        this.#write({ t: 'send', room, id, mls, epoch, ...relation }),
      requeue: (id, delayMs) => {
        this.#outbox.holdFrom(id, this.#now() + delayMs);
        this.#pump();
      },
      pump: () => this.#pump(),
      later: (ms, action) => this.#later(ms, action),
      reconnect: (reason) => this.#connection?.channel.close(CloseCode.bye, reason),
      random: () => this.#random(),
      now: () => this.#now(),
    };
  }

  // ── plumbing ───────────────────────────────────────────────────────────────────────

  #addRoom(room: string): void {
    if (!isValidRoomName(room)) {
      throw new ChatSessionError('invalid-room', `"${room}" is not a room name`);
    }
    this.#rooms.set(room, new RoomState(room));
  }

  #assertUsable(): void {
    if (this.#stopped) throw new ChatSessionError('stopped', 'the session has stopped');
  }

  #checkSyncWaiters(): void {
    for (const check of [...this.#syncWaiters]) check();
  }

  #assertWritable(room: string): void {
    this.#assertUsable();
    if (!this.#rooms.has(room)) {
      throw new ChatSessionError('not-joined', `join "${room}" before writing there`);
    }
  }

  #assertText(text: string): void {
    if (text.length === 0 || utf8Length(text) > MAX_TEXT_BYTES) {
      throw new ChatSessionError(
        'invalid-text',
        `a message holds 1 to ${MAX_TEXT_BYTES} bytes of text`,
      );
    }
  }

  #queue(entry: OutboxEntry): string {
    this.#outbox.add(entry);
    this.#saveStore();
    this.#pump();
    return entry.id;
  }

  #setState(
    state: SessionState,
    extra: Omit<StateChange, 'state' | 'attempt' | 'neverReached' | 'retried'> = {},
  ): void {
    this.#state = state;
    // Only while trying: a stopped session's reason (a changed key…) says what happened.
    const trying = state === 'connecting' || state === 'reconnecting';
    this.emit('state', {
      state,
      attempt: this.#attempt,
      ...extra,
      ...(trying && !this.#reached ? { neverReached: true } : {}),
      ...(trying && this.#retried ? { retried: true } : {}),
    });
  }

  #emitError(error: SessionError): void {
    this.emit('error', error);
  }

  /** Saves the outbox after the current turn: many changes, one write. */
  #saveStore(): void {
    this.#saveWanted = true;
    this.#saving ??= this.#runSaves();
  }

  async #runSaves(): Promise<void> {
    await Promise.resolve();
    while (this.#saveWanted) {
      this.#saveWanted = false;
      try {
        await this.#store.save(this.#outbox.entries);
      } catch (error) {
        this.#emitError({
          code: 'outbox-store',
          message: `cannot save the outbox: ${describe(error)}`,
        });
      }
    }
    this.#saving = undefined;
  }

  async #flushStore(): Promise<void> {
    this.#saveStore();
    await this.#saving;
  }
}

/** A plaintext room's `send`: a bare line as `text`, anything else as `ev` with its relation. */
function plainSend(entry: OutboxEntry): ClientMessage {
  const { id, room, event } = entry;
  if (!event) return { t: 'send', room, id, text: entry.text };
  return { t: 'send', room, id, ev: event, ...relationOf(event) };
}

/** A transfer's failure as the session reports it. */
function sessionFileError(error: unknown): unknown {
  if (!(error instanceof FileTransferError)) return error;
  return new ChatSessionError(error.code, error.message);
}

function defaultConnect(address: HostAddress): Socket {
  return net.connect({ host: address.host, port: address.port });
}

function hostDetails(address: HostAddress, trust: HostTrust, hostInfo: Uint8Array): HostDetails {
  let info: HostInfo;
  try {
    info = decodeMessage(HostInfo, hostInfo);
  } catch (error) {
    throw new IncompatibleHost(`the host speaks a Parley this client does not: ${describe(error)}`);
  }
  return {
    address,
    fingerprint: trust.fingerprint,
    name: info.name,
    software: info.software,
    rooms: info.rooms,
    limits: info.limits,
    trust,
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
