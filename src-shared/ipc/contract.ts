import { z } from 'zod';
import { Nick, PublicKeyText, RoomName } from '../identifier-schemas.ts';
import type { Failure } from '../result.ts';
import type { EVENT_NAMES as EVENT_LIST, REQUEST_NAMES as REQUEST_LIST } from './names.ts';
import {
  AppSnapshot,
  AuthorityView,
  CertificateFingerprint,
  CertificateProblem,
  ChatMessageView,
  ConnectionState,
  MemberView,
  PresenceEvent,
  Settings,
} from './domain.ts';

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
    output: ConnectionState,
  },
  disconnect: { input: z.object({}), output: z.object({}) },
  send: {
    input: z.object({
      room: RoomName,
      text: z
        .string()
        .min(1)
        .max(16 * 1024),
    }),
    output: z.object({ id: z.string() }),
  },
  joinRoom: { input: z.object({ room: RoomName }), output: z.object({}) },
  leaveRoom: { input: z.object({ room: RoomName }), output: z.object({}) },
  /** The room the user is looking at, or null: drives unread counts and notifications. */
  setActiveRoom: { input: z.object({ room: RoomName.nullable() }), output: z.object({}) },
  /** The messages kept locally for a room, newest last (before `beforeSeq` if given). */
  loadHistory: {
    input: z.object({
      room: RoomName,
      beforeSeq: z.number().int().optional(),
      limit: z.number().int().min(1).max(500),
    }),
    output: z.object({ messages: z.array(ChatMessageView), more: z.boolean() }),
  },
  typing: { input: z.object({ room: RoomName }), output: z.object({}) },
  setNick: { input: z.object({ nick: Nick }), output: z.object({}) },
  getMembers: { input: z.object({ room: RoomName }), output: z.array(MemberView) },
  /** The answer to a `trustRequired` event. */
  answerTrust: {
    input: z.object({ requestId: z.string().max(64), trust: z.boolean() }),
    output: z.object({}),
  },
  markVerified: {
    input: z.object({ key: PublicKeyText, verified: z.boolean() }),
    output: z.object({}),
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
} as const;

export const events = {
  connectionState: ConnectionState,
  message: ChatMessageView,
  /** A queued message was acknowledged (or failed for good). */
  messageStatus: z.object({
    room: RoomName,
    id: z.string(),
    status: z.enum(['sent', 'failed']),
    seq: z.number().int().optional(),
    ts: z.number().optional(),
    error: z.string().optional(),
  }),
  presence: PresenceEvent,
  members: z.object({ room: RoomName, members: z.array(MemberView) }),
  typing: z.object({ room: RoomName, nick: z.string(), fp: z.string() }),
  /** First contact with a host that came without an invite key: ask the user. */
  trustRequired: z.object({
    requestId: z.string(),
    host: z.string(),
    port: z.number().int(),
    fingerprint: z.string(),
    /** The host presented a certificate, but it was not accepted: why. */
    certificateProblem: CertificateProblem.optional(),
  }),
  /** The host presented a different key than the pinned one; nothing was sent. */
  hostKeyChanged: z.object({
    host: z.string(),
    port: z.number().int(),
    expectedFingerprint: z.string(),
    actualFingerprint: z.string(),
    /** The host presented a certificate for the new key, but it was not accepted: why. */
    certificateProblem: CertificateProblem.optional(),
  }),
  unread: z.object({ counts: z.record(z.string(), z.number().int()), total: z.number().int() }),
  rooms: z.array(z.object({ name: RoomName, joined: z.boolean(), unread: z.number().int() })),
  settings: Settings,
  /** A notification was clicked, or an invite arrived from the OS: show this room. */
  openRoom: z.object({ room: RoomName }),
  /** An invite link arrived from the OS (second instance, parley:// handler). */
  openInvite: z.object({ invite: z.string() }),
  error: z.object({ code: z.string(), message: z.string() }),
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
