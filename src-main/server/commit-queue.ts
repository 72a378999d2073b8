import type { AppendResult, HostDatabase, NewMessage } from './host-database.ts';

export interface PendingSend<Origin> {
  readonly origin: Origin;
  readonly message: NewMessage;
  /** A commit's request id (docs/protocol.md §12): its answer carries it. */
  readonly rid?: number;
}

/**
 * Group commit: messages (and MLS commits, docs/protocol.md §12) received during one event-loop
 * turn are appended in one transaction, then handed on for fan-out and acknowledgement. The
 * commit returns before it is synced (db/wal-sync.ts syncs it on the thread pool, grouped with
 * whatever else committed meanwhile); the acks and relayed messages produced here are held by
 * the host's output gate until that sync completes, so an ack still means "on disk".
 */
export class CommitQueue<Origin> {
  readonly #db: HostDatabase;
  readonly #onCommitted: (sends: PendingSend<Origin>[], results: AppendResult[]) => void;
  readonly #onFailed: (sends: PendingSend<Origin>[], error: unknown) => void;
  readonly #admit: (send: PendingSend<Origin>) => boolean;
  #pending: PendingSend<Origin>[] = [];
  #scheduled = false;

  constructor(
    db: HostDatabase,
    onCommitted: (sends: PendingSend<Origin>[], results: AppendResult[]) => void,
    onFailed: (sends: PendingSend<Origin>[], error: unknown) => void,
    /** Checked at commit time: false drops the send (its sender lost the room meanwhile). */
    admit: (send: PendingSend<Origin>) => boolean = () => true,
  ) {
    this.#db = db;
    this.#onCommitted = onCommitted;
    this.#onFailed = onFailed;
    this.#admit = admit;
  }

  get size(): number {
    return this.#pending.length;
  }

  enqueue(origin: Origin, message: NewMessage, rid?: number): void {
    this.#pending.push(rid === undefined ? { origin, message } : { origin, message, rid });
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Commits whatever is pending now (also called on shutdown). */
  flush(): void {
    this.#scheduled = false;
    if (this.#pending.length === 0) return;
    const sends = this.#pending.filter(this.#admit);
    this.#pending = [];
    if (sends.length === 0) return;
    let results: AppendResult[];
    try {
      results = this.#db.appendMessages(sends.map((send) => send.message));
    } catch (error) {
      this.#onFailed(sends, error);
      return;
    }
    this.#onCommitted(sends, results);
  }
}
