import type { DevicesUpdate, EncryptionState, KeyChanged } from '../client/session-events.ts';
import { fingerprint } from '../../src-shared/fingerprint.ts';
import { decodeBase64Url } from '../../src-shared/base64url.ts';
import { encryptionLine, keyChangedLine, newDeviceLine } from './e2ee-lines.ts';
import type { KnownPeople } from './known-people.ts';
import { memberText } from './line-format.ts';

/**
 * Turns the session's end-to-end encryption events into lines, saying only what changed: a
 * room's encryption state when it moves, a member's device the room's group did not have
 * before, a person key that differs from the pinned one (once per key and person key). It also
 * remembers each member's person key as the groups show it, for `/verify`.
 */
export class E2eeWatch {
  readonly #people: KnownPeople;
  readonly #states = new Map<string, EncryptionState['state']>();
  /** Per room: each member key's devices in the group, as last seen. */
  readonly #rosters = new Map<string, Map<string, ReadonlySet<string>>>();
  /** Member key → person key, from the latest roster that listed it. */
  readonly #persons = new Map<string, string>();
  readonly #changesSaid = new Set<string>();

  constructor(people: KnownPeople) {
    this.#people = people;
  }

  encryption(ms: number, state: EncryptionState): string[] {
    if (this.#states.get(state.room) === state.state) return [];
    this.#states.set(state.room, state.state);
    const line = encryptionLine(ms, state);
    return line ? [line] : [];
  }

  /** Whether the room is end-to-end encrypted, as far as this run has heard. */
  isEncrypted(room: string): boolean {
    const state = this.#states.get(room);
    return state !== undefined && state !== 'not-encrypted';
  }

  /**
   * New devices of members the room's group already had. The first roster of a room in this run
   * is where counting starts (its devices are not "new"); a member new to the group is a
   * membership change, which the room's event lines say.
   */
  devices(ms: number, update: DevicesUpdate): string[] {
    const before = this.#rosters.get(update.room);
    const now = new Map<string, ReadonlySet<string>>();
    const lines: string[] = [];
    for (const member of update.members) {
      this.#persons.set(member.key, member.person);
      const devices = new Set(member.devices);
      now.set(member.key, devices);
      const had = before?.get(member.key);
      if (!had) continue;
      for (const device of devices) {
        if (!had.has(device)) {
          lines.push(newDeviceLine(ms, update.room, this.who(member.key), device, devices.size));
        }
      }
    }
    this.#rosters.set(update.room, now);
    return lines;
  }

  keyChanged(ms: number, change: KeyChanged): string[] {
    this.#persons.set(change.key, change.person);
    const said = `${change.key} ${change.person}`;
    if (this.#changesSaid.has(said)) return [];
    this.#changesSaid.add(said);
    return [
      keyChangedLine(ms, this.who(change.key), this.#people.nickOf(change.key) ?? change.key),
    ];
  }

  /** The person key a member's devices carry in the groups this run has seen. */
  personOf(key: string): string | undefined {
    return this.#persons.get(key);
  }

  /** `<nick> (<fp>)` for a member key; `?` for a nickname not seen yet. */
  who(key: string): string {
    const bytes = decodeBase64Url(key);
    return memberText({
      nick: this.#people.nickOf(key) ?? '?',
      fp: bytes ? fingerprint(bytes) : key,
    });
  }
}
