/**
 * Who is in which room on the other nodes of the cluster (a member listing's `online`, and
 * whether a key's arrival or departure on this node changes anything for the room).
 *
 * Each node tells the others when a key's first connection enters a room and its last leaves
 * (effects of its turns), and every few seconds sends its whole list, which replaces what was
 * known of it: a change NATS lost is corrected by the next list. A node not heard from for
 * `expiryMs` is gone (killed, cut off): its keys are dropped, and each key that is then in a room
 * on no node at all is reported through `gone`, so this node can tell its members.
 */
export class RemotePresence {
  /** node → room → keys present there. */
  readonly #nodes = new Map<string, Map<string, Set<string>>>();
  readonly #lastHeard = new Map<string, number>();
  readonly #expiryMs: number;
  readonly #now: () => number;

  constructor(options: { expiryMs: number; now?: () => number }) {
    this.#expiryMs = options.expiryMs;
    this.#now = options.now ?? Date.now;
  }

  /** Whether the key is in the room on another node. */
  has(room: string, key: string): boolean {
    for (const rooms of this.#nodes.values()) if (rooms.get(room)?.has(key)) return true;
    return false;
  }

  /** The rooms the key is in on other nodes. */
  roomsOf(key: string): Set<string> {
    const rooms = new Set<string>();
    for (const byRoom of this.#nodes.values()) {
      for (const [room, keys] of byRoom) if (keys.has(key)) rooms.add(room);
    }
    return rooms;
  }

  /** A node's key entered (first connection) or left (last connection) a room. */
  changed(node: string, room: string, key: string, present: boolean): void {
    this.#heard(node);
    let rooms = this.#nodes.get(node);
    if (!rooms) {
      rooms = new Map();
      this.#nodes.set(node, rooms);
    }
    let keys = rooms.get(room);
    if (present) {
      if (!keys) rooms.set(room, (keys = new Set()));
      keys.add(key);
    } else if (keys) {
      keys.delete(key);
      if (keys.size === 0) rooms.delete(room);
    }
  }

  /**
   * A node's whole list: it replaces what was known of the node. Returns the (room, key) pairs
   * it dropped that are now present on no other node: a node restarted at once after a crash
   * sends an empty list, and its former members must be told gone as if it had gone silent.
   */
  replace(
    node: string,
    list: readonly (readonly [string, readonly string[]])[],
  ): { room: string; key: string }[] {
    this.#heard(node);
    const before = this.#nodes.get(node);
    const after = new Map(list.map(([room, keys]) => [room, new Set(keys)]));
    this.#nodes.set(node, after);
    const gone: { room: string; key: string }[] = [];
    for (const [room, keys] of before ?? []) {
      for (const key of keys) {
        if (!after.get(room)?.has(key) && !this.has(room, key)) gone.push({ room, key });
      }
    }
    return gone;
  }

  /**
   * Drops nodes not heard from in time; returns the (room, key) pairs that are now present on no
   * other node (the caller checks its own connections before telling anyone).
   */
  expire(): { room: string; key: string }[] {
    const cutoff = this.#now() - this.#expiryMs;
    const gone: { room: string; key: string }[] = [];
    for (const [node, heard] of this.#lastHeard) {
      if (heard >= cutoff) continue;
      const rooms = this.#nodes.get(node);
      this.#nodes.delete(node);
      this.#lastHeard.delete(node);
      for (const [room, keys] of rooms ?? []) {
        for (const key of keys) if (!this.has(room, key)) gone.push({ room, key });
      }
    }
    return gone;
  }

  #heard(node: string): void {
    this.#lastHeard.set(node, this.#now());
  }
}
