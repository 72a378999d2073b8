import { encodeMessage } from '../protocol/wire/codec.ts';
import type { Member } from '../protocol/wire/messages.ts';
import type { Fanout } from './fanout.ts';

type Arrival = 'joined';
type Departure = 'left' | 'disconnected';

interface Pending {
  readonly room: string;
  readonly member: Member;
  /** Whether the key was present in the room when the turn began. */
  readonly wasPresent: boolean;
  event: Arrival | Departure;
}

/**
 * Joins and leaves are told to the room at the end of the event-loop turn, coalesced per key:
 * a key that joins and leaves (or leaves and comes back) within one turn changes nothing for
 * the others, so they are told nothing. With the membership budget this is what keeps one
 * connection toggling join/leave from flooding every member with presence events.
 */
export class PresenceQueue {
  readonly #fanout: Fanout;
  readonly #pending = new Map<string, Pending>();
  readonly #onError: (error: unknown) => void;
  #scheduled = false;

  constructor(fanout: Fanout, onError: (error: unknown) => void) {
    this.#fanout = fanout;
    this.#onError = onError;
  }

  arrived(room: string, member: Member): void {
    this.#change(room, member, 'joined');
  }

  departed(room: string, member: Member, event: Departure): void {
    this.#change(room, member, event);
  }

  /**
   * Drops what is pending for the key in the room: it was removed, and the room event says so;
   * a presence change of this turn must not follow it.
   */
  forget(room: string, key: string): void {
    this.#pending.delete(`${room}\n${key}`);
  }

  /** Tells each room the net changes of this turn (also called on shutdown). */
  flush(): void {
    this.#scheduled = false;
    const changes = [...this.#pending.values()];
    this.#pending.clear();
    this.#tell(changes);
  }

  /**
   * Tells `room` now what is pending for it, but for `exceptKey`'s own changes: someone joins
   * and is about to be listed the members as they are, so a change from earlier in this turn
   * must not be coalesced away later (the joiner would never hear of it).
   */
  flushRoom(room: string, exceptKey: string): void {
    const changes: Pending[] = [];
    for (const [id, change] of this.#pending) {
      if (change.room !== room || change.member.key === exceptKey) continue;
      this.#pending.delete(id);
      changes.push(change);
    }
    this.#tell(changes);
  }

  #tell(changes: readonly Pending[]): void {
    for (const change of changes) {
      const present = change.event === 'joined';
      if (present === change.wasPresent) continue; // back where it started: nothing to tell
      try {
        const bytes = encodeMessage({
          t: 'presence',
          room: change.room,
          event: change.event,
          ...change.member,
        });
        this.#fanout.toRoomExceptKey(change.room, bytes, change.member.key);
      } catch (error) {
        this.#onError(error);
      }
    }
  }

  #change(room: string, member: Member, event: Arrival | Departure): void {
    const id = `${room}\n${member.key}`;
    const pending = this.#pending.get(id);
    if (pending) {
      pending.event = event;
    } else {
      this.#pending.set(id, { room, member, wasPresent: event !== 'joined', event });
    }
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.flush());
    }
  }
}
