import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { PublicKeyText } from '../../src-shared/identifier-schemas.ts';
import { writeSecretFileAtomic } from '../store/key-file.ts';

/**
 * Trust on first use for person keys: the first person key seen for a Parley key is pinned; a
 * different one later is still let into the group (the host orders membership and every member
 * must follow the same order) but flagged until the user accepts it. Keys are base64url text.
 */
export interface PersonPins {
  check(parleyKey: string, personKey: string): 'new' | 'same' | 'changed';
  accept(parleyKey: string, personKey: string): Promise<void>;
  personOf(parleyKey: string): string | undefined;
}

export class PersonPinsError extends Error {
  override readonly name = 'PersonPinsError';
}

const PinsFile = z.object({
  version: z.literal(1),
  pins: z.record(PublicKeyText, PublicKeyText),
});

export function memoryPersonPins(initial?: ReadonlyMap<string, string>): PersonPins {
  return pinsOver(new Map(initial), () => Promise.resolve());
}

/**
 * Pins in `member-pins.json` in the data dir, shared by the desktop and the line client: each
 * write merges what is on disk (the other program may have pinned meanwhile), then replaces the
 * file atomically. A damaged file is an error, never silently reset: that would re-trust keys.
 */
export async function filePersonPins(file: string): Promise<PersonPins> {
  const pins = await readPins(file);
  let queue = Promise.resolve();
  return pinsOver(pins, (parleyKey, personKey) => {
    const write = queue.then(async () => {
      const onDisk = await readPins(file);
      onDisk.set(parleyKey, personKey);
      // The file is the truth both programs share: take what the other one pinned meanwhile.
      for (const [k, v] of onDisk) pins.set(k, v);
      const body = { version: 1 as const, pins: Object.fromEntries(onDisk) };
      await writeSecretFileAtomic(file, JSON.stringify(body, null, 1) + '\n');
    });
    queue = write.catch(() => undefined);
    return write;
  });
}

function pinsOver(
  pins: Map<string, string>,
  persist: (parleyKey: string, personKey: string) => Promise<void>,
): PersonPins {
  return {
    check(parleyKey, personKey) {
      const pinned = pins.get(parleyKey);
      if (pinned === undefined) return 'new';
      return pinned === personKey ? 'same' : 'changed';
    },
    async accept(parleyKey, personKey) {
      if (
        !PublicKeyText.safeParse(parleyKey).success ||
        !PublicKeyText.safeParse(personKey).success
      ) {
        throw new PersonPinsError('a pin takes two base64url public keys');
      }
      pins.set(parleyKey, personKey);
      await persist(parleyKey, personKey);
    },
    personOf: (parleyKey) => pins.get(parleyKey),
  };
}

async function readPins(file: string): Promise<Map<string, string>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw new PersonPinsError(`cannot read ${file}`);
  }
  let parsed: z.infer<typeof PinsFile>;
  try {
    parsed = PinsFile.parse(JSON.parse(text));
  } catch {
    throw new PersonPinsError(`${file} is damaged; restore it from a backup or delete it`);
  }
  return new Map(Object.entries(parsed.pins));
}
