import { z } from 'zod';
import { Nick, PublicKeyText, RoomName } from '../identifier-schemas.ts';
import { InviteId } from '../membership.ts';
import type { Failure } from '../result.ts';
import type { EVENT_NAMES as EVENT_LIST, REQUEST_NAMES as REQUEST_LIST } from './names.ts';
import {
  AppSnapshot,
  AuthorityView,
  CertificateFingerprint,
  CertificateProblem,
  ChatMessageView,
  HostId,
  SearchResult,
  HostState,
  InviteRefusal,
  InviteView,
  MAX_INVITE_TTL_MS,
  MAX_INVITE_USES,
  MIN_INVITE_TTL_MS,
  MAX_TOPIC_LENGTH,
  MemberView,
  PersonView,
  PresenceEvent,
  Role,
  RoomEventView,
  RoomMute,
  RoomView,
  Settings,
} from './domain.ts';

const Empty = z.object({}).strict();
/** Everything about a host's rooms names the host: the app holds several at once. */
const OnHost = { hostId: HostId };
const HostInput = z.object(OnHost).strict();
/** Rooms are managed by name; a direct message's name is its host's, never typed. */
const RoomInput = z.object({ ...OnHost, room: RoomName }).strict();
/** A message of a room, by its host-given seq. */
const Seq = z.number().int().nonnegative();
const MessageText = z
  .string()
  .min(1)
  .max(16 * 1024);
/** A file sent through IPC as base64: 4/3 of the largest file a host may take (1 GiB). */
const MAX_FILE_BASE64 = Math.ceil((1024 * 1024 * 1024 * 4) / 3) + 4;

/**
 * The typed IPC contract between the renderer and main, as one definition: each request's
 * input and output schema, each event's payload schema. Main validates every request against
 * it; the preload derives `window.parley` from the names; the renderer sees only the types.
 */
export const requests = {
  getSnapshot: { input: z.object({}), output: AppSnapshot },
  /** An invite link, or host + port for trust on first use. */
  connect: {
    input: z.union([
      z.object({ invite: z.string().max(2048), nick: Nick }),
      z.object({
        host: z.string().min(1).max(255),
        port: z.number().int().min(1).max(65535),
        nick: Nick,
      }),
    ]),
    /** The host joins the sidebar (or, already there, connects again with this input). */
    output: HostState,
  },
  /** Ends the session with one host; it leaves the sidebar (its history stays on disk). */
  disconnect: { input: HostInput, output: z.object({}) },
  /** While reconnecting or offline: try now instead of waiting for the countdown. */
  retryNow: { input: HostInput, output: Empty },
  /**
   * The network came back or the machine woke (the browser's `online` event; main also listens
   * to powerMonitor): every host waiting to reconnect tries at once.
   */
  networkChanged: { input: Empty, output: Empty },
  send: {
    input: z.object({
      ...OnHost,
      room: RoomName,
      text: z
        .string()
        .min(1)
        .max(16 * 1024),
      /** The seq of the message this one answers. */
      replyTo: Seq.optional(),
    }),
    output: z.object({ id: z.string() }),
  },
  /** Replaces the text of one of our own messages (for everyone). */
  editMessage: {
    input: z.object({ ...OnHost, room: RoomName, seq: Seq, text: MessageText }).strict(),
    output: z.object({ id: z.string() }),
  },
  /** Deletes a message for everyone: our own, or any in a room where we are owner or admin. */
  deleteMessage: {
    input: z.object({ ...OnHost, room: RoomName, seq: Seq }).strict(),
    output: z.object({ id: z.string() }),
  },
  /** Adds (`on`) or takes back our reaction `emoji` to a message. */
  react: {
    input: z
      .object({
        ...OnHost,
        room: RoomName,
        seq: Seq,
        emoji: z.string().min(1).max(64),
        on: z.boolean(),
      })
      .strict(),
    output: z.object({ id: z.string() }),
  },
  /**
   * Sends a file (picked, dropped or pasted) as standard base64: encrypted with a key of its
   * own, uploaded in chunks (progress: the `fileProgress` event), then announced in the room.
   * Resolves once the upload started, with the message id that `fileProgress` and `cancelFile`
   * name. Refused `too-large` above the host's limit (RoomView/HostState says it).
   */
  sendFile: {
    input: z
      .object({
        ...OnHost,
        room: RoomName,
        name: z.string().min(1).max(1024),
        mime: z.string().max(200),
        data: z.string().max(MAX_FILE_BASE64),
        caption: z
          .string()
          .max(16 * 1024)
          .optional(),
        replyTo: Seq.optional(),
        width: z.number().int().min(1).max(100_000).optional(),
        height: z.number().int().min(1).max(100_000).optional(),
      })
      .strict(),
    output: z.object({ id: z.string() }),
  },
  /** Stops an upload in progress (its message is not sent). */
  cancelFile: { input: z.object({ ...OnHost, id: z.string().max(64) }).strict(), output: Empty },
  /** A message's file, decrypted, for showing an image inline or in the viewer (base64). */
  getFile: {
    input: z.object({ ...OnHost, room: RoomName, seq: Seq }).strict(),
    output: z.object({ data: z.string(), mime: z.string(), name: z.string() }),
  },
  /** Saves a message's file where the user chooses (a save dialog); `saved: false` if cancelled. */
  saveFile: {
    input: z.object({ ...OnHost, room: RoomName, seq: Seq }).strict(),
    output: z.object({ saved: z.boolean() }),
  },
  /**
   * Searches the local, decrypted history: every host and room, one host, or one room. Words
   * match as prefixes ("hel" finds "hello"); newest first.
   */
  search: {
    input: z
      .object({
        query: z.string().min(1).max(200),
        hostId: HostId.optional(),
        room: RoomName.optional(),
        limit: z.number().int().min(1).max(200).optional(),
      })
      .strict(),
    output: z.object({ results: z.array(SearchResult) }),
  },
  joinRoom: { input: RoomInput, output: z.object({}) },
  leaveRoom: { input: RoomInput, output: z.object({}) },
  /**
   * The room the user is looking at (on which host), or nulls: drives unread counts, the
   * "New messages" line and notifications.
   */
  setActiveRoom: {
    input: z.object({ hostId: HostId.nullable(), room: RoomName.nullable() }).strict(),
    output: z.object({}),
  },
  /** A room's notification level; kept on this machine across restarts. */
  setRoomMute: {
    input: z.object({ ...OnHost, room: RoomName, mute: RoomMute }).strict(),
    output: Empty,
  },
  /** The messages kept locally for a room, newest last (before `beforeSeq` if given). */
  loadHistory: {
    input: z.object({
      ...OnHost,
      room: RoomName,
      beforeSeq: z.number().int().optional(),
      /** Instead of the newest: the messages around this seq (to jump to a reply or a result). */
      aroundSeq: z.number().int().optional(),
      limit: z.number().int().min(1).max(500),
    }),
    output: z.object({
      messages: z.array(ChatMessageView),
      /**
       * The room events kept in the same span (created, joined, removed, topic, ...): merge
       * them with `messages` by seq. Absent: none.
       */
      events: z.array(RoomEventView).optional(),
      more: z.boolean(),
    }),
  },
  typing: { input: RoomInput, output: z.object({}) },
  /** Our nickname on one host (each host has its own). */
  setNick: { input: z.object({ ...OnHost, nick: Nick }), output: z.object({}) },
  getMembers: { input: RoomInput, output: z.array(MemberView) },
  /** The answer to a `trustRequired` event. */
  answerTrust: {
    input: z.object({ requestId: z.string().max(64), trust: z.boolean() }),
    output: z.object({}),
  },
  /**
   * Marks a member as verified (compared safety numbers, or fingerprints, out of band).
   * `bySafetyNumber`: the user compared the safety number (the Verify dialog); the mark then holds
   * for the person key seen now (a change drops it) and counts in end-to-end encrypted rooms. A
   * fingerprint mark (without it) covers only the Parley key, not the key their devices carry,
   * so it does not make them verified in an end-to-end encrypted room.
   */
  markVerified: {
    input: z.object({
      key: PublicKeyText,
      verified: z.boolean(),
      bySafetyNumber: z.boolean().optional(),
    }),
    output: z.object({}),
  },
  /**
   * The safety number of us and `key` (a member of an end-to-end encrypted room on that host):
   * 60 digits in 12 groups of 5, the same on both sides. `not-found` while their devices are
   * not known yet.
   */
  safetyNumber: {
    input: z.object({ ...OnHost, key: PublicKeyText }).strict(),
    output: z.string().regex(/^\d{5}( \d{5}){11}$/),
  },
  /**
   * The user accepts a member's changed person key (after comparing the new safety number):
   * the warning goes; a verified mark is not carried over.
   */
  acceptKeyChange: {
    input: z.object({ ...OnHost, key: PublicKeyText }).strict(),
    output: Empty,
  },
  getSettings: { input: z.object({}), output: Settings },
  updateSettings: { input: Settings.partial(), output: Settings },
  /**
   * Trusts a certificate authority (its certificate as PEM text): hosts whose certificate it
   * issued are then verified without an invite. Importing one twice is not an error.
   */
  importAuthority: {
    input: z.object({
      pem: z
        .string()
        .min(1)
        .max(64 * 1024),
    }),
    output: z.object({ authority: AuthorityView, added: z.boolean() }),
  },
  listAuthorities: { input: z.object({}), output: z.array(AuthorityView) },
  removeAuthority: {
    input: z.object({ fingerprint: CertificateFingerprint }),
    output: z.object({}),
  },
  /** Opens an http(s) link from a message in the system browser, after validation in main. */
  openExternal: { input: z.object({ url: z.string().max(4096) }), output: z.object({}) },

  // ── private rooms (admins and owners; the host decides, a refusal is `forbidden` & co.) ──
  /**
   * A new invite link for `room` (admin+; `role` at most one's own). The link carries the
   * token: it is shown once, here, and never stored by Parley.
   */
  createInvite: {
    input: z
      .object({
        ...OnHost,
        room: RoomName,
        role: Role,
        /** null: no use limit. */
        uses: z.number().int().min(1).max(MAX_INVITE_USES).nullable(),
        /** null: never expires. At least a minute. */
        expiresInMs: z.number().int().min(MIN_INVITE_TTL_MS).max(MAX_INVITE_TTL_MS).nullable(),
      })
      .strict(),
    output: z.object({
      link: z.string(),
      id: z.string(),
      role: Role,
      expiresAt: z.number().nullable(),
      usesLeft: z.number().int().nullable(),
    }),
  },
  /** The room's live invites (admin+): not revoked, expired or used up. */
  listInvites: { input: RoomInput, output: z.array(InviteView) },
  revokeInvite: {
    input: z.object({ ...OnHost, room: RoomName, id: InviteId }).strict(),
    output: Empty,
  },
  /** A new room with us as its owner (admins of any room may); it is joined at once. */
  createRoom: {
    input: z.object({ ...OnHost, room: RoomName, open: z.boolean().optional() }).strict(),
    output: z.object({ room: RoomName }),
  },
  /** '' clears it. Admin+ (either member in a direct message). */
  setTopic: {
    input: z
      .object({ ...OnHost, room: RoomName, topic: z.string().max(MAX_TOPIC_LENGTH) })
      .strict(),
    output: Empty,
  },
  /** Owners: whether anyone who connects may join (open), or only the invited (private). */
  setOpen: {
    input: z.object({ ...OnHost, room: RoomName, open: z.boolean() }).strict(),
    output: Empty,
  },
  /** Lifts a ban (admin+): the key may be invited again; it is not made a member. */
  unban: {
    input: z.object({ ...OnHost, room: RoomName, key: PublicKeyText }).strict(),
    output: Empty,
  },
  /** Gives up membership: the room leaves the list until someone invites us again. */
  partRoom: { input: RoomInput, output: Empty },
  /** Removes `key` from the room; `ban` also refuses every future invite for it. */
  removeMember: {
    input: z.object({ ...OnHost, room: RoomName, key: PublicKeyText, ban: z.boolean() }).strict(),
    output: Empty,
  },
  setRole: {
    input: z.object({ ...OnHost, room: RoomName, key: PublicKeyText, role: Role }).strict(),
    output: Empty,
  },
  /** Opens (or finds) the direct message with `key`, who must share a room with us. */
  openDm: {
    input: z.object({ ...OnHost, key: PublicKeyText }).strict(),
    output: z.object({ room: RoomName }),
  },
} as const;

/** Every event about a host's rooms or connection names the host. */
const onHost = <T extends z.ZodRawShape>(schema: z.ZodObject<T>) => schema.extend(OnHost);

export const events = {
  connectionState: HostState,
  message: onHost(ChatMessageView),
  /** A queued message was acknowledged (or failed for good). */
  messageStatus: z.object({
    ...OnHost,
    room: RoomName,
    id: z.string(),
    status: z.enum(['sent', 'failed']),
    seq: z.number().int().optional(),
    ts: z.number().optional(),
    error: z.string().optional(),
  }),
  presence: onHost(PresenceEvent),
  members: z.object({ ...OnHost, room: RoomName, members: z.array(MemberView) }),
  typing: z.object({ ...OnHost, room: RoomName, nick: z.string(), fp: z.string() }),
  /** First contact with a host that came without an invite key: ask the user. */
  trustRequired: z.object({
    ...OnHost,
    requestId: z.string(),
    host: z.string(),
    port: z.number().int(),
    fingerprint: z.string(),
    /** The host presented a certificate, but it was not accepted: why. */
    certificateProblem: CertificateProblem.optional(),
  }),
  /** The host presented a different key than expected (invite or pin); nothing was sent. */
  hostKeyChanged: z.object({
    ...OnHost,
    host: z.string(),
    port: z.number().int(),
    expectedFingerprint: z.string(),
    actualFingerprint: z.string(),
    /**
     * Where the expected key came from: the invite link we connected with (the invite does not
     * match this host: a wrong or forged link), or the key pinned earlier (the host's key
     * changed since). The two are worded differently.
     */
    expectedFrom: z.enum(['invite', 'pinned']),
    /** The host presented a certificate for the new key, but it was not accepted: why. */
    certificateProblem: CertificateProblem.optional(),
  }),
  /**
   * One host's unread counts per room; `total` is that host's badge count (muted rooms left
   * out), `allHosts` the badge across every host (what the tray shows).
   */
  unread: z.object({
    ...OnHost,
    counts: z.record(z.string(), z.number().int()),
    total: z.number().int(),
    allHosts: z.number().int(),
    /** Unread messages naming us, per room (only rooms with some). */
    mentions: z.record(z.string(), z.number().int()).optional(),
    /** Unread mentions across every host: the tray shows them apart. */
    allHostsMentions: z.number().int().optional(),
  }),
  /**
   * An upload's progress (our own file message `id`): `sending` with bytes stored so far,
   * then `sent` (the message is queued like any other), `failed` (with the reason in words)
   * or `cancelled`.
   */
  fileProgress: z.object({
    ...OnHost,
    room: RoomName,
    id: z.string(),
    name: z.string(),
    sent: z.number().int(),
    total: z.number().int(),
    state: z.enum(['sending', 'sent', 'failed', 'cancelled']),
    error: z.string().optional(),
  }),
  /** One host's room list, whole. */
  rooms: z.object({ ...OnHost, rooms: z.array(RoomView) }),
  settings: Settings,
  /** A notification was clicked, or an invite arrived from the OS: show this room. */
  openRoom: z.object({ ...OnHost, room: RoomName }),
  /** An invite link arrived from the OS (second instance, parley:// handler). */
  openInvite: z.object({ invite: z.string() }),
  /** Something went wrong in the background; `hostId` when it is about one host. */
  error: z.object({ code: z.string(), message: z.string(), hostId: HostId.optional() }),
  /** A room event for the timeline (live, or replayed on join with `history`). */
  roomEvent: onHost(RoomEventView),
  /**
   * We are no longer a member of `room` (removed or banned by `by`, or we parted): it left the
   * list, with its local history. Show "You were removed from #room by alice".
   */
  roomRemoved: z.object({
    ...OnHost,
    room: RoomName,
    reason: z.enum(['removed', 'banned', 'parted']),
    by: PersonView.optional(),
  }),
  /**
   * The invite we connected with was not taken (the connection stays, for the rooms we are
   * already in): expired, used up, revoked, unknown, banned, or too many tries.
   */
  inviteRefused: z.object({
    ...OnHost,
    code: InviteRefusal,
    message: z.string(),
    room: RoomName.optional(),
  }),
} as const;

export type RequestName = keyof typeof requests;
export type EventName = keyof typeof events;
export type RequestInput<N extends RequestName> = z.input<(typeof requests)[N]['input']>;
export type RequestOutput<N extends RequestName> = z.output<(typeof requests)[N]['output']>;
export type EventPayload<N extends EventName> = z.output<(typeof events)[N]>;

export type IpcErrorCode =
  | 'invalid-request' // the input did not match the schema
  | 'not-connected'
  | 'invalid-invite'
  | 'not-found'
  | 'refused' // e.g. a URL that is not http(s)
  | 'invalid-certificate' // importAuthority: not a usable CA certificate (the message says why)
  // Private rooms: the host refused a request; the message is the host's, in words.
  | 'forbidden' // our role does not allow it (or the host's rules: last owner, DMs, ...)
  | 'room-exists' // createRoom: the name is taken or reserved
  | 'not-member' // removeMember / setRole / openDm: that key is not a member (or shares no room)
  | 'rate-limited' // too many requests; try again shortly
  | 'timeout' // the host did not answer in time (it may still have done it)
  | 'too-large' // sendFile: above the host's file limit (the message names the limit)
  | 'internal';

export type IpcResult<T> = { ok: true; value: T } | { ok: false; error: Failure<IpcErrorCode> };

type Capitalized<S extends string> = S extends `${infer F}${infer R}` ? `${Uppercase<F>}${R}` : S;

/** `window.parley`: one named method per request, one `onX` per event returning an unsubscribe. */
export type ParleyApi = {
  readonly [N in RequestName]: (input: RequestInput<N>) => Promise<IpcResult<RequestOutput<N>>>;
} & {
  readonly [N in EventName as `on${Capitalized<N>}`]: (
    listener: (payload: EventPayload<N>) => void,
  ) => () => void;
};

export { EVENT_NAMES, REQUEST_NAMES, eventChannel, listenerName, requestChannel } from './names.ts';

// names.ts must list exactly the contract's keys: each line fails to compile if one is missing.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const requestNamesMatch: Same<RequestName, (typeof REQUEST_LIST)[number]> = true;
const eventNamesMatch: Same<EventName, (typeof EVENT_LIST)[number]> = true;
void requestNamesMatch;
void eventNamesMatch;
