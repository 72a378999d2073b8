/** Unread messages per room of the current host. Only rooms with unread messages are kept. */
export class UnreadCounts {
  readonly #counts = new Map<string, number>();

  get(room: string): number {
    return this.#counts.get(room) ?? 0;
  }

  increment(room: string, by = 1): void {
    this.#counts.set(room, this.get(room) + by);
  }

  /** Returns whether anything changed. */
  reset(room: string): boolean {
    return this.#counts.delete(room);
  }

  clear(): boolean {
    const had = this.#counts.size > 0;
    this.#counts.clear();
    return had;
  }

  get total(): number {
    let total = 0;
    for (const n of this.#counts.values()) total += n;
    return total;
  }

  snapshot(): { counts: Record<string, number>; total: number } {
    return { counts: Object.fromEntries(this.#counts), total: this.total };
  }
}
