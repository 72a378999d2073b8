/**
 * What the client accepts from a host beyond the wire schema: the schema says what a message
 * looks like, these say what the client can hold and show. A host that exceeds them is broken
 * or hostile; either way the client must not grow without limit, hang, or store a value its
 * UI cannot display.
 */

/**
 * The latest time a client shows: 9999-12-31T23:59:59.999Z. `Date` reaches further (year
 * 275760), but dates past year 9999 do not format as ISO 8601 and no message is from then.
 */
export const MAX_SHOWN_TIME_MS = 253_402_300_799_999;

/** Members listed for one room: beyond this the member pages (or joins) never end. */
export const MAX_ROOM_MEMBERS = 50_000;

/**
 * History messages for one join before `synced`. A host replays its last few (100 by
 * default); a replay past this never ends, and a rejoin holds it all in memory.
 */
export const MAX_JOIN_REPLAY = 10_000;
/** Text a rejoin's replay may hold until `synced`, in UTF-16 code units (~1000 longest messages). */
export const MAX_REPLAY_TEXT_UNITS = 16 * 1024 * 1024;

/**
 * What one gap fill may hold (history pages plus live messages that arrive meanwhile), in
 * UTF-16 code units of text: past it the fill stops and the UI is told what is missing.
 */
export const MAX_FILL_TEXT_UNITS = 16 * 1024 * 1024;
/** Messages one gap fill may hold, whatever their size. */
export const MAX_FILL_MESSAGES = 25_000;

/** How long the host has to send `welcome` once the handshake is done. */
export const DEFAULT_WELCOME_TIMEOUT_MS = 15_000;
/** How long the host has to finish answering a join (`synced`) or a history page (`history-end`). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/**
 * The longest wait a host's `retryAfterMs` is believed for: an honest host asks for seconds.
 * Longer, and a timer would not wait at all (past 2^31-1 ms Node fires it after 1 ms).
 */
export const MAX_RETRY_AFTER_MS = 60_000;

/** Why `ts` cannot be shown, or undefined when it can. */
export function timeProblem(ts: number): string | undefined {
  if (!Number.isSafeInteger(ts) || ts < 0 || ts > MAX_SHOWN_TIME_MS) {
    return 'its time is outside what a date can show';
  }
  return undefined;
}

/**
 * The host broke a bound or missed a deadline (or, `client-failed`, handling what it sent
 * failed here): the connection is closed and made again.
 */
export class HostMisbehaved extends Error {
  override readonly name = 'HostMisbehaved';
  readonly code: 'protocol-error' | 'host-timeout' | 'client-failed';

  constructor(code: HostMisbehaved['code'], message: string) {
    super(message);
    this.code = code;
  }
}
