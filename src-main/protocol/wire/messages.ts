import { z } from 'zod';
import {
  ClientMessageId,
  Nick,
  PublicKeyText,
  RoomName,
} from '../../../src-shared/identifier-schemas.ts';

/**
 * The application messages carried inside the secure channel: JSON objects with a type tag
 * `t`, one per channel item, validated on receipt. One definition gives both the runtime
 * schema and the TypeScript type. docs/protocol.md specifies each field.
 */
export const WIRE_VERSION = 1;
export const MAX_TEXT_BYTES = 16 * 1024;
/** Host info's certificate chain: at most this many certificates of at most 12 KiB each. */
export const MAX_CERTS = 8;
export const MAX_CERT_BASE64 = 16384;

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

// ── handshake payloads ──────────────────────────────────────────────────────────────

/** Message 2 (host → client), encrypted: who the host says it is and what it offers. */
export const HostInfo = z.object({
  v: z.literal(WIRE_VERSION),
  name: z.string().max(100),
  software: z.string().max(100),
  rooms: z.array(room).max(1000),
  limits: z.object({
    maxTextBytes: z.number().int().positive(),
    messagesPerSecond: z.number().positive(),
    /** Messages a client may send at once before the per-second rate applies. */
    messageBurst: z.number().int().positive().optional(),
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
});
export type Hello = z.infer<typeof Hello>;

// ── client → host ───────────────────────────────────────────────────────────────────

export const ClientMessage = z.discriminatedUnion('t', [
  z.object({ t: z.literal('join'), room }),
  z.object({ t: z.literal('leave'), room }),
  z.object({ t: z.literal('send'), room, id: clientMsgId, text: sendText }),
  z.object({ t: z.literal('typing'), room }),
  z.object({ t: z.literal('nick'), nick }),
  z.object({ t: z.literal('history'), room, before: seq, limit: z.number().int().min(1).max(500) }),
  z.object({ t: z.literal('ping'), n: z.number().int() }),
  z.object({ t: z.literal('pong'), n: z.number().int() }),
]);
export type ClientMessage = z.infer<typeof ClientMessage>;

// ── host → client ───────────────────────────────────────────────────────────────────

export const Member = z.object({ nick, fp: fingerprint, key: publicKey });
export type Member = z.infer<typeof Member>;

export const ChatMessage = z.object({
  t: z.literal('msg'),
  room,
  seq,
  id: clientMsgId,
  from: nick,
  fp: fingerprint,
  key: publicKey,
  text,
  ts: timestamp,
  /** Sent as part of the history on join or on request, not live. */
  history: z.boolean().optional(),
});
export type ChatMessage = z.infer<typeof ChatMessage>;

export const HostErrorCode = z.enum([
  'bad-request', // malformed or unknown message
  'unknown-room',
  'not-in-room',
  'text-too-long',
  'rate-limited',
  'nick-taken',
  'internal',
]);
export type HostErrorCode = z.infer<typeof HostErrorCode>;

export const HostMessage = z.discriminatedUnion('t', [
  z.object({ t: z.literal('welcome'), nick, fp: fingerprint }),
  z.object({ t: z.literal('joined'), room }),
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
    retryAfterMs: z.number().int().nonnegative().optional(),
  }),
  z.object({ t: z.literal('ping'), n: z.number().int() }),
  z.object({ t: z.literal('pong'), n: z.number().int() }),
]);
export type HostMessage = z.infer<typeof HostMessage>;

/** Reasons a host gives in the channel's end-of-session item. */
export const CloseCode = {
  shutdown: 'shutdown',
  nickTaken: 'nick-taken',
  badHello: 'bad-hello',
  protocolError: 'protocol-error',
  flooding: 'flooding',
  slowReader: 'slow-reader',
  idleTimeout: 'idle-timeout',
  full: 'full',
  /** The host failed while serving this connection; nobody else was affected. Reconnect. */
  internal: 'internal',
  bye: 'bye',
} as const;
