import { z } from 'zod';
import { ClientMessageId } from '../../src-shared/identifier-schemas.ts';

/**
 * What an E2EE room's application message carries once decrypted: a small JSON envelope, so
 * later event types (#17: edits, reactions…) extend the union on `type` without a new wire.
 * `id` repeats the wire message id inside the ciphertext: the host cannot move a message's
 * ciphertext under another id (the client compares them).
 */
export const MAX_PAYLOAD_TEXT_BYTES = 16 * 1024;
/** Above any valid envelope: a larger plaintext is not parsed at all. */
export const MAX_PAYLOAD_BYTES = 4 * MAX_PAYLOAD_TEXT_BYTES;

const encoder = new TextEncoder();

const TextPayload = z.object({
  v: z.literal(1),
  type: z.literal('text'),
  id: ClientMessageId,
  text: z
    .string()
    .min(1)
    .refine((t) => encoder.encode(t).length <= MAX_PAYLOAD_TEXT_BYTES, 'text too long'),
});

export const Payload = z.discriminatedUnion('type', [TextPayload]);
export type Payload = z.infer<typeof Payload>;
export type TextPayload = z.infer<typeof TextPayload>;

export function textPayload(id: string, text: string): TextPayload {
  return { v: 1, type: 'text', id, text };
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
