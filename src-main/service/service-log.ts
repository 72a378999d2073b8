/**
 * How the desktop service logs: an event name and a few fields, never message text or key
 * material (the shell decides where it goes).
 */
export type ServiceLog = (
  level: 'debug' | 'info' | 'warn' | 'error',
  event: string,
  fields?: Record<string, string | number | boolean>,
) => void;

/** An error's name and message for a log line (what failed, not the data it failed on). */
export function errorName(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : typeof error;
}
