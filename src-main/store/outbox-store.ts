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
  readonly text: string;
  /** When the user wrote it (ms since the epoch), for the UI. */
  readonly queuedAt: number;
}

/** Lets a front end keep unsent messages across restarts. */
export interface OutboxStore {
  load(): Promise<readonly OutboxEntry[]>;
  save(entries: readonly OutboxEntry[]): Promise<void>;
}
