// A room event's details as stored in messages.event: JSON, checked again when read back, because
// the file may have been edited or damaged and a bad row must not reach a client (or crash the host).
import { z } from 'zod';
import { decodePublicKeyText } from '../../../src-shared/identifiers.ts';
import { Nick, PublicKeyText } from '../../../src-shared/identifier-schemas.ts';
import { MAX_TOPIC_LENGTH, Role, RoomEventAction } from '../../protocol/wire/messages.ts';

/** Someone a room record names: the key, and the nickname at the time. */
export interface PersonRecord {
  key: Uint8Array;
  nick: string;
}

/** What a room event row says happened; the actor is the row's sender (all zeros: the operator). */
export interface RoomEventRecord {
  action: RoomEventAction;
  target?: PersonRecord;
  role?: Role;
  topic?: string;
}

const StoredEvent = z.object({
  action: RoomEventAction,
  target: z.object({ key: PublicKeyText, nick: Nick }).optional(),
  role: Role.optional(),
  topic: z.string().max(MAX_TOPIC_LENGTH).optional(),
});

/**
 * The event as stored. Throws RangeError for one that would not read back (a target nickname that
 * is not a nickname, a topic too long), so the mutation fails instead of leaving a row that every
 * later read skips.
 */
export function encodeRoomEvent(event: RoomEventRecord): string {
  const stored = {
    action: event.action,
    ...(event.target === undefined
      ? {}
      : {
          target: {
            key: Buffer.from(event.target.key).toString('base64url'),
            nick: event.target.nick,
          },
        }),
    ...(event.role === undefined ? {} : { role: event.role }),
    ...(event.topic === undefined ? {} : { topic: event.topic }),
  };
  if (!StoredEvent.safeParse(stored).success || (event.target && event.target.key.length !== 32)) {
    throw new RangeError('not a valid room event (target nickname, topic or role)');
  }
  return JSON.stringify(stored);
}

/** The event, or undefined when the text is not a valid stored event. */
export function decodeRoomEvent(text: string): RoomEventRecord | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = StoredEvent.safeParse(json);
  if (!parsed.success) return undefined;
  const { action, target, role, topic } = parsed.data;
  let person: PersonRecord | undefined;
  if (target !== undefined) {
    const key = decodePublicKeyText(target.key);
    if (key === undefined) return undefined;
    person = { key, nick: target.nick };
  }
  return {
    action,
    ...(person === undefined ? {} : { target: person }),
    ...(role === undefined ? {} : { role }),
    ...(topic === undefined ? {} : { topic }),
  };
}
