import type { ConnectedClient } from './connected-client.ts';

const NONE: ReadonlySet<ConnectedClient> = new Set();

/**
 * Every open connection of each key: a nickname, a membership and a room list are the key's,
 * not one connection's, so a change to any of them is told to all its connections.
 */
export class KeyConnections {
  readonly #byKey = new Map<string, Set<ConnectedClient>>();

  add(client: ConnectedClient): void {
    const connections = this.#byKey.get(client.keyText);
    if (connections) connections.add(client);
    else this.#byKey.set(client.keyText, new Set([client]));
  }

  delete(client: ConnectedClient): void {
    const connections = this.#byKey.get(client.keyText);
    connections?.delete(client);
    if (connections?.size === 0) this.#byKey.delete(client.keyText);
  }

  of(keyText: string): ReadonlySet<ConnectedClient> {
    return this.#byKey.get(keyText) ?? NONE;
  }

  /** Keys with at least one connection. */
  keys(): IterableIterator<string> {
    return this.#byKey.keys();
  }
}
