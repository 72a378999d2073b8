import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeSecretFileAtomic } from '../store/key-file.ts';
import {
  IdentityError,
  openSealedSecret,
  sealSecret,
  usableKeychain,
  type SecretStorage,
} from './sealed-secret.ts';

/**
 * The desktop's at-rest key: 32 random bytes that encrypt the local history's message text and
 * the desktop device's E2EE store (its MLS secrets). It is kept like the identity key: sealed
 * with the OS keychain where there is one, else a 0600 file (the app then shows the same
 * key-storage warning as for the identity). Without this, a copied history.sqlite would give
 * away every decrypted message of an end-to-end encrypted room.
 */
export const PLAIN_AT_REST_FILE = 'at-rest.key';
export const SEALED_AT_REST_FILE = 'at-rest.key.sealed';

const KEY_BYTES = 32;

const PlainFile = z.object({
  version: z.literal(1),
  type: z.literal('at-rest-key'),
  key: z.string().length(43),
});

export interface LoadedAtRestKey {
  readonly key: Uint8Array;
  readonly encryptedAtRest: boolean;
}

export async function loadOrCreateAtRestKey(options: {
  readonly dataDir: string;
  readonly secretStorage?: SecretStorage | undefined;
}): Promise<LoadedAtRestKey> {
  const { dataDir, secretStorage } = options;
  const file = {
    plainPath: join(dataDir, PLAIN_AT_REST_FILE),
    sealedPath: join(dataDir, SEALED_AT_REST_FILE),
    type: 'at-rest-key-sealed',
  };
  const plainPath = file.plainPath;
  const keychain = await usableKeychain(secretStorage);

  const sealedKey = await openSealedSecret(
    file,
    keychain,
    'the key of your local history is encrypted with the system keychain, which is not ' +
      'available now; unlock the keychain (or log in to the desktop session) and start ' +
      'Parley again',
  );
  if (sealedKey) return { key: sealedKey, encryptedAtRest: true };

  const plain = await readJson(plainPath, PlainFile);
  const existing = plain ? new Uint8Array(Buffer.from(plain.key, 'base64url')) : undefined;
  if (existing && existing.length !== KEY_BYTES) {
    throw new IdentityError(`${plainPath} is damaged; restore it from a backup`);
  }
  if (!keychain) {
    if (existing) return { key: existing, encryptedAtRest: false };
    const key = new Uint8Array(randomBytes(KEY_BYTES));
    await writeSecretFileAtomic(
      plainPath,
      JSON.stringify({
        version: 1,
        type: 'at-rest-key',
        key: Buffer.from(key).toString('base64url'),
      }) + '\n',
    );
    return { key, encryptedAtRest: false };
  }

  // Keychain available: seal an existing plain key (a keychain that appeared since) or a new one.
  const key = existing ?? new Uint8Array(randomBytes(KEY_BYTES));
  await sealSecret(file, keychain, key);
  return { key, encryptedAtRest: true };
}

async function readJson<T extends z.ZodType>(
  path: string,
  schema: T,
): Promise<z.infer<T> | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new IdentityError(`cannot read ${path}: ${(error as Error).message}`);
  }
  const parsed = (() => {
    try {
      return schema.safeParse(JSON.parse(text));
    } catch {
      return undefined;
    }
  })();
  if (!parsed?.success) throw new IdentityError(`${path} is damaged; restore it from a backup`);
  return parsed.data as z.infer<T>;
}
