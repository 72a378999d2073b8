import { z } from 'zod';
import {
  ClientMessageId,
  InviteToken,
  Nick,
  PublicKeyText,
  RoomName,
} from '../../../src-shared/identifier-schemas.ts';
import {
  InviteId,
  MAX_INVITE_TTL_MS,
  MAX_INVITE_USES,
  MAX_TOPIC_LENGTH,
  MIN_INVITE_TTL_MS,
  Role,
  RoomEventAction,
} from '../../../src-shared/membership.ts';
import { ChatEvent, FileId, Relation } from './chat-event.ts';
import {
  CloseCode,
  MAX_CERT_BASE64,
  MAX_CERTS,
  MAX_CHUNK_TEXT,
  MAX_FILE_BYTES,
  MAX_FILE_CHUNKS,
  MAX_GROUP_DEVICES,
  MAX_KEY_PACKAGES,
  MAX_MLS_TEXT,
  MAX_TEXT_BYTES,
  WIRE_VERSION,
} from './constants.ts';

// The vocabulary of private rooms is shared with the IPC contract; the wire re-exports it.
export { MAX_INVITE_TTL_MS, MAX_INVITE_USES, MAX_TOPIC_LENGTH, Role, RoomEventAction };
// The numbers and close reasons live in constants.ts (no zod: what the host imports at start).
export {
  CloseCode,
  MAX_CERT_BASE64,
  MAX_CERTS,
  MAX_CHUNK_TEXT,
  MAX_GROUP_DEVICES,
  MAX_KEY_PACKAGES,
  MAX_MLS_TEXT,
  MAX_TEXT_BYTES,
  WIRE_VERSION,
};

/**
 * The application messages carried inside the secure channel: JSON objects with a type tag
 * `t`, one per channel item, validated on receipt. One definition gives both the runtime
 * schema and the TypeScript type. docs/protocol.md specifies each field.
 */

// Names, rooms, keys and message ids have one format, shared with the IPC contract and the UI.
const nick = Nick;
const room = RoomName;
/** Chosen by the sender so a resend after a reconnect is delivered once. */
const clientMsgId = ClientMessageId;
const text = z.string().min(1).max(MAX_TEXT_BYTES); // bytes are checked separately
/**
 * A `send`'s text is bounded by the item that carries it; its size is the host's to judge, so
 * an over-long one is answered `text-too-long`, not taken for a broken client and hung up on.
 */
const sendText = z.string().min(1);
const fingerprint = z.string().max(64);
const publicKey = PublicKeyText;
const seq = z.number().int().nonnegative();
const timestamp = z.number().int().nonnegative();

// ── end-to-end encryption (docs/protocol.md §12) ───────────────────────────────────────

/**
 * An MLS message (RFC 9420 `MLSMessage`: a PrivateMessage, a PublicMessage commit, a Welcome
 * or a KeyPackage) as unpadded base64url. The host reads only its public header.
 */
export const MlsData = z
  .string()
  .min(4)
  .max(MAX_MLS_TEXT)
  .regex(/^[A-Za-z0-9_-]+$/, 'not base64url');
/** A device: the Ed25519 public key its MLS leaf signs with, as 43 characters of base64url. */
export const DeviceKey = PublicKeyText;
const mlsData = MlsData;
const device = DeviceKey;
/** The MLS epoch of a room's group as the host ordered it; 0: no group yet. */
const epoch = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

// ── the conversation's events and files (docs/protocol.md §13) ─────────────────────────

const chunkData = z
  .string()
  .min(1)
  .max(MAX_CHUNK_TEXT)
  .regex(/^[A-Za-z0-9_-]+$/, 'not base64url');
const fileId = FileId;
const chunkIndex = z.number().int().nonnegative().lt(MAX_FILE_CHUNKS);

// ── rooms and membership (docs/protocol.md §11) ────────────────────────────────────────

const inviteToken = InviteToken;
const inviteId = InviteId;
/** A membership request's id, chosen by the client and echoed in its answer. */
const rid = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const topic = z.string().max(MAX_TOPIC_LENGTH);

/** Who a room event names: the nickname at the time, and the key it belongs to. */
const Person = z.object({ nick, key: publicKey });
export type Person = z.infer<typeof Person>;

/** A room the client may see: one it is a member of, or an open room it may join. */
export const RoomInfo = z.object({
  room,
  kind: z.enum(['room', 'dm']),
  /** The client's role; absent for an open room it has not joined. */
  role: Role.optional(),
  topic: topic.optional(),
  /** Anyone who connects may join an open room. */
  open: z.boolean(),
  /** A direct message's other member. */
  peer: Person.optional(),
  /** End-to-end encrypted: messages travel as MLS ciphertext the host cannot read (§12). */
  e2ee: z.boolean().optional(),
});
export type RoomInfo = z.infer<typeof RoomInfo>;

/**
 * Something done to a room, kept in its timeline with a seq like a message: everyone in the
 * room sees who did what to whom, live and in history.
 */

export const RoomEvent = z.object({
  t: z.literal('event'),
  room,
  seq,
  ts: timestamp,
  action: RoomEventAction,
  /** Absent when the host's operator acted from the host machine. */
  actor: Person.optional(),
  target: Person.optional(),
  role: Role.optional(),
  topic: topic.optional(),
  history: z.boolean().optional(),
});
export type RoomEvent = z.infer<typeof RoomEvent>;

export const InviteInfo = z.object({
  id: inviteId,
  room,
  role: Role,
  /** Uses left; null: no limit. */
  usesLeft: z.number().int().nonnegative().nullable(),
  /** ms since the epoch; null: never. */
  expiresAt: timestamp.nullable(),
  /** Absent when the operator made it on the host machine. */
  createdBy: Person.optional(),
  createdAt: timestamp,
});
export type InviteInfo = z.infer<typeof InviteInfo>;

// ── handshake payloads ──────────────────────────────────────────────────────────────

/** Message 2 (host → client), encrypted: who the host says it is and what it offers. */
export const HostInfo = z.object({
  v: z.literal(WIRE_VERSION),
  name: z.string().max(100),
  software: z.string().max(100),
  /**
   * Open rooms only: this is sent before the host knows who is connecting, so it names no
   * private room. A member learns its rooms from `rooms` after the welcome.
   */
  rooms: z.array(room).max(1000),
  limits: z.object({
    maxTextBytes: z.number().int().positive(),
    messagesPerSecond: z.number().positive(),
    /** Messages a client may send at once before the per-second rate applies. */
    messageBurst: z.number().int().positive().optional(),
    /** The largest file (its ciphertext, in bytes) the host stores; absent or 0: no files. */
    maxFileBytes: z.number().int().nonnegative().max(MAX_FILE_BYTES).optional(),
    /** Files are deleted this many days after they were sent; absent: kept with the message. */
    fileRetentionDays: z.number().int().positive().optional(),
  }),
  /**
   * The host's X.509 certificate chain (docs/trust.md): standard base64 of each DER
   * certificate, the host's own first, then intermediates. Optional; older clients ignore it.
   */
  certs: z
    .array(
      z
        .string()
        .max(MAX_CERT_BASE64)
        .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'not base64 DER'),
    )
    .min(1)
    .max(MAX_CERTS)
    .optional(),
});
export type HostInfo = z.infer<typeof HostInfo>;

/** Message 3 (client → host), encrypted: the nickname this key wants. */
export const Hello = z.object({
  v: z.literal(WIRE_VERSION),
  nick,
  software: z.string().max(100),
  /**
   * This install's MLS device key (§12). Without it the connection can use only rooms that
   * are not end-to-end encrypted.
   */
  device: device.optional(),
});
export type Hello = z.infer<typeof Hello>;

// ── client → host ───────────────────────────────────────────────────────────────────

export const ClientMessage = z.discriminatedUnion('t', [
  z.object({ t: z.literal('join'), room }),
  z.object({ t: z.literal('leave'), room }),
  /**
   * Exactly one of `text` (a plain line, in a room that is not end-to-end encrypted), `ev` (any
   * other event there, §13) and `mls` (an encrypted room: the event is inside). `rel` and `file`
   * are what the host must see of the event (chat-event.ts: Relation). With `mls`, `epoch` is the
   * group epoch the sender encrypted at (its PrivateMessage's header says the same): the host
   * checks it against the room's without decoding the ciphertext (§12).
   */
  z.object({
    t: z.literal('send'),
    room,
    id: clientMsgId,
    text: sendText.optional(),
    ev: ChatEvent.optional(),
    mls: mlsData.optional(),
    epoch: epoch.optional(),
    rel: Relation.optional(),
    file: fileId.optional(),
  }),
  z.object({ t: z.literal('typing'), room }),
  z.object({ t: z.literal('nick'), nick }),
  z.object({ t: z.literal('history'), room, before: seq, limit: z.number().int().min(1).max(500) }),
  z.object({ t: z.literal('ping'), n: z.number().int() }),
  z.object({ t: z.literal('pong'), n: z.number().int() }),
  // Membership (docs/protocol.md §11). Each carries a client-chosen `rid`, and gets exactly one
  // answer carrying the same `rid`: its own reply, `done`, or an `error`.
  /** Becomes a member of the invite's room. A member redeeming again spends no use. */
  z.object({ t: z.literal('redeem'), rid, token: inviteToken }),
  z.object({
    t: z.literal('invite-create'),
    rid,
    room,
    role: Role,
    /** null: no limit. */
    uses: z.number().int().min(1).max(MAX_INVITE_USES).nullable(),
    /** null: never expires. */
    expiresInMs: z.number().int().min(MIN_INVITE_TTL_MS).max(MAX_INVITE_TTL_MS).nullable(),
  }),
  z.object({ t: z.literal('invite-list'), rid, room }),
  z.object({ t: z.literal('invite-revoke'), rid, room, id: inviteId }),
  /** Creates a room with the sender as its owner; answered with `room`. */
  z.object({ t: z.literal('create'), rid, room, open: z.boolean().optional() }),
  z.object({ t: z.literal('topic'), rid, room, topic }),
  /** Sets whether anyone who connects may join (owners only). */
  z.object({ t: z.literal('set-open'), rid, room, open: z.boolean() }),
  /** Gives up membership: the room leaves the client's list until it is invited again. */
  z.object({ t: z.literal('part'), rid, room }),
  /** Removes a member; `ban` also refuses every future invite for that key. */
  z.object({ t: z.literal('remove'), rid, room, key: publicKey, ban: z.boolean() }),
  z.object({ t: z.literal('unban'), rid, room, key: publicKey }),
  z.object({ t: z.literal('set-role'), rid, room, key: publicKey, role: Role }),
  /** Opens (or finds) the direct-message room with a key that shares a room with the sender. */
  z.object({ t: z.literal('dm'), rid, key: publicKey }),
  // End-to-end encryption (docs/protocol.md §12): the host as MLS Delivery Service.
  /** Hands the host KeyPackages of this connection's device; answered `done`. */
  z.object({
    t: z.literal('kp-publish'),
    rid,
    kps: z.array(mlsData).min(1).max(MAX_KEY_PACKAGES),
  }),
  /**
   * Asks for the devices of the room's members, and a KeyPackage of each device not in `have`
   * (the devices already in the sender's group); answered `kps`.
   */
  z.object({
    t: z.literal('kp-claim'),
    rid,
    room,
    have: z.array(device).max(MAX_GROUP_DEVICES * 2),
  }),
  /**
   * A commit (a PublicMessage) for the room's group at the host's current epoch, with the
   * Welcome for the devices it adds (`to`). Answered `committed`, or `error` `stale-epoch`.
   */
  z.object({
    t: z.literal('commit'),
    rid,
    room,
    commit: mlsData,
    welcome: mlsData.optional(),
    to: z.array(device).max(MAX_GROUP_DEVICES).optional(),
  }),
  // Files (docs/protocol.md §13): ciphertext in chunks, stored by the host until a message claims it.
  /**
   * Reserves room for a file of `size` ciphertext bytes in `chunks` chunks, to be sent to
   * `room`; answered `file-started`, or `error` `file-too-large` / `quota-exceeded`.
   */
  z.object({
    t: z.literal('file-start'),
    rid,
    room,
    size: z
      .number()
      .int()
      .positive()
      .max(MAX_FILE_BYTES + MAX_FILE_CHUNKS * 16),
    chunks: z.number().int().min(1).max(MAX_FILE_CHUNKS),
  }),
  /** One chunk of an upload this connection started; answered `file-ack` once stored. */
  z.object({ t: z.literal('file-chunk'), file: fileId, index: chunkIndex, data: chunkData }),
  /** Every chunk was sent: answered `done` when all are stored (the file may now be claimed). */
  z.object({ t: z.literal('file-end'), rid, file: fileId }),
  /** Gives up an upload (or a file not yet claimed by a message): the host drops it; `done`. */
  z.object({ t: z.literal('file-cancel'), rid, file: fileId }),
  /** Asks for one chunk of a file of a room the sender is a member of; answered `file-data`. */
  z.object({ t: z.literal('file-get'), rid, file: fileId, index: chunkIndex }),
]);
export type ClientMessage = z.infer<typeof ClientMessage>;

// ── host → client ───────────────────────────────────────────────────────────────────

export const Member = z.object({
  nick,
  fp: fingerprint,
  key: publicKey,
  /** The member's role; absent in a presence-only listing. */
  role: Role.optional(),
  /** Whether the member has a connection in the room now. */
  online: z.boolean().optional(),
});
export type Member = z.infer<typeof Member>;

/**
 * No `fp` (since version 5): it is a function of `key` (§9), so the host no longer sends it to
 * every recipient of every message; clients derive it (client/key-fingerprint.ts).
 */
export const ChatMessage = z.object({
  t: z.literal('msg'),
  room,
  seq,
  id: clientMsgId,
  from: nick,
  key: publicKey,
  /**
   * Exactly one of `text`, `ev` (a plaintext room's other events, §13) and `mls` — or none, when
   * `deleted`.
   */
  text: text.optional(),
  ev: ChatEvent.optional(),
  /** An MLS PrivateMessage (§12): what the sender said, for the room's members only. */
  mls: mlsData.optional(),
  /** As the sender's `send` had them. */
  rel: Relation.optional(),
  file: fileId.optional(),
  /** Taken back (§13): its content, its edits' and its file are gone; a tombstone stays. */
  deleted: z.literal(true).optional(),
  ts: timestamp,
  /** Sent as part of the history on join or on request, not live. */
  history: z.boolean().optional(),
});
export type ChatMessage = z.infer<typeof ChatMessage>;

/**
 * A commit the host accepted for a room's group (§12): it takes the room's seq like a message,
 * is replayed in history, and every member device applies it in seq order.
 */
export const CommitItem = z.object({
  t: z.literal('commit'),
  room,
  seq,
  ts: timestamp,
  from: nick,
  /** No `fp`, as for `msg`: the client derives it from `key`. */
  key: publicKey,
  /** The group's epoch this commit ends (the new epoch is `epoch + 1`). */
  epoch,
  data: mlsData,
  history: z.boolean().optional(),
});
export type CommitItem = z.infer<typeof CommitItem>;

export const HostErrorCode = z.enum([
  'bad-request', // malformed or unknown message
  'unknown-room',
  'not-in-room',
  'text-too-long',
  'rate-limited',
  'nick-taken',
  'internal',
  // Membership (docs/protocol.md §11).
  'forbidden', // the sender's role does not allow this
  'room-exists', // `create` of a name that is taken (or reserved, as `dm.` names are)
  'not-member', // `remove`, `set-role` or `dm` naming a key that is not a member
  'banned', // an invite for a room that has banned this key
  'invite-unknown', // no such token (or it was never issued)
  'invite-expired',
  'invite-used-up',
  'invite-revoked',
  'too-many-rooms', // the key is in as many rooms as the host allows
  // End-to-end encryption (docs/protocol.md §12).
  'stale-epoch', // a commit or message for an epoch that is not the room's current one
  'e2ee-mismatch', // plaintext to an end-to-end encrypted room, or MLS to one that is not
  'bad-key-package', // a KeyPackage that is not this connection's device's, or not valid
  'no-device', // an MLS request from a connection whose hello named no device
  // The conversation's events and files (docs/protocol.md §13).
  'no-such-message', // an edit or deletion of a seq that is not a message of the room (or is deleted)
  'file-too-large', // above the host's maxFileBytes
  'quota-exceeded', // the host's (or the sender's) file storage is full
  'no-such-file', // a file that is unknown, expired, deleted, or not the sender's to use
]);
export type HostErrorCode = z.infer<typeof HostErrorCode>;

export const HostMessage = z.discriminatedUnion('t', [
  z.object({
    t: z.literal('welcome'),
    nick,
    fp: fingerprint,
    /** KeyPackages the host holds for this connection's device (absent: no device named). */
    keyPackages: z.number().int().nonnegative().max(MAX_KEY_PACKAGES).optional(),
  }),
  /** `epoch`: for an end-to-end encrypted room, its group's current epoch (0: none yet). */
  z.object({ t: z.literal('joined'), room, epoch: epoch.optional() }),
  /** A page of the member list; `last` marks the final page. */
  z.object({
    t: z.literal('members'),
    room,
    members: z.array(Member).max(500),
    last: z.boolean().optional(),
  }),
  /** History has been sent and live messages follow. */
  z.object({ t: z.literal('synced'), room }),
  z.object({ t: z.literal('left'), room }),
  ChatMessage,
  z.object({
    t: z.literal('ack'),
    room,
    id: clientMsgId,
    seq,
    ts: timestamp,
    duplicate: z.boolean().optional(),
  }),
  z.object({
    t: z.literal('presence'),
    room,
    event: z.enum(['joined', 'left', 'disconnected', 'renamed']),
    nick,
    fp: fingerprint,
    key: publicKey,
    newNick: nick.optional(),
  }),
  z.object({ t: z.literal('typing'), room, nick, fp: fingerprint }),
  z.object({ t: z.literal('nick'), nick }),
  /** The end of a `history` request's answer: `more` tells whether older messages exist. */
  z.object({ t: z.literal('history-end'), room, more: z.boolean() }),
  z.object({
    t: z.literal('error'),
    code: HostErrorCode,
    message: z.string().max(500),
    /** The client message id or room the error is about. */
    ref: z.string().max(100).optional(),
    /** Set when the error answers a membership request: its `rid`. */
    rid: rid.optional(),
    retryAfterMs: z.number().int().nonnegative().optional(),
    /** With `stale-epoch`: the room's current epoch. */
    epoch: epoch.optional(),
  }),
  z.object({ t: z.literal('ping'), n: z.number().int() }),
  z.object({ t: z.literal('pong'), n: z.number().int() }),
  // Membership (docs/protocol.md §11).
  /**
   * After the welcome: every room this key may see, in pages; `last: false` on all but the
   * final page. The whole listing replaces the client's list.
   */
  z.object({
    t: z.literal('rooms'),
    rooms: z.array(RoomInfo).max(1000),
    last: z.boolean().optional(),
  }),
  /**
   * One room was added to this key's list or changed (role, topic, open). With `rid`: the
   * answer to `create` or `dm`.
   */
  z.object({ t: z.literal('room'), info: RoomInfo, rid: rid.optional() }),
  /**
   * This key is no longer a member: removed or banned by `by`, or it parted. Nothing more of
   * the room is sent; the client drops it from its list.
   */
  z.object({
    t: z.literal('removed'),
    room,
    reason: z.enum(['removed', 'banned', 'parted']),
    by: Person.optional(),
  }),
  RoomEvent,
  /** The answer to `redeem`: the key is a member of `room` with `role`. */
  z.object({ t: z.literal('redeemed'), rid, room, role: Role }),
  /** The answer to `invite-create`: the token is shown once and never again. */
  z.object({ t: z.literal('invite'), rid, invite: InviteInfo, token: inviteToken }),
  /** The answer to `invite-list`: the room's live invites (not revoked, expired or used up). */
  z.object({ t: z.literal('invites'), rid, room, invites: z.array(InviteInfo).max(500) }),
  /** The answer to `invite-revoke`, `topic`, `set-open`, `part`, `remove`, `unban`, `set-role`. */
  z.object({ t: z.literal('done'), rid }),
  // End-to-end encryption (docs/protocol.md §12).
  CommitItem,
  /**
   * The Welcome that adds this connection's device to a room's group, made by the commit at
   * `seq`: the device reads the room from the next seq on. Sent after `joined`, and live.
   */
  z.object({ t: z.literal('mls-welcome'), room, seq, data: mlsData }),
  /** The answer to `kp-claim`: every device of the room's members, and KeyPackages asked for. */
  z.object({
    t: z.literal('kps'),
    rid,
    room,
    devices: z.array(z.object({ key: publicKey, device })).max(MAX_GROUP_DEVICES * 4),
    kps: z.array(z.object({ key: publicKey, device, kp: mlsData })).max(MAX_GROUP_DEVICES),
  }),
  /** The answer to `commit`: the host ordered it at `seq`; the group is now at `epoch`. */
  z.object({ t: z.literal('committed'), rid, room, seq, epoch }),
  /** A member of the room has a new device, or retired one: members' groups should follow. */
  z.object({ t: z.literal('devices'), room }),
  // Files (docs/protocol.md §13).
  /** The answer to `file-start`: send the chunks under this id. */
  z.object({ t: z.literal('file-started'), rid, file: fileId }),
  /** A chunk of the upload is stored. */
  z.object({ t: z.literal('file-ack'), file: fileId, index: chunkIndex }),
  /** The answer to `file-get`. */
  z.object({ t: z.literal('file-data'), rid, file: fileId, index: chunkIndex, data: chunkData }),
]);
export type HostMessage = z.infer<typeof HostMessage>;
