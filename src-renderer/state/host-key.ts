import type { ConnectionState } from '../../src-shared/ipc/domain.ts';

/**
 * The host the app is about, as one string: everything the UI keeps per room (timelines,
 * members, drafts) is kept per host and room, because two hosts can each have a `#lobby`.
 * Empty before any host is known.
 */
export function hostKey(state: Pick<ConnectionState, 'host' | 'port'>): string {
  // Host names are case-insensitive, and main keys its state by the lower-cased name too.
  return state.host !== undefined && state.port !== undefined
    ? `${state.host.toLowerCase()}:${state.port}`
    : '';
}
