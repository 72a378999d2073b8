import type { SearchResult } from '../../src-shared/ipc/domain.ts';
import type { ChatMessageView } from '../../src-shared/ipc/domain.ts';
import { SearchIndex } from '../client/search-index.ts';
import { type LocalHistory, searchKey } from './local-history.ts';

/** Results a search returns unless asked for another number. */
export const DEFAULT_SEARCH_LIMIT = 50;

/**
 * Search over the local, decrypted history of every host (design17.md, "Search"): an in-memory
 * FTS5 index (src-main/client/search-index.ts), built from the local history on the first search
 * — in memory, so the history's at-rest encryption is not undone by a plaintext index on disk —
 * and kept current as messages arrive, are edited or deleted. Until the first search nothing is
 * indexed, and updates cost nothing.
 */
export class MessageSearch {
  readonly #history: LocalHistory;
  #index: SearchIndex | undefined;

  constructor(history: LocalHistory) {
    this.#history = history;
  }

  /** A message is now shown as `view` (new, edited, or deleted: then it leaves the index). */
  put(host: string, view: ChatMessageView): void {
    const index = this.#index;
    if (!index || view.seq === undefined) return;
    const doc = this.#history.searchDocOf(host, view);
    if (doc) index.add(doc);
    else index.remove(searchKey(host, view.room, view.seq));
  }

  /** A room's history was forgotten: the index is built again on the next search. */
  forgetRoom(): void {
    this.#index?.close();
    this.#index = undefined;
  }

  search(
    query: string,
    options: { hostId?: string; room?: string; limit?: number },
  ): SearchResult[] {
    let index = this.#index;
    if (!index) {
      index = new SearchIndex();
      index.addMany(this.#history.searchDocs());
      this.#index = index;
    }
    const hits = index.search(query, {
      ...(options.hostId !== undefined ? { host: options.hostId } : {}),
      ...(options.room !== undefined ? { room: options.room } : {}),
      limit: options.limit ?? DEFAULT_SEARCH_LIMIT,
    });
    return hits.map((hit) => ({
      hostId: hit.host,
      room: hit.room,
      seq: hit.seq,
      id: hit.id,
      from: hit.from,
      ts: hit.ts,
      snippet: hit.snippet,
      highlights: hit.highlights.map(([a, b]): [number, number] => [a, b]),
    }));
  }

  close(): void {
    this.#index?.close();
    this.#index = undefined;
  }
}
