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
import type { ChatEvent } from '../protocol/wire/chat-event.ts';
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
  /** For `connecting` and `reconnecting`: the attempt running or just failed was asked for (retryNow). */
  readonly retried?: true;
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

/**
 * Why an end-to-end encrypted message could not be shown: `tampered` (it does not
 * authenticate, or its content does not match its envelope), `forged` (not signed by the
 * key the host says sent it), `replay` (its key was already used), `not-in-group` (this
 * device is not, or not yet, in the room's group), `undecryptable` (anything else).
 */
export type DecryptFailure = 'tampered' | 'forged' | 'replay' | 'not-in-group' | 'undecryptable';

/** How a message of an end-to-end encrypted room was read; absent for a plaintext room. */
export type MessageE2ee =
  | {
      readonly status: 'ok';
      /** The sending device (base64url of its leaf signature key, 43 characters). */
      readonly device: string;
      /** The sender's person key (base64url), as its credential says. */
      readonly person: string;
      /** The person key differs from the one pinned for the sender's Parley key. */
      readonly keyChanged?: true;
    }
  | { readonly status: 'failed'; readonly reason: DecryptFailure };

/**
 * A message as listeners get it, in the room's seq order. `event` is what was said (a line, a
 * reply, an edit, a deletion, a reaction, a read position, a file: chat-event.ts); it is absent
 * only for a tombstone (`deleted`) and for an end-to-end encrypted message that could not be
 * read (then `e2ee.status` is 'failed'). `text` is always there: a line's or an edit's text, a
 * file's caption, '' otherwise. `rel` and `file` are the host-visible parts, as sent (checked
 * against the event in an encrypted room). The session applies no edit or deletion itself: its
 * listeners do. The MLS ciphertext is never handed on. `fp` is the sender key's fingerprint, derived
 * by the session (the wire stopped carrying it in v5).
 */
export type SessionMessage = Omit<ChatMessage, 'text' | 'mls' | 'ev'> & {
  readonly fp: string;
  readonly text: string;
  readonly event?: ChatEvent;
  readonly e2ee?: MessageE2ee;
};

/**
 * A room's end-to-end encryption as this device sees it: `encrypted` (in the room's group,
 * messages go out encrypted), `joining` (waiting to be added to the group: nothing can be
 * read or sent yet), `broken` (the group could not be followed: its state was dropped and
 * this device waits to be added again; `joining` follows), `not-encrypted` (a plaintext room).
 */
export interface EncryptionState {
  readonly room: string;
  readonly state: 'encrypted' | 'joining' | 'broken' | 'not-encrypted';
  /** Why (for `broken`, and `joining` after one): no key material, no message text. */
  readonly reason?: string;
}

/** One member of a room's group: its devices (base64url device keys) and person key. */
export interface GroupMember {
  /** The Parley key (public key text). */
  readonly key: string;
  /** The person key its devices' credentials carry. */
  readonly person: string;
  readonly devices: readonly string[];
  /** The person key is not the one pinned for this Parley key (until the user accepts it). */
  readonly keyChanged: boolean;
}

/** The room's group after a change of its roster (a commit, a Welcome, a group created). */
export interface DevicesUpdate {
  readonly room: string;
  readonly members: readonly GroupMember[];
}

/** A Parley key's person key changed from the pinned one (TOFU): warn until accepted. */
export interface KeyChanged {
  readonly key: string;
  readonly previous: string;
  readonly person: string;
}

export type Ack = Omit<Extract<HostMessage, { t: 'ack' }>, 't' | 'duplicate'> & {
  readonly duplicate: boolean;
  /**
   * The event the acknowledged entry carried (absent for a bare line): an entry restored from
   * the outbox after a restart is known to the listener only through this.
   */
  readonly event?: ChatEvent;
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
 * bug); the session hung up and reconnects rather than crash. `e2ee-unavailable`: an end-to-end
 * encrypted room, and the session was made without `e2ee` options (the room is left).
 * `e2ee-failed`: a step of the room's encryption failed here (storing its state, publishing
 * KeyPackages, a commit); the message says which, never with key material.
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
    | 'client-failed'
    | 'e2ee-unavailable'
    | 'e2ee-failed';
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
  message: [SessionMessage];
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
  /** An end-to-end encrypted room's state changed (also `not-encrypted` once for plaintext rooms). */
  encryption: [EncryptionState];
  /** The devices in an end-to-end encrypted room's group, after each roster change. */
  devices: [DevicesUpdate];
  /** A member's person key is not the pinned one. */
  keyChanged: [KeyChanged];
  fatal: [SessionFatal];
};

/** One payload per event, as the session's TypedEmitter delivers them. */
export type SessionPayloads = { [N in keyof ChatSessionEvents]: ChatSessionEvents[N][0] };
