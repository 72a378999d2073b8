// A room event's details as stored in messages.event: JSON, checked again when read back, because
// the file may have been edited or damaged and a bad row must not reach a client (or crash the host).
// Checked by hand rather than with a zod schema: a host writes a room event at its first start (the
// room it creates), and zod is loaded only on its first connection (#18, host-schemas-loader.ts).
import {
  decodePublicKeyText,
  isPublicKeyText,
  isValidNick,
} from '../../../src-shared/identifiers.ts';
import {
  MAX_TOPIC_LENGTH,
  isRoleName,
  isRoomEventAction,
} from '../../../src-shared/membership-names.ts';
import type { Role, RoomEventAction } from '../../protocol/wire/messages.ts';

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

interface StoredEvent {
  action: RoomEventAction;
  target?: { key: string; nick: string };
  role?: Role;
  topic?: string;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The stored JSON, or undefined when it is not a room event: what the wire's RoomEvent accepts
 * for each field (membership-names.ts, identifiers.ts); fields it does not know are ignored.
 */
function storedEvent(json: unknown): StoredEvent | undefined {
  if (!isRecord(json)) return undefined;
  const { action, target, role, topic } = json;
  if (!isRoomEventAction(action)) return undefined;
  const event: StoredEvent = { action };
  if (target !== undefined) {
    if (!isRecord(target)) return undefined;
    const { key, nick } = target;
    if (typeof key !== 'string' || !isPublicKeyText(key)) return undefined;
    if (typeof nick !== 'string' || !isValidNick(nick)) return undefined;
    event.target = { key, nick };
  }
  if (role !== undefined) {
    if (!isRoleName(role)) return undefined;
    event.role = role;
  }
  if (topic !== undefined) {
    if (typeof topic !== 'string' || topic.length > MAX_TOPIC_LENGTH) return undefined;
    event.topic = topic;
  }
  return event;
}

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
  if (storedEvent(stored) === undefined || (event.target && event.target.key.length !== 32)) {
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
  const parsed = storedEvent(json);
  if (parsed === undefined) return undefined;
  const { action, target, role, topic } = parsed;
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
