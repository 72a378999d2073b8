import { randomBytes } from 'node:crypto';
import type { OutboxEntry, OutboxStore } from '../store/outbox-store.ts';

// The entry and its store are defined with the stores that keep them (below the client); the
// client's users get them from here, with the outbox that uses them.
export type { OutboxEntry, OutboxStore };

/** The default: kept only in memory (shared by sessions given the same store). */
export function memoryOutboxStore(initial: readonly OutboxEntry[] = []): OutboxStore {
  let saved = [...initial];
  return {
    load: () => Promise.resolve([...saved]),
    save: (entries) => {
      saved = [...entries];
      return Promise.resolve();
    },
  };
}

/** A client message id: 16 random bytes, base64url (22 characters). */
export function newMessageId(): string {
  return randomBytes(16).toString('base64url');
}

interface Slot {
  readonly entry: OutboxEntry;
  /** Written on the current connection and not yet answered. */
  inFlight: boolean;
}

export class Outbox {
  #slots: Slot[] = [];
  /** Rooms the host asked us to wait for (rate limit), until a time in ms. */
  readonly #heldUntil = new Map<string, number>();

  get entries(): OutboxEntry[] {
    return this.#slots.map((slot) => slot.entry);
  }

  get size(): number {
    return this.#slots.length;
  }

  /** Appends; an id already queued is ignored (a reloaded store may repeat one). */
  add(entry: OutboxEntry): void {
    if (this.#slots.some((slot) => slot.entry.id === entry.id)) return;
    this.#slots.push({ entry, inFlight: false });
  }

  /** Puts entries loaded from a store before anything written since. */
  restore(entries: readonly OutboxEntry[]): void {
    const fresh = this.#slots;
    this.#slots = [];
    for (const entry of entries) this.add(entry);
    for (const slot of fresh) this.add(slot.entry);
  }

  /** Acknowledged or refused for good: leaves the outbox. */
  remove(id: string): OutboxEntry | undefined {
    const index = this.#slots.findIndex((slot) => slot.entry.id === id);
    if (index === -1) return undefined;
    return this.#slots.splice(index, 1)[0]?.entry;
  }

  /**
   * Marks as in flight and returns, in order, up to `max` messages that may be written now:
   * their room is `ready` and not held. A room's messages never overtake each other: once
   * one has to wait, every later one in that room waits too.
   */
  take(ready: (room: string) => boolean, now: number, max: number): OutboxEntry[] {
    const blocked = new Set<string>();
    const taken: OutboxEntry[] = [];
    for (const slot of this.#slots) {
      if (taken.length >= max) break;
      const { room } = slot.entry;
      if (slot.inFlight || blocked.has(room)) continue;
      if (!ready(room) || (this.#heldUntil.get(room) ?? 0) > now) {
        blocked.add(room);
        continue;
      }
      slot.inFlight = true;
      taken.push(slot.entry);
    }
    return taken;
  }

  /**
   * When the next waiting message of a ready room may go (`now` if one may already), or
   * undefined if none waits.
   */
  nextSendAt(ready: (room: string) => boolean, now: number): number | undefined {
    let next: number | undefined;
    for (const slot of this.#slots) {
      if (slot.inFlight || !ready(slot.entry.room)) continue;
      const at = Math.max(now, this.#heldUntil.get(slot.entry.room) ?? 0);
      next = next === undefined ? at : Math.min(next, at);
    }
    return next;
  }

  /** The connection is gone: what was in flight is unacknowledged and will be resent. */
  requeueAll(): void {
    for (const slot of this.#slots) slot.inFlight = false;
  }

  /**
   * The host refused `id` for now: it and the later messages of its room that were written
   * behind it go back in the queue, in order, and the room waits until `until`.
   */
  holdFrom(id: string, until: number): OutboxEntry | undefined {
    const index = this.#slots.findIndex((slot) => slot.entry.id === id);
    const held = this.#slots[index];
    if (!held) return undefined;
    const { room } = held.entry;
    for (const slot of this.#slots.slice(index)) {
      if (slot.entry.room === room) slot.inFlight = false;
    }
    this.#heldUntil.set(room, Math.max(until, this.#heldUntil.get(room) ?? 0));
    return held.entry;
  }
}
