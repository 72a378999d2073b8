import { z } from 'zod';
import { ClientMessageId, RoomName } from '../../src-shared/identifier-schemas.ts';
import { ChatEvent } from '../protocol/wire/chat-event.ts';

/**
 * What an outbox keeps across restarts: the messages the host has not acknowledged yet, in the
 * order they were written. Each keeps the id chosen when it was typed; the host dedupes on
 * (sender key, id), so resending everything unacknowledged after a reconnect delivers each
 * message exactly once.
 *
 * Defined here, below the client, so that the stores that keep it (the line client's file, the
 * desktop app's local history) need not import the client that uses it.
 */
export interface OutboxEntry {
  readonly id: string;
  readonly room: string;
  /**
   * A plain line's text. With `event`: the text it shows (an edit's or a line's text, a file's
   * caption), '' for events without one (a reaction, a deletion, a read position).
   */
  readonly text: string;
  /**
   * Anything but a plain line (a reply, an edit, a deletion, a reaction, a read position, a
   * file: docs/protocol.md §13). Absent: the plain line `text` — as every entry saved before
   * events existed is, so old outboxes load unchanged.
   */
  readonly event?: ChatEvent;
  /** When the user wrote it (ms since the epoch), for the UI. */
  readonly queuedAt: number;
}

/**
 * An entry as a store reads it back (a file, a database row): validated, since the bytes were
 * out of the process's hands. Old entries (no `event`) must have text; event entries may have ''.
 */
export const StoredOutboxEntry = z
  .object({
    id: ClientMessageId,
    room: RoomName,
    text: z.string(),
    event: ChatEvent.optional(),
    queuedAt: z.number(),
  })
  .refine((entry) => entry.event !== undefined || entry.text.length > 0, 'an empty line');

/** The text an event shows in a list of unsent messages (see OutboxEntry.text). */
export function eventText(event: ChatEvent): string {
  switch (event.type) {
    case 'text':
    case 'edit':
      return event.text;
    case 'file':
      return event.text ?? '';
    default:
      return '';
  }
}

/** Lets a front end keep unsent messages across restarts. */
export interface OutboxStore {
  load(): Promise<readonly OutboxEntry[]>;
  save(entries: readonly OutboxEntry[]): Promise<void>;
}
