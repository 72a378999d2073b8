import { isPublicKeyText } from '../../src-shared/identifiers.ts';
import type { Person } from '../protocol/wire/messages.ts';

/** People remembered at most: the oldest seen is forgotten first. */
const MAX_PEOPLE = 10_000;

/**
 * The nicknames the line client has seen, with their keys, so `/kick bob` can name a key: from
 * member lists and room events (a banned person is no longer listed, but `/unban` needs them).
 * The latest key seen for a nickname wins; a public key typed in full is taken as is.
 */
export class KnownPeople {
  readonly #keys = new Map<string, string>();
  /** The latest nickname seen for each key (for lines about a key: a new device, `/verify`). */
  readonly #nicks = new Map<string, string>();

  note(person: Pick<Person, 'nick' | 'key'>): void {
    this.#keys.delete(person.nick);
    this.#keys.set(person.nick, person.key);
    this.#nicks.delete(person.key);
    this.#nicks.set(person.key, person.nick);
    for (const map of [this.#keys, this.#nicks]) {
      if (map.size > MAX_PEOPLE) {
        const oldest = map.keys().next().value;
        if (oldest !== undefined) map.delete(oldest);
      }
    }
  }

  /** The nickname last seen with `key`. */
  nickOf(key: string): string | undefined {
    return this.#nicks.get(key);
  }

  /** The key of `nickOrKey`: a nickname seen, or a public key's 43 characters. */
  keyOf(nickOrKey: string): string | undefined {
    return this.#keys.get(nickOrKey) ?? (isPublicKeyText(nickOrKey) ? nickOrKey : undefined);
  }
}
