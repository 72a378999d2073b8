import type { SearchResult } from '../../src-shared/ipc/domain.ts';
import type { ChatMessageView } from '../../src-shared/ipc/domain.ts';
import { SearchIndex } from '../client/search-index.ts';
import { type LocalHistory, type SearchCursor, searchKey } from './local-history.ts';

/** Results a search returns unless asked for another number. */
export const DEFAULT_SEARCH_LIMIT = 50;
/** The build starts this long after the service does: not in the way of startup. */
export const DEFAULT_BUILD_DELAY_MS = 2000;
/**
 * Messages read, decrypted and indexed per slice of the build. A row costs ~50 µs (opening its
 * sealed text, its newest edit, the FTS insert): 250 make a slice of ~12 ms, ~40 ms at worst on a
 * loaded 2-core machine (bench/search-history.ts, docs/benchmarks.md "Search") — short enough
 * that the socket, notifications and other requests on the same loop are not held up noticeably.
 */
export const DEFAULT_SLICE_MESSAGES = 250;

export interface MessageSearchOptions {
  /** When the build starts by itself (ms after construction); null: on the first search only. */
  readonly buildDelayMs?: number | null;
  readonly sliceMessages?: number;
  /** Told how long each slice held the event loop (for the bench). */
  readonly onSlice?: (ms: number, messages: number) => void;
}

/** How a build ended: read it all, stopped (forgotten room, closed), or the history failed. */
type BuildEnd = 'built' | 'stopped' | 'failed';

/** A build under way. */
interface Build {
  readonly control: { stopped: boolean };
  readonly done: Promise<BuildEnd>;
}

/**
 * Search over the local, decrypted history of every host (design17.md, "Search"): an in-memory
 * FTS5 index (src-main/client/search-index.ts) — in memory, so the history's at-rest encryption
 * is not undone by a plaintext index on disk — kept current as messages arrive, are edited or
 * deleted.
 *
 * The index is built in the background, shortly after the service starts: a page of rows at a
 * time, decrypted and indexed in one slice, then the event loop is let go (setImmediate) before
 * the next, so the first search over a large history does not freeze the app (the socket,
 * notifications and every other request share Electron main's loop). A search during the build
 * waits for it and answers from the whole history.
 *
 * No update is lost during the build: the local history is written before `put` is called, and
 * each page reads the rows as they are then. A change to a row already read is applied to the
 * index by `put` (same key: it replaces); a row not read yet is read later in its new state.
 */
export class MessageSearch {
  readonly #history: LocalHistory;
  readonly #slice: number;
  readonly #onSlice: ((ms: number, messages: number) => void) | undefined;
  /** The index (also while it is being built); undefined before the build and when empty. */
  #index: SearchIndex | undefined;
  #build: Build | undefined;
  /** The whole history has been read into `#index`. */
  #built = false;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(history: LocalHistory, options: MessageSearchOptions = {}) {
    this.#history = history;
    this.#slice = Math.max(1, Math.floor(options.sliceMessages ?? DEFAULT_SLICE_MESSAGES));
    this.#onSlice = options.onSlice;
    const delay =
      options.buildDelayMs === undefined ? DEFAULT_BUILD_DELAY_MS : options.buildDelayMs;
    if (delay !== null) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        void this.#ready();
      }, delay);
      // A pending build never keeps the process alive.
      this.#timer.unref();
    }
  }

  /** The whole history is indexed (the background build ended). */
  get built(): boolean {
    return this.#built;
  }

  /** Starts the build now if it has not started; resolves when the index is complete. */
  ready(): Promise<void> {
    return this.#ready();
  }

  /** A message is now shown as `view` (new, edited, or deleted: then it leaves the index). */
  put(host: string, view: ChatMessageView): void {
    // Before the build starts nothing is held: the build reads this row as it is now.
    if (this.#closed || (!this.#built && !this.#build) || view.seq === undefined) return;
    const doc = this.#history.searchDocOf(host, view);
    if (doc) {
      this.#index ??= new SearchIndex();
      this.#index.add(doc);
    } else {
      this.#index?.remove(searchKey(host, view.room, view.seq));
    }
  }

  /** A room's history was forgotten: what was indexed is dropped and built again. */
  forgetRoom(): void {
    if (this.#closed) return;
    const started = this.#build !== undefined || this.#built;
    this.#drop();
    if (started) void this.#ready();
  }

  async search(
    query: string,
    options: { hostId?: string; room?: string; limit?: number },
  ): Promise<SearchResult[]> {
    await this.#ready();
    const index = this.#index;
    if (this.#closed || !index) return [];
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

  /** Stops a build under way and frees the index. */
  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#drop();
  }

  /** Resolves when the index is complete (or the search was closed); starts the build. */
  async #ready(): Promise<void> {
    // A forgotten room restarts the build while a search waits: it waits for the new one.
    while (!this.#built && !this.#closed) {
      this.#build ??= this.#startBuild();
      if ((await this.#build.done) === 'failed') {
        // Not retried here (it would fail again at once): the next search tries again.
        throw new Error('the search index could not be built from the local history');
      }
    }
  }

  #startBuild(): Build {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const control = { stopped: false };
    const done = this.#run(control).then(
      (): BuildEnd => (control.stopped ? 'stopped' : 'built'),
      (): BuildEnd => {
        if (control.stopped) return 'stopped';
        this.#drop();
        return 'failed';
      },
    );
    return { control, done };
  }

  async #run(build: { readonly stopped: boolean }): Promise<void> {
    let cursor: SearchCursor | undefined;
    do {
      // Let go of the loop first: the caller (a timer, a search) returns before any work.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (build.stopped) return;
      const started = performance.now();
      const page = this.#history.searchPage(cursor, this.#slice);
      if (page.docs.length > 0) {
        this.#index ??= new SearchIndex();
        this.#index.addMany(page.docs);
      }
      cursor = page.next;
      this.#onSlice?.(performance.now() - started, page.docs.length);
    } while (cursor);
    if (build.stopped) return;
    this.#built = true;
    this.#build = undefined;
  }

  /** Forgets the index and stops a build under way (a waiting search starts the next one). */
  #drop(): void {
    if (this.#build) this.#build.control.stopped = true;
    this.#build = undefined;
    this.#built = false;
    this.#index?.close();
    this.#index = undefined;
  }
}
