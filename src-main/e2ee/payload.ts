import { z } from 'zod';
import { ClientMessageId } from '../../src-shared/identifier-schemas.ts';
import {
  CHAT_EVENT_VARIANTS,
  type ChatEvent,
  MAX_EVENT_TEXT_BYTES,
} from '../protocol/wire/chat-event.ts';

/**
 * What an E2EE room's application message carries once decrypted: a small JSON envelope around
 * one of the conversation's events (chat-event.ts: text, edit, delete, react, read, file).
 * `id` repeats the wire message id inside the ciphertext: the host cannot move a message's
 * ciphertext under another id (the client compares them).
 */
export const MAX_PAYLOAD_TEXT_BYTES = MAX_EVENT_TEXT_BYTES;
/** Above any valid envelope: a larger plaintext is not parsed at all. */
export const MAX_PAYLOAD_BYTES = 4 * MAX_PAYLOAD_TEXT_BYTES;

const encoder = new TextEncoder();

const Envelope = { v: z.literal(1), id: ClientMessageId };
const [Text, Edit, Delete, React, Read, File] = CHAT_EVENT_VARIANTS;
export const Payload = z.discriminatedUnion('type', [
  Text.extend(Envelope),
  Edit.extend(Envelope),
  Delete.extend(Envelope),
  React.extend(Envelope),
  Read.extend(Envelope),
  File.extend(Envelope),
]);
export type Payload = z.infer<typeof Payload>;
export type TextPayload = Extract<Payload, { type: 'text' }>;

export function textPayload(id: string, text: string): TextPayload {
  return { v: 1, type: 'text', id, text };
}

/** The envelope around `event`, sent under the wire message id `id`. */
export function eventPayload(id: string, event: ChatEvent): Payload {
  return { ...event, v: 1, id } as Payload;
}

/** The event an envelope carries (without `v` and `id`). */
export function eventOf(payload: Payload): ChatEvent {
  const { v: _v, id: _id, ...event } = payload;
  return event as ChatEvent;
}

/** The envelope's bytes; throws on an envelope that would not decode on the other side. */
export function encodePayload(payload: Payload): Uint8Array {
  return encoder.encode(JSON.stringify(Payload.parse(payload)));
}

/** undefined for anything that is not a valid envelope (never throws: it is a peer's input). */
export function decodePayload(bytes: Uint8Array): Payload | undefined {
  if (bytes.length > MAX_PAYLOAD_BYTES) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    return undefined;
  }
  const parsed = Payload.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}
