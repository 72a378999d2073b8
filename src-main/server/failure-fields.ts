import type { LogFields } from './host-log.ts';

/**
 * What the log may say about a failure: the error's code and, from SQLite, its result
 * code, never its message (which could quote a bound value).
 */
export function failureFields(error: unknown): LogFields {
  const shape = error as { code?: unknown; sqliteCode?: unknown } | undefined;
  return {
    code: typeof shape?.code === 'string' ? shape.code : 'unknown',
    sqlite: typeof shape?.sqliteCode === 'number' ? shape.sqliteCode : undefined,
  };
}
