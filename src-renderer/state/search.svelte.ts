import type { SearchResult } from '../../src-shared/ipc/domain.ts';
import type { Platform } from '../lib/platform.ts';

/** Where a search looks: the room on screen, or every room of every host. */
export type SearchScope = { kind: 'room'; hostId: string; room: string } | { kind: 'all' };

/** Typing pauses this long before a search runs. */
export const SEARCH_DELAY_MS = 180;
const LIMIT = 50;

/**
 * The search panel's state: the query, where it looks, and the newest answer (an answer to an
 * older query that arrives late is dropped).
 */
export class SearchStore {
  readonly #api: Platform;
  open = $state(false);
  query = $state('');
  scope: SearchScope = $state({ kind: 'all' });
  results: SearchResult[] = $state.raw([]);
  /** The query the results answer ('' before any). */
  answered = $state('');
  loading = $state(false);
  error: string | null = $state(null);
  #timer: ReturnType<typeof setTimeout> | undefined;
  #asked = 0;

  constructor(api: Platform) {
    this.#api = api;
  }

  show(scope: SearchScope): void {
    const changed = JSON.stringify(scope) !== JSON.stringify(this.scope);
    this.scope = scope;
    this.open = true;
    if (changed) this.run();
  }

  close(): void {
    this.open = false;
    clearTimeout(this.#timer);
  }

  setQuery(query: string): void {
    this.query = query;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.run(), SEARCH_DELAY_MS);
  }

  setScope(scope: SearchScope): void {
    this.scope = scope;
    this.run();
  }

  /** Searches now (Enter, a scope change). */
  run(): void {
    clearTimeout(this.#timer);
    const query = this.query.trim();
    const asked = ++this.#asked;
    if (query === '') {
      this.results = [];
      this.answered = '';
      this.loading = false;
      this.error = null;
      return;
    }
    this.loading = true;
    const scope = this.scope;
    void this.#api
      .search({
        query: query.slice(0, 200),
        limit: LIMIT,
        ...(scope.kind === 'room' ? { hostId: scope.hostId, room: scope.room } : {}),
      })
      .then((result) => {
        if (asked !== this.#asked) return;
        this.loading = false;
        if (result.ok) {
          this.results = result.value.results;
          this.error = null;
        } else {
          this.results = [];
          this.error = result.error.message;
        }
        this.answered = query;
      });
  }

  dispose(): void {
    clearTimeout(this.#timer);
  }
}

/** A snippet cut at its highlights: the parts to draw, the matched ones marked. */
export function snippetParts(
  snippet: string,
  highlights: readonly (readonly [number, number])[],
): { text: string; mark: boolean }[] {
  const parts: { text: string; mark: boolean }[] = [];
  let at = 0;
  const sorted = [...highlights]
    .filter(([start, end]) => end > start && start >= 0 && end <= snippet.length)
    .sort((a, b) => a[0] - b[0]);
  for (const [start, end] of sorted) {
    if (start < at) continue;
    if (start > at) parts.push({ text: snippet.slice(at, start), mark: false });
    parts.push({ text: snippet.slice(start, end), mark: true });
    at = end;
  }
  if (at < snippet.length) parts.push({ text: snippet.slice(at), mark: false });
  return parts;
}
