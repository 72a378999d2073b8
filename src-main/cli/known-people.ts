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

  note(person: Pick<Person, 'nick' | 'key'>): void {
    this.#keys.delete(person.nick);
    this.#keys.set(person.nick, person.key);
    if (this.#keys.size > MAX_PEOPLE) {
      const oldest = this.#keys.keys().next().value;
      if (oldest !== undefined) this.#keys.delete(oldest);
    }
  }

  /** The key of `nickOrKey`: a nickname seen, or a public key's 43 characters. */
  keyOf(nickOrKey: string): string | undefined {
    return this.#keys.get(nickOrKey) ?? (isPublicKeyText(nickOrKey) ? nickOrKey : undefined);
  }
}
