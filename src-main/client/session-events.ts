import type { HostAddress } from '../../src-shared/invite.ts';
import type {
  ChatMessage,
  HostErrorCode,
  HostInfo,
  HostMessage,
  InviteInfo,
  Member,
  Person,
  Role,
  RoomEvent,
  RoomInfo,
} from '../protocol/wire/messages.ts';
import type { CertificateProblem } from '../trust/certificate-error.ts';
import type { ExpectedKeyFrom, HostTrust } from './host-trust.ts';
import type { OutboxEntry } from './outbox.ts';

/**
 * What a ChatSession tells its UI. Every payload is plain data (no classes, no functions), so
 * the desktop service layer can forward it over IPC and a test bridge over a WebSocket as is.
 */
export type SessionState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'stopped';

/**
 * How an attempt to reach the host failed: `refused` (nothing listens on that port),
 * `unreachable` (no route, the network is down), `timeout` (no answer, or no handshake, in
 * time), `not-found` (the name does not resolve), `lost` (the connection was up and dropped),
 * `other`. The same values as the IPC's ConnectionFailure, which carries it to the UI.
 */
export type ConnectFailure = 'refused' | 'unreachable' | 'timeout' | 'not-found' | 'lost' | 'other';

export interface StateChange {
  readonly state: SessionState;
  /** Failed connection attempts in a row (0 once connected). */
  readonly attempt: number;
  /** For `reconnecting`: when the next attempt starts, for a countdown. */
  readonly retryInMs?: number;
  /** Why the connection ended or the session stopped. Never contains message text or keys. */
  readonly reason?: string;
  /** For `reconnecting`: how the last attempt failed, or `lost` for a connection that dropped. */
  readonly failure?: ConnectFailure;
  /**
   * For `connecting` and `reconnecting`: no handshake with the host has completed since the
   * session started (a wrong address or port, a host that is down). Absent once one has.
   */
  readonly neverReached?: true;
}

/** The host this connection reached, and why we believe it is the right one. */
export interface HostDetails {
  readonly address: HostAddress;
  readonly fingerprint: string;
  readonly name: string;
  readonly software: string;
  readonly rooms: readonly string[];
  readonly limits: HostInfo['limits'];
  readonly trust: HostTrust;
}

export interface Welcome {
  readonly nick: string;
  /** Our own fingerprint as the host sees it. */
  readonly fp: string;
  readonly host: HostDetails;
}

export type Ack = Omit<Extract<HostMessage, { t: 'ack' }>, 't' | 'duplicate'> & {
  readonly duplicate: boolean;
};
export type Presence = Omit<Extract<HostMessage, { t: 'presence' }>, 't'>;
export type Typing = Omit<Extract<HostMessage, { t: 'typing' }>, 't'>;
export type HistoryEnd = Omit<Extract<HostMessage, { t: 'history-end' }>, 't'>;

export interface MembersUpdate {
  readonly room: string;
  readonly members: readonly Member[];
}

/**
 * A host `error` message, or a local failure that does not end the session. `history-gap`: a
 * rejoin missed more messages than the session pages back for; the oldest of them are not
 * shown (the room's history still has them, for loadOlder). `protocol-error` / `host-timeout`:
 * the host broke the protocol or a bound, or did not answer in time; the session hung up and
 * reconnects. `invalid-message`: one message carried a value the client cannot show (e.g. a
 * time out of range) and was skipped. `listener-failed`: an event listener threw; the session
 * and the other listeners went on. `client-failed`: handling a host message failed here (a
 * bug); the session hung up and reconnects rather than crash.
 */
export interface SessionError {
  readonly code:
    | HostErrorCode
    | 'outbox-store'
    | 'history-gap'
    | 'protocol-error'
    | 'host-timeout'
    | 'invalid-message'
    | 'listener-failed'
    | 'client-failed';
  readonly message: string;
  /** The client message id or room the error is about. */
  readonly ref?: string;
  readonly room?: string;
  readonly retryAfterMs?: number;
  /** A message the host refused for good (e.g. too long): it left the outbox; show it again. */
  readonly dropped?: OutboxEntry;
}

/** The rooms this key may see (members' rooms with a role, open rooms without), after a change. */
export interface RoomListUpdate {
  readonly rooms: readonly RoomInfo[];
}

/** This key is no longer a member of `room` (removed, banned, or it parted): the room is gone. */
export interface RoomRemoved {
  readonly room: string;
  readonly reason: 'removed' | 'banned' | 'parted';
  /** Who removed or banned the key; absent for the host's operator, and when it parted. */
  readonly by?: Person;
  /** Messages for the room that were not yet acknowledged: they left the outbox, unsent. */
  readonly unsent: readonly OutboxEntry[];
}

/**
 * The host did not admit the session's invite token, for good: `invite-unknown`,
 * `invite-expired`, `invite-used-up`, `invite-revoked` or `banned` (other codes are possible
 * from a broken host). The token is forgotten; the session stays connected for the key's
 * other rooms. (`rate-limited` and `internal` are retried, not reported here.)
 */
export interface InviteRefused {
  readonly code: HostErrorCode;
  /** The host's words (escape before showing). */
  readonly message: string;
  /** The invite's room, when the host names it. */
  readonly room?: string;
}

/** An invite was redeemed: this key is a member of `room` with `role`. */
export interface Redeemed {
  readonly room: string;
  readonly role: Role;
}

/** A link made by createInvite: the token is in `link` only, shown once, never stored. */
export interface CreatedInvite {
  readonly link: string;
  readonly invite: InviteInfo;
}

/** Errors that end the session: reconnecting would not help (or would be unsafe). */
export type SessionFatal =
  | {
      readonly code: 'host-key-mismatch';
      readonly message: string;
      readonly expectedFingerprint: string;
      readonly actualFingerprint: string;
      /**
       * Where the expected key came from: the invite link the session was made with (the link
       * does not match this host: wrong or forged) or the key pinned earlier (it changed).
       */
      readonly expectedFrom: ExpectedKeyFrom;
      /** The host also presented a certificate, which was not accepted: why. */
      readonly certificateProblem?: CertificateProblem;
    }
  | {
      readonly code: 'host-key-unknown';
      readonly message: string;
      readonly fingerprint: string;
      /** The host presented a certificate, which was not accepted: why. */
      readonly certificateProblem?: CertificateProblem;
    }
  | {
      readonly code: 'nick-taken' | 'bad-hello' | 'incompatible-host' | 'known-hosts';
      readonly message: string;
    };

/** Events as `[payload]` tuples (node:events style), kept for existing callers. */
export type ChatSessionEvents = {
  state: [StateChange];
  welcome: [Welcome];
  message: [ChatMessage];
  ack: [Ack];
  presence: [Presence];
  members: [MembersUpdate];
  synced: [{ readonly room: string }];
  typing: [Typing];
  nick: [{ readonly nick: string }];
  'history-end': [HistoryEnd];
  /** The room list changed (the host's `rooms`, a `room`, a removal): the whole list. */
  roomList: [RoomListUpdate];
  /** Something done to a room, live or from history, in the room's seq order with messages. */
  roomEvent: [RoomEvent];
  removed: [RoomRemoved];
  inviteRefused: [InviteRefused];
  redeemed: [Redeemed];
  error: [SessionError];
  fatal: [SessionFatal];
};

/** One payload per event, as the session's TypedEmitter delivers them. */
export type SessionPayloads = { [N in keyof ChatSessionEvents]: ChatSessionEvents[N][0] };
