/** A command-line mistake: printed with the mode's usage hint, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  hostKeyChanged: 3,
  hostUnknown: 4,
  nickTaken: 5,
  /** Never connected: the host refused, had no route or did not answer (stderr says which). */
  unreachable: 6,
} as const;

/** Turns parseArgs' own errors into one readable line. */
export function describeArgError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message
    .replace(/\. To specify a positional argument.*$/s, '')
    .replace(/^Unknown option/, 'unknown option');
}
