import type { ConnectedClient } from './connected-client.ts';

/** A chunk asked for: its answer costs about this many bytes of the turn's budget. */
export interface DownloadRequest {
  readonly rid: number;
  readonly file: string;
  readonly index: number;
}

/** Chunk bytes answered per event-loop turn at most: a chat item waits behind no more. */
export const DOWNLOAD_BYTES_PER_TURN = 512 * 1024;
/** Chunks one connection may have waiting; a client keeps 4 outstanding. */
export const MAX_QUEUED_PER_CONNECTION = 64;

/**
 * Downloads are answered outside the read that brought them, a budget's worth per event-loop
 * turn, one chunk per connection in turn: a room of 100 fetching a file at once would otherwise
 * make the host encode and seal megabytes in one turn, and every other room's messages wait
 * behind it. Between turns the host reads and relays whatever else arrived.
 */
export class FileDownloads {
  /** Connections with chunks waiting, in the order they are served next. */
  readonly #queues = new Map<ConnectedClient, DownloadRequest[]>();
  readonly #answer: (client: ConnectedClient, request: DownloadRequest) => number;
  #scheduled = false;

  /** `answer` sends the chunk (or a refusal) and returns the chunk bytes it sent. */
  constructor(answer: (client: ConnectedClient, request: DownloadRequest) => number) {
    this.#answer = answer;
  }

  /** False when the connection already has MAX_QUEUED_PER_CONNECTION chunks waiting. */
  enqueue(client: ConnectedClient, request: DownloadRequest): boolean {
    let queue = this.#queues.get(client);
    if (!queue) {
      queue = [];
      this.#queues.set(client, queue);
    }
    if (queue.length >= MAX_QUEUED_PER_CONNECTION) return false;
    queue.push(request);
    this.#schedule();
    return true;
  }

  dropClient(client: ConnectedClient): void {
    this.#queues.delete(client);
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.#turn());
  }

  #turn(): void {
    this.#scheduled = false;
    let budget = DOWNLOAD_BYTES_PER_TURN;
    while (budget > 0 && this.#queues.size > 0) {
      for (const [client, queue] of [...this.#queues]) {
        // Served: to the back of the line (Map order), or out of it when done or gone.
        this.#queues.delete(client);
        if (!client.open) continue;
        const request = queue.shift();
        if (queue.length > 0) this.#queues.set(client, queue);
        if (request === undefined) continue;
        budget -= Math.max(1, this.#answer(client, request));
        if (budget <= 0) break;
      }
    }
    if (this.#queues.size > 0) this.#schedule();
  }
}
