import { randomUUID } from 'node:crypto';
import type { HostAddress } from '../../src-shared/invite.ts';
import type { EventPayload } from '../../src-shared/ipc/contract.ts';
import type { CertificateProblem } from '../../src-shared/ipc/domain.ts';
import type { ChatSession } from '../client/chat-session.ts';
import type { SessionError } from '../client/session-events.ts';
import type { HostContext } from './rooms-model.ts';

/** How long `loadHistory` waits for the host: for a join replay to complete, then for older messages. */
export const HOST_HISTORY_TIMEOUT_MS = 5000;

/** The host's answers that refuse a request about a room (chat-session.ts #roomRefused). */
const HISTORY_REFUSALS: ReadonlySet<string> = new Set([
  'rate-limited',
  'internal',
  'not-in-room',
  'unknown-room',
]);

export type TrustQuestion = EventPayload<'trustRequired'>;

/** A row of a room's timeline (a message or a room event): where it is, and whether replayed. */
export interface TimelineRow {
  readonly room: string;
  readonly seq: number;
  readonly history?: boolean;
}

/** Asks the user whether to trust a host key never seen before (the verifier's question). */
export type AskTrust = (
  print: string,
  address: HostAddress,
  problem: CertificateProblem | undefined,
) => Promise<boolean>;

export interface HostConnectionOptions {
  readonly host: HostContext;
  /** Connected through an invite link: the host's key came with it. */
  readonly viaInvite: boolean;
  /** The room of an invite that carries a token: ours once the host takes it. */
  readonly inviteRoom?: string;
  /** Rooms that have local history already: history the join replays counts as unread. */
  readonly roomsWithPast: Iterable<string>;
  /** Puts a trust question to the user; `answerTrust` brings the answer. */
  readonly ask: (question: TrustQuestion) => void;
  /** Builds the session; its verifier asks through `askTrust`. */
  readonly createSession: (askTrust: AskTrust) => ChatSession;
}

interface PendingOlder {
  readonly before: number;
  readonly promise: Promise<boolean | undefined>;
  finish(more: boolean | undefined): void;
}

/**
 * One connection to a host, from Connect until it stops, and what belongs to it alone: the
 * running ChatSession, the trust questions it raised, the rooms it has synced and its open
 * requests for older history. Stopping it answers what is still open (trust: no; history:
 * nothing more), so nothing waits on a connection that is gone.
 */
export class HostConnection {
  readonly session: ChatSession;
  readonly host: HostContext;
  readonly viaInvite: boolean;
  /** The user asked to stop it (disconnect, or connect elsewhere). */
  stopping = false;
  /** Why the session ended for good, if it did. */
  fatalReason: string | undefined;
  /**
   * The room of the invite being redeemed: kept in the list although the host does not list
   * it yet. Cleared when the host takes the invite or refuses it.
   */
  pendingInviteRoom: string | undefined;
  /** The room of an invite the host refused: its join's `unknown-room` is no news. */
  refusedInviteRoom: string | undefined;
  /** Rooms the host's list no longer had (removed while away): their `unknown-room` is no news. */
  readonly #forgotten = new Set<string>();
  /** The host has sent its room list since the last welcome. */
  #listed = false;
  /** Rooms the user asked to join in this session: the host answers for them. */
  readonly #askedToJoin = new Set<string>();
  readonly #ask: (question: TrustQuestion) => void;
  readonly #trustQuestions = new Map<string, (trusted: boolean) => void>();
  /** Rooms whose join replay is complete in this session: older history can be asked for. */
  readonly #synced = new Set<string>();
  /** Rooms that had local history before this session's join replay: new history counts as unread. */
  readonly #roomsWithPast: Set<string>;
  readonly #pendingOlder = new Map<string, PendingOlder>();
  /** Who waits for a room's join replay to complete: told true when it does, false if not. */
  readonly #syncWaiters = new Map<string, Set<(synced: boolean) => void>>();

  constructor(options: HostConnectionOptions) {
    this.host = options.host;
    this.viaInvite = options.viaInvite;
    this.pendingInviteRoom = options.inviteRoom;
    this.#roomsWithPast = new Set(options.roomsWithPast);
    this.#ask = options.ask;
    this.session = options.createSession((print, address, problem) =>
      this.#askTrust(print, address, problem),
    );
  }

  /** Says goodbye to the host and waits until the session's outbox is saved. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.abandon();
    await this.session.stop();
  }

  /**
   * "Retry now", or the network came back: a session waiting to reconnect tries at once.
   * Returns whether an attempt started. Nothing that has stopped is restarted here, because
   * nothing safe to restart ever stops: failed attempts never stop a session (it keeps trying,
   * the wait capped at 30 s), so a stopped one was stopped by the user (who left the host) or
   * for a reason a person must settle first — a changed host key (never one click away from
   * being retried), a taken nickname, an incompatible host, a damaged known-hosts file, a host
   * the user chose not to trust. Connecting again (a new session) is the way back from those.
   */
  retryNow(): boolean {
    if (this.stopping || this.fatalReason !== undefined) return false;
    return this.session.retryNow();
  }

  /** Closes what the session left open: trust questions (answered "no"), history requests. */
  abandon(): void {
    for (const [id, resolve] of this.#trustQuestions) {
      this.#trustQuestions.delete(id);
      resolve(false);
    }
    for (const pending of this.#pendingOlder.values()) pending.finish(undefined);
    for (const room of [...this.#syncWaiters.keys()]) this.#settleSyncWaiters(room, false);
  }

  // ── trust questions ─────────────────────────────────────────────────────────────────

  /** The user's answer; false if the question is no longer open. */
  answerTrust(requestId: string, trusted: boolean): boolean {
    const resolve = this.#trustQuestions.get(requestId);
    if (!resolve) return false;
    this.#trustQuestions.delete(requestId);
    resolve(trusted);
    return true;
  }

  #askTrust(
    print: string,
    address: HostAddress,
    certificateProblem: CertificateProblem | undefined,
  ): Promise<boolean> {
    const requestId = randomUUID();
    return new Promise<boolean>((resolve) => {
      this.#trustQuestions.set(requestId, resolve);
      this.#ask({
        hostId: this.host.id,
        requestId,
        host: address.host,
        port: address.port,
        fingerprint: print,
        ...(certificateProblem ? { certificateProblem } : {}),
      });
    });
  }

  // ── rooms in this session ───────────────────────────────────────────────────────────

  /** The join replay of `room` is complete. */
  synced(room: string): void {
    this.#synced.add(room);
    this.#roomsWithPast.add(room);
    this.#settleSyncWaiters(room, true);
  }

  /**
   * Resolves true once the join replay of `room` is complete in this session; false at once if
   * the room is not joined here or the host is not reachable now (no replay can be under way:
   * what is kept here must show without delay), false if it is not synced within `timeoutMs`
   * (a slow host) or the connection drops or is closed meanwhile.
   */
  whenSynced(room: string, timeoutMs = HOST_HISTORY_TIMEOUT_MS): Promise<boolean> {
    if (this.#synced.has(room)) return Promise.resolve(true);
    if (
      this.stopping ||
      this.session.state === 'reconnecting' ||
      !this.session.rooms.includes(room)
    ) {
      return Promise.resolve(false);
    }
    return new Promise<boolean>((resolve) => {
      const waiters = this.#syncWaiters.get(room) ?? new Set();
      this.#syncWaiters.set(room, waiters);
      const settle = (synced: boolean): void => {
        clearTimeout(timer);
        waiters.delete(settle);
        if (waiters.size === 0 && this.#syncWaiters.get(room) === waiters) {
          this.#syncWaiters.delete(room);
        }
        resolve(synced);
      };
      const timer = setTimeout(() => settle(false), timeoutMs);
      timer.unref?.();
      waiters.add(settle);
    });
  }

  #settleSyncWaiters(room: string, synced: boolean): void {
    for (const settle of [...(this.#syncWaiters.get(room) ?? [])]) settle(synced);
  }

  /** The session joins `room`; `hasPast`: it has local history already. */
  joined(room: string, hasPast: boolean): void {
    if (hasPast) this.#roomsWithPast.add(room);
  }

  /** The user asked to join `room`. */
  askedToJoin(room: string): void {
    this.#askedToJoin.add(room);
  }

  left(room: string): void {
    this.#synced.delete(room);
    this.#settleSyncWaiters(room, false);
  }

  /** A welcome: the host's next room list is its whole one for this connection. */
  welcomed(): void {
    this.#listed = false;
  }

  /** True for the first room list since the welcome (and only for it). */
  firstList(): boolean {
    const first = !this.#listed;
    this.#listed = true;
    return first;
  }

  /** Kept although the host did not list it: an invite being redeemed, a join asked for. */
  keeps(room: string): boolean {
    return room === this.pendingInviteRoom || this.#askedToJoin.has(room);
  }

  /** The host's room list no longer has these: we are not members any more. */
  forgotten(rooms: Iterable<string>): void {
    for (const room of rooms) this.#forgotten.add(room);
  }

  wasForgotten(room: string): boolean {
    return this.#forgotten.has(room);
  }

  /** The connection dropped: every room is replayed again on the next one. */
  lost(): void {
    this.#synced.clear();
    // The replay they wait for will not come over this connection; nobody waits for the next.
    for (const room of [...this.#syncWaiters.keys()]) this.#settleSyncWaiters(room, false);
  }

  /** A message is news to the user (live, or history after what was kept here). */
  isNews(message: TimelineRow): boolean {
    return !message.history || this.#roomsWithPast.has(message.room);
  }

  // ── older history ───────────────────────────────────────────────────────────────────

  /** The message (or room event) answers our own request for older messages. */
  answersOlderRequest(message: TimelineRow): boolean {
    const older = this.#pendingOlder.get(message.room);
    return message.history === true && older !== undefined && message.seq < older.before;
  }

  /**
   * Asks the host for up to `limit` messages of `room` before `before`. Resolves with whether
   * the host has more, or undefined if it was not asked or did not answer in time.
   */
  askOlder(room: string, before: number, limit: number): Promise<boolean | undefined> {
    const pending = this.#pendingOlder.get(room);
    if (pending) return pending.promise;
    if (!this.#synced.has(room) || !this.session.loadOlder(room, before, limit)) {
      return Promise.resolve(undefined);
    }
    let finish: (more: boolean | undefined) => void = () => undefined;
    const promise = new Promise<boolean | undefined>((resolve) => {
      const timer = setTimeout(() => finish(undefined), HOST_HISTORY_TIMEOUT_MS);
      timer.unref?.();
      finish = (more) => {
        clearTimeout(timer);
        if (this.#pendingOlder.get(room)?.promise === promise) this.#pendingOlder.delete(room);
        resolve(more);
      };
    });
    this.#pendingOlder.set(room, { before, promise, finish: (more) => finish(more) });
    return promise;
  }

  /** The host's `history-end` for `room`. */
  olderEnded(room: string, more: boolean): void {
    this.#pendingOlder.get(room)?.finish(more);
  }

  /**
   * A refused history request is answered: loadHistory need not wait for its timeout. Only
   * the host's refusal of a request about the room itself (ref = room) is one; a refused
   * send, or a message the session skipped, must not end the wait before the page arrives.
   */
  refused(error: SessionError): void {
    if (error.room && error.ref === error.room && HISTORY_REFUSALS.has(error.code)) {
      this.#pendingOlder.get(error.room)?.finish(undefined);
    }
  }
}
