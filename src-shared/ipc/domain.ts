import { z } from 'zod';
import {
  MAX_INVITE_TTL_MS,
  MAX_INVITE_USES,
  MAX_TOPIC_LENGTH,
  MIN_INVITE_TTL_MS,
  Role,
  RoomEventAction,
} from '../membership.ts';
import { RoomName } from '../identifier-schemas.ts';

/**
 * What the renderer knows about the chat: view models built by main from the wire messages.
 * The renderer never sees keys' private halves or raw wire messages. Names, rooms and keys are
 * checked against src-shared/identifiers.ts, like the wire's.
 */

/**
 * Which host something is about: `host:port` as main keys it (host lower-cased, IPv6 in
 * brackets). The app holds several hosts at once; two of them can each have a `#lobby`.
 */
export const HostId = z.string().min(3).max(300);
export type HostId = z.infer<typeof HostId>;

export const ConnectionStatus = z.enum([
  'idle',
  'connecting',
  'connected',
  'reconnecting',
  'offline',
]);
export type ConnectionStatus = z.infer<typeof ConnectionStatus>;

/**
 * How the current host was verified: the key in the invite, pinned at first use, already known,
 * or vouched for by an imported certificate authority (see `authority`).
 */
export const TrustMethod = z.enum(['invite', 'first-use', 'known', 'authority']);
export type TrustMethod = z.infer<typeof TrustMethod>;

/** Why a host's certificate was not accepted (the connection may still be trusted by a pin). */
export const CertificateProblem = z.object({
  code: z.string().max(64),
  message: z.string().max(1000),
});
export type CertificateProblem = z.infer<typeof CertificateProblem>;

/** An imported certificate authority's certificate: SHA-256 as `AB:CD:…` (95 characters). */
export const CertificateFingerprint = z
  .string()
  .regex(/^[0-9A-Fa-f]{2}(?::?[0-9A-Fa-f]{2}){31}$/, 'not a SHA-256 certificate fingerprint');

export const AuthorityView = z.object({
  fingerprint: z.string(),
  /** Its certificate's common name (else organisation). */
  name: z.string(),
  subject: z.string(),
  /** ms since epoch */
  notBefore: z.number(),
  notAfter: z.number(),
});
export type AuthorityView = z.infer<typeof AuthorityView>;

/**
 * Why an attempt to reach a host failed: refused (nothing listens on that port), unreachable
 * (no route, network down), timeout, not-found (the name does not resolve), lost (it was up and
 * the connection dropped), other.
 */
export const ConnectionFailure = z.enum([
  'refused',
  'unreachable',
  'timeout',
  'not-found',
  'lost',
  'other',
]);
export type ConnectionFailure = z.infer<typeof ConnectionFailure>;

export const ConnectionState = z.object({
  status: ConnectionStatus,
  host: z.string().optional(),
  port: z.number().int().optional(),
  hostName: z.string().optional(),
  hostFingerprint: z.string().optional(),
  trust: TrustMethod.optional(),
  /** With trust 'authority': the name of the authority that vouched for the host's key. */
  authority: z.string().optional(),
  /**
   * The host's key changed and an authority vouched for the new one: the old key's fingerprint.
   * Show it (the connection went ahead without asking).
   */
  replacedFingerprint: z.string().optional(),
  /** The host presented a certificate that was not accepted, and why. */
  certificateProblem: CertificateProblem.optional(),
  nick: z.string().optional(),
  /** While reconnecting: when the next attempt starts (ms since epoch), for a countdown. */
  retryAt: z.number().optional(),
  attempt: z.number().int().optional(),
  /** Why the last connection ended or failed, in words. */
  reason: z.string().optional(),
  /**
   * The host has not been reached since Connect (a wrong port, a host that is down): the UI
   * says "can't reach", not "connection lost". Absent once the host answered.
   */
  neverReached: z.boolean().optional(),
  /**
   * While connecting or reconnecting: the attempt running, or the one that just failed, was
   * asked for with Retry now — so a failure is its answer, not that of an earlier attempt.
   */
  retried: z.boolean().optional(),
  /** How the last attempt failed, for wording and icons; `reason` has the words. */
  failure: ConnectionFailure.optional(),
  /** Once connected: the largest file the host takes (bytes, before encryption); 0: none. */
  maxFileBytes: z.number().int().optional(),
});
export type ConnectionState = z.infer<typeof ConnectionState>;

/** One host's connection state, as the `connectionState` event and the snapshot carry it. */
export const HostState = ConnectionState.extend({ hostId: HostId });
export type HostState = z.infer<typeof HostState>;

export const MessageStatus = z.enum(['queued', 'sent', 'failed']);
export type MessageStatus = z.infer<typeof MessageStatus>;

/**
 * Why a message of an end-to-end encrypted room could not be read: changed in transit
 * (`tampered`), not signed by the member the host named (`forged`), seen before (`replay`),
 * from a device not in our group (`not-in-group`), or any other reason (`undecryptable`).
 */
export const E2eeFailureReason = z.enum([
  'tampered',
  'forged',
  'replay',
  'not-in-group',
  'undecryptable',
]);
export type E2eeFailureReason = z.infer<typeof E2eeFailureReason>;

/**
 * How a message of an end-to-end encrypted room was read, when there is something to say: it
 * could not be (`failed`: its text is ''), or it was signed by a person key that is not the one
 * first seen for its sender (`ok` with `keyChanged`: shown with a warning). Absent: a plaintext
 * room, or read as expected.
 */
export const MessageE2ee = z.discriminatedUnion('status', [
  z.object({ status: z.literal('failed'), reason: E2eeFailureReason }),
  z.object({ status: z.literal('ok'), keyChanged: z.literal(true) }),
]);
export type MessageE2ee = z.infer<typeof MessageE2ee>;

/** One emoji's reactions to a message: how many, whether one is ours, and (some of) who. */
export const ReactionView = z.object({
  emoji: z.string(),
  count: z.number().int().min(1),
  mine: z.boolean(),
  /** Nicknames of those who reacted, oldest first (at most 20: the count says how many). */
  by: z.array(z.string()).max(20),
});
export type ReactionView = z.infer<typeof ReactionView>;

/** The message a reply answers, from this install's own copy (never from the reply itself). */
export const ReplyView = z.object({
  seq: z.number().int(),
  from: z.string(),
  /** The start of its text (at most 200 characters); '' when deleted or unknown here. */
  text: z.string(),
  /** The answered message was deleted. */
  deleted: z.boolean().optional(),
  /** Not in this install's history (older than it keeps, or from before it joined). */
  missing: z.boolean().optional(),
  /** Its file's (sanitised) name, when it carried one. */
  file: z.string().optional(),
});
export type ReplyView = z.infer<typeof ReplyView>;

/**
 * A file a message carries. `name` is sanitised (no path, no control characters); the app
 * never opens or runs a file: images are shown (getFile), everything is saved (saveFile).
 */
export const FileView = z.object({
  name: z.string(),
  mime: z.string(),
  /** Plaintext bytes. */
  size: z.number().int(),
  /** Shown inline (PNG, JPEG, GIF, WebP under the inline limit). */
  image: z.boolean(),
  width: z.number().int().optional(),
  height: z.number().int().optional(),
});
export type FileView = z.infer<typeof FileView>;

export const ChatMessageView = z.object({
  room: RoomName,
  /** The client message id: stable from the moment of sending, so a queued message keeps its row. */
  id: z.string(),
  /** Host order; absent until the host acknowledges. */
  seq: z.number().int().optional(),
  from: z.string(),
  fp: z.string(),
  key: z.string(),
  text: z.string(),
  /** Host time once acknowledged; local time while queued. */
  ts: z.number(),
  own: z.boolean(),
  status: MessageStatus,
  history: z.boolean().optional(),
  /** Set when the message could not be decrypted (its `text` is then ''), or its key changed. */
  e2ee: MessageE2ee.optional(),
  /** The message it answers. */
  replyTo: ReplyView.optional(),
  /** Its text was edited (`text` is the newest version). */
  edited: z.boolean().optional(),
  /** Taken back: a tombstone (`text` is '', and there is no file). */
  deleted: z.boolean().optional(),
  /** Reactions, by emoji, in the order each emoji was first used. */
  reactions: z.array(ReactionView).optional(),
  /** A file; `text` is then its caption ('' for none). */
  file: FileView.optional(),
  /** It names us (`@nick`). */
  mentioned: z.boolean().optional(),
});
export type ChatMessageView = z.infer<typeof ChatMessageView>;

/** A search hit in the local history, with the text around the match. */
export const SearchResult = z.object({
  hostId: z.string(),
  room: RoomName,
  seq: z.number().int(),
  id: z.string(),
  from: z.string(),
  ts: z.number(),
  /** The message's text (or a window of it around the match, with '…' where cut). */
  snippet: z.string(),
  /** Where the query's words are in `snippet`: [start, end) in UTF-16 units. */
  highlights: z.array(z.tuple([z.number().int(), z.number().int()])),
});
export type SearchResult = z.infer<typeof SearchResult>;

// Roles, event actions and the bounds are the wire's own (src-shared/membership.ts).
export {
  MAX_INVITE_TTL_MS,
  MAX_INVITE_USES,
  MAX_TOPIC_LENGTH,
  MIN_INVITE_TTL_MS,
  Role,
  RoomEventAction,
};

/** Someone a room event or a direct message names: nickname at the time, key, fingerprint. */
export const PersonView = z.object({ nick: z.string(), key: z.string(), fp: z.string() });
export type PersonView = z.infer<typeof PersonView>;

export const MemberView = z.object({
  nick: z.string(),
  fp: z.string(),
  key: z.string(),
  /** Absent while the host has not said (e.g. offline, from presence only). */
  role: Role.optional(),
  /** Has a connection in the room now. */
  online: z.boolean(),
  /**
   * Marked as verified by this user (compared safety numbers); bound to the person key seen
   * then, so a changed key drops the mark.
   */
  verified: z.boolean(),
  self: z.boolean(),
  /** End-to-end encrypted rooms: how many of their devices are in the room's group. */
  devices: z.number().int().min(0).optional(),
  /**
   * End-to-end encrypted rooms: their person key is not the one first seen for them (a new
   * install, or someone else): compare safety numbers, then accept it (`acceptKeyChange`).
   */
  keyChanged: z.boolean().optional(),
});
export type MemberView = z.infer<typeof MemberView>;

/**
 * A room's notification level: `all` messages notify and count on the badge; `mentions` only
 * messages that name us (`@nick`); `nothing` never notifies and never counts on the badge.
 */
export const RoomMute = z.enum(['all', 'mentions', 'nothing']);
export type RoomMute = z.infer<typeof RoomMute>;

/**
 * Whether a room's messages are end-to-end encrypted: `encrypted` (the group is set up: only
 * members' devices read them), `not-encrypted` (the host can read them: open rooms, rooms of an
 * older host or one run without E2EE), `joining` (encrypted, but this device waits to be added
 * to the group: nothing can be read or sent yet), `broken` (this device lost the group and
 * waits to be added again).
 */
export const RoomEncryption = z.enum(['encrypted', 'not-encrypted', 'joining', 'broken']);
export type RoomEncryption = z.infer<typeof RoomEncryption>;

/**
 * A room in the list. `kind: 'dm'` is a direct message (show `peer`'s nick, not the name).
 * `role` is ours: present for a room we are a member of, absent for an open room we may join
 * (or a room known only from local history while offline).
 */
export const RoomView = z.object({
  name: RoomName,
  joined: z.boolean(),
  unread: z.number().int(),
  /** How many of the unread messages name us (`@nick`); absent: none. */
  unreadMentions: z.number().int().min(1).optional(),
  kind: z.enum(['room', 'dm']),
  role: Role.optional(),
  /** Absent or '' : no topic. */
  topic: z.string().optional(),
  /** Anyone who connects may join. */
  open: z.boolean(),
  /** End-to-end encryption of the room's messages (see RoomEncryption). */
  e2ee: RoomEncryption,
  /** A direct message's other member. */
  peer: PersonView.optional(),
  /** What reaches us from this room: notifications and the badge (the list still counts). */
  mute: RoomMute,
  /**
   * The seq of the first message that arrived unread (while we were elsewhere): the timeline
   * draws the "New messages" line above it. Absent: nothing unread.
   */
  firstUnreadSeq: z.number().int().optional(),
});
export type RoomView = z.infer<typeof RoomView>;

/**
 * Something done to a room, a row of its timeline ("alice removed bob"): it has a seq in the
 * same order as the room's messages. No `actor`: the host's operator did it.
 */
export const RoomEventView = z.object({
  room: RoomName,
  seq: z.number().int(),
  ts: z.number(),
  action: RoomEventAction,
  actor: PersonView.optional(),
  target: PersonView.optional(),
  role: Role.optional(),
  topic: z.string().optional(),
  /** Replayed (on join or paging), not live. */
  history: z.boolean().optional(),
});
export type RoomEventView = z.infer<typeof RoomEventView>;

/** A live invite of a room (never its token: that is shown once, in createInvite's link). */
export const InviteView = z.object({
  id: z.string(),
  room: RoomName,
  role: Role,
  /** null: no limit. */
  usesLeft: z.number().int().nullable(),
  /** ms since the epoch; null: never. */
  expiresAt: z.number().nullable(),
  /** Absent: made by the host's operator. */
  createdBy: PersonView.optional(),
  createdAt: z.number(),
});
export type InviteView = z.infer<typeof InviteView>;

/** Why the host did not take an invite: shown as its own screen or notice. */
export const InviteRefusal = z.enum([
  'invite-unknown',
  'invite-expired',
  'invite-used-up',
  'invite-revoked',
  'banned',
  'rate-limited',
]);
export type InviteRefusal = z.infer<typeof InviteRefusal>;

export const PresenceEvent = z.object({
  room: RoomName,
  event: z.enum(['joined', 'left', 'disconnected', 'renamed']),
  nick: z.string(),
  fp: z.string(),
  key: z.string(),
  newNick: z.string().optional(),
  ts: z.number(),
});
export type PresenceEvent = z.infer<typeof PresenceEvent>;

export const NotificationPrivacy = z.enum(['nothing', 'sender', 'sender-and-text']);
export type NotificationPrivacy = z.infer<typeof NotificationPrivacy>;

export const Theme = z.enum(['system', 'light', 'dark']);
export type Theme = z.infer<typeof Theme>;

export const Settings = z.object({
  notificationPrivacy: NotificationPrivacy,
  muted: z.boolean(),
  closeToTray: z.boolean(),
  theme: Theme,
});
export type Settings = z.infer<typeof Settings>;

export const DEFAULT_SETTINGS: Settings = {
  notificationPrivacy: 'sender',
  muted: false,
  closeToTray: false,
  theme: 'system',
};

export const RecentHost = z.object({
  host: z.string(),
  port: z.number().int(),
  nick: z.string(),
  room: z.string(),
  fingerprint: z.string(),
  lastUsed: z.number(),
});
export type RecentHost = z.infer<typeof RecentHost>;

/** A host in the sidebar: its connection and its rooms. */
export const HostSnapshot = z.object({ connection: HostState, rooms: z.array(RoomView) });
export type HostSnapshot = z.infer<typeof HostSnapshot>;

/** Everything the renderer needs to draw itself after a (re)load. */
export const AppSnapshot = z.object({
  /**
   * The hosts in the sidebar, in the order they were added: each one connected, connecting,
   * reconnecting or offline. A host leaves the list when the user disconnects from it.
   */
  hosts: z.array(HostSnapshot),
  settings: Settings,
  recentHosts: z.array(RecentHost),
  /** Set when the identity key could not be encrypted at rest (no OS keychain). */
  keyStorageWarning: z.string().optional(),
});
export type AppSnapshot = z.infer<typeof AppSnapshot>;
