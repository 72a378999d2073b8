import { sameKey } from '../protocol/host-key.ts';
import type { HostDatabase } from './host-database.ts';

/** `failed`: the store could not answer (full, locked, I/O); the claim may be tried again. */
export type ClaimOutcome = 'ok' | 'taken' | 'failed';

interface Claim {
  readonly nick: string;
  readonly key: Uint8Array;
  readonly done: (outcome: ClaimOutcome) => void;
}

/**
 * The one path by which a key gets a nickname, for a hello and for a rename alike. A name the
 * key already owns, or that another key owns, is answered from a read at once; binding a new
 * name is a durable write, so the new claims of one event-loop turn share one transaction (one
 * fsync), as messages do.
 */
export class NicknameRegistry {
  readonly #db: HostDatabase;
  readonly #onStoreError: (error: unknown, claims: number) => void;
  readonly #onCallbackError: (error: unknown) => void;
  #claims: Claim[] = [];
  #scheduled = false;

  constructor(
    db: HostDatabase,
    handlers: {
      onStoreError: (error: unknown, claims: number) => void;
      onCallbackError: (error: unknown) => void;
    },
  ) {
    this.#db = db;
    this.#onStoreError = handlers.onStoreError;
    this.#onCallbackError = handlers.onCallbackError;
  }

  /** Calls `done` once: now for a name already bound, else after this turn's commit. */
  claim(nick: string, key: Uint8Array, done: (outcome: ClaimOutcome) => void): void {
    let owner: Uint8Array | undefined;
    try {
      owner = this.#db.nickOwner(nick);
    } catch (error) {
      this.#onStoreError(error, 1);
      return this.#answer(done, 'failed');
    }
    if (owner !== undefined) return this.#answer(done, sameKey(owner, key) ? 'ok' : 'taken');
    this.#claims.push({ nick, key, done });
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Commits the claims waiting now (also called on shutdown, before the database closes). */
  flush(): void {
    this.#scheduled = false;
    const batch = this.#claims;
    this.#claims = [];
    if (batch.length === 0) return;
    let outcomes: ClaimOutcome[];
    try {
      outcomes = this.#db
        .claimNicks(batch.map(({ nick, key }) => ({ nick, key })))
        .map((result) => (result.ok ? 'ok' : 'taken'));
    } catch (error) {
      this.#onStoreError(error, batch.length);
      outcomes = batch.map(() => 'failed');
    }
    batch.forEach((claim, i) => this.#answer(claim.done, outcomes[i] ?? 'failed'));
  }

  /** Each claimant's answer runs on its own: one that throws does not cost the others theirs. */
  #answer(done: (outcome: ClaimOutcome) => void, outcome: ClaimOutcome): void {
    try {
      done(outcome);
    } catch (error) {
      this.#onCallbackError(error);
    }
  }
}
