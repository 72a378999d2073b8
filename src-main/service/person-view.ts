import { fingerprint } from '../../src-shared/fingerprint.ts';
import { decodePublicKeyText } from '../../src-shared/identifiers.ts';
import type { PersonView } from '../../src-shared/ipc/domain.ts';
import type { Person } from '../protocol/wire/messages.ts';

/**
 * Someone the host names (a room event's actor or target, a direct message's peer), as the UI
 * shows people: with the fingerprint of their key, which the host does not send for them.
 */
export function personView(person: Person): PersonView {
  const key = decodePublicKeyText(person.key);
  return { nick: person.nick, key: person.key, fp: key ? fingerprint(key) : '' };
}
