import { type ServiceLog, errorName } from './service-log.ts';

/**
 * Runs local-history calls from event handlers. A failing store (disk full, locked, I/O error)
 * becomes an `error` event the user sees — once, until the store works again — and the chat
 * goes on without it: never an exception into the session.
 */
export class LocalStoreGuard {
  readonly #log: ServiceLog;
  readonly #report: (error: { code: 'local-store'; message: string }) => void;
  /** The store failed and the user was told; cleared by its next success. */
  #failing = false;

  constructor(log: ServiceLog, report: (error: { code: 'local-store'; message: string }) => void) {
    this.#log = log;
    this.#report = report;
  }

  /** `call`'s result, or undefined if the store failed (`what` says what was lost). */
  run<T>(what: string, call: () => T): T | undefined {
    try {
      const result = call();
      this.#failing = false;
      return result;
    } catch (error) {
      this.#log('error', 'local-store-failed', { error: errorName(error) });
      if (!this.#failing) {
        this.#failing = true;
        this.#report({
          code: 'local-store',
          message: `Parley could not ${what} in its local history (${storeReason(error)}); the chat goes on, but it is not kept on this computer`,
        });
      }
      return undefined;
    }
  }
}

/** SQLite's own words for what failed (never message text: it names the fault, not the data). */
function storeReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0]?.slice(0, 120) ?? 'unknown error';
}
