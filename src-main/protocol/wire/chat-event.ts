import { z } from 'zod';
import {
  FILE_CHUNK_BYTES,
  MAX_EVENT_TEXT_BYTES,
  MAX_FILE_BYTES,
  MAX_FILE_CHUNKS,
} from './constants.ts';

// The limits and the relation functions need no schema: a host loads them without zod.
export { FILE_CHUNK_BYTES, MAX_EVENT_TEXT_BYTES, MAX_FILE_BYTES, MAX_FILE_CHUNKS };
export { relationMatches, relationOf } from './relation.ts';

/**
 * What a member says, beyond a line of text (docs/protocol.md §13): replies, edits, deletions,
 * reactions, files, and the read position shared between one person's installs. One schema for
 * both kinds of room: in an end-to-end encrypted room an event is the decrypted MLS payload
 * (src-main/e2ee/payload.ts adds `v` and `id`); in a plaintext room it travels as `send.ev` and
 * the host checks it with this same schema. Messages are named by their `seq` in the room: the
 * host's order, the same for every member and every install.
 */

const encoder = new TextEncoder();
const withinBytes = (max: number) => (text: string) => encoder.encode(text).length <= max;

/** A message of the room, by its host-given seq. */
export const MessageSeq = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
export const EventText = z
  .string()
  .min(1)
  .refine(withinBytes(MAX_EVENT_TEXT_BYTES), 'text too long');
/**
 * One emoji (an RGI emoji, with its modifiers and joiners): reactions are pictures, not a second
 * channel for text.
 */
export const ReactionEmoji = z
  .string()
  .min(1)
  .max(64)
  .regex(new RegExp('^\\p{RGI_Emoji}$', 'v'), 'not an emoji');
/** A file the host stores: 16 random bytes it chose, base64url. */
export const FileId = z.string().regex(/^[A-Za-z0-9_-]{22}$/, 'not a file id');

/**
 * A file: where the host keeps its ciphertext, and what opens it. `key` is a fresh AES-256-GCM
 * key for this file only (base64url of 32 bytes): whoever reads the event can read the file,
 * and the host, which stores only the chunks, cannot (in an end-to-end encrypted room).
 * `name` and `mime` are the sender's claims: receivers sanitise the name and never open or run
 * the file.
 */
export const FileRef = z.object({
  id: FileId,
  name: z.string().min(1).max(255).refine(withinBytes(255), 'name too long'),
  mime: z
    .string()
    .max(100)
    .regex(/^[\w.+-]+\/[\w.+-]+$/, 'not a media type'),
  /** Plaintext bytes. */
  size: z.number().int().nonnegative().max(MAX_FILE_BYTES),
  chunks: z.number().int().min(1).max(MAX_FILE_CHUNKS),
  key: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'not a 32-byte key'),
  /** For images: pixel size, so the timeline keeps the thumbnail's place before it loads. */
  width: z.number().int().min(1).max(100_000).optional(),
  height: z.number().int().min(1).max(100_000).optional(),
});
export type FileRef = z.infer<typeof FileRef>;

/** A line of text; `reply` quotes an earlier message (clients show it from their own copy). */
export const TextEvent = z.object({
  type: z.literal('text'),
  text: EventText,
  reply: MessageSeq.optional(),
});
/** Replaces the text of the sender's own message `target`: the newest edit (by seq) wins. */
export const EditEvent = z.object({
  type: z.literal('edit'),
  target: MessageSeq,
  text: EventText,
});
/**
 * Takes `target` back for everyone: its text, its edits and its file leave every client's
 * store and the host's; a tombstone stays. The sender's own message, or any in a room where the
 * sender is an owner or admin.
 */
export const DeleteEvent = z.object({ type: z.literal('delete'), target: MessageSeq });
/** Adds (`on`) or takes back one reaction of the sender to `target`. */
export const ReactEvent = z.object({
  type: z.literal('react'),
  target: MessageSeq,
  emoji: ReactionEmoji,
  on: z.boolean(),
});
/**
 * The sender has read the room up to `upTo`: only the sender's own installs act on it (the
 * "new messages" line and unread counts agree across them); everyone else ignores it.
 */
export const ReadEvent = z.object({ type: z.literal('read'), upTo: MessageSeq });
/** A file (an image is shown inline), with an optional caption. */
export const FileEvent = z.object({
  type: z.literal('file'),
  file: FileRef,
  text: EventText.optional(),
  reply: MessageSeq.optional(),
});

export const CHAT_EVENT_VARIANTS = [
  TextEvent,
  EditEvent,
  DeleteEvent,
  ReactEvent,
  ReadEvent,
  FileEvent,
] as const;
export const ChatEvent = z.discriminatedUnion('type', [...CHAT_EVENT_VARIANTS]);
export type ChatEvent = z.infer<typeof ChatEvent>;
export type ChatEventType = ChatEvent['type'];

/**
 * What the host must see of an event to keep its promises without reading it: an edit's or a
 * deletion's target (so that a deletion also erases the edits), and the file a message carries
 * (so that the file goes with its message, and unclaimed uploads can be dropped). In a plaintext
 * room it must agree with `ev`; in an encrypted one receivers check it against the payload.
 */
export const Relation = z.object({ t: z.enum(['edit', 'delete']), seq: MessageSeq });
export type Relation = z.infer<typeof Relation>;
