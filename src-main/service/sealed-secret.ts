import { readFile, rm } from 'node:fs/promises';
import { z } from 'zod';
import { sameKey } from '../protocol/host-key.ts';
import { writeSecretFileAtomic } from '../store/key-file.ts';

/**
 * A 32-byte secret sealed with the OS keychain, shared by the identity key and the at-rest key:
 * both keep the sealed copy in the same JSON shape (only `type` differs) and read, check, seal
 * and drop the plain copy the same way, so a fix to one (say, the round-trip check) is a fix to
 * both. The plain (no keychain) file is each caller's own: its format differs.
 */
export interface SecretStorage {
  /** Whether encryption backed by the OS is available now (not a hard-coded fallback key). */
  isAvailable(): boolean | Promise<boolean>;
  encrypt(plaintext: Uint8Array): Uint8Array | Promise<Uint8Array>;
  decrypt(ciphertext: Uint8Array): Uint8Array | Promise<Uint8Array>;
}

export class IdentityError extends Error {
  override readonly name = 'IdentityError';
}

const SECRET_BYTES = 32;

export interface SealedSecretFile {
  readonly plainPath: string;
  readonly sealedPath: string;
  /** The file's `type` tag, e.g. 'x25519-sealed'. */
  readonly type: string;
}

/**
 * The keychain if it is available now, else undefined. One that throws when asked counts as none
 * (the plain file and the warning follow).
 */
export async function usableKeychain(
  storage: SecretStorage | undefined,
): Promise<SecretStorage | undefined> {
  if (!storage) return undefined;
  try {
    return (await storage.isAvailable()) ? storage : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The sealed secret, or undefined when there is no sealed file. A sealed file with no usable
 * keychain (`keychain` from `usableKeychain`) is an error (`unavailableMessage`), not a fallback:
 * making a new key would lose the old one.
 */
export async function openSealedSecret(
  file: SealedSecretFile,
  keychain: SecretStorage | undefined,
  unavailableMessage: string,
): Promise<Uint8Array | undefined> {
  const sealed = await readSealed(file);
  if (!sealed) return undefined;
  if (!keychain) throw new IdentityError(unavailableMessage);
  let secret: Uint8Array;
  try {
    secret = new Uint8Array(await keychain.decrypt(sealed));
  } catch {
    throw new IdentityError(
      `the system keychain cannot decrypt ${file.sealedPath}; it may belong to another user or machine`,
    );
  }
  if (secret.length !== SECRET_BYTES) {
    throw new IdentityError(`${file.sealedPath} is not a Parley key`);
  }
  // A plain copy left by an interrupted migration has no business staying around.
  await rm(file.plainPath, { force: true });
  return secret;
}

/** Seals `secret` (checked to come back intact) and removes the plain copy. */
export async function sealSecret(
  file: SealedSecretFile,
  storage: SecretStorage,
  secret: Uint8Array,
): Promise<void> {
  const ciphertext = await storage.encrypt(secret);
  if (!sameKey(await storage.decrypt(ciphertext), secret)) {
    throw new IdentityError('the system keychain did not give back the key it encrypted');
  }
  await writeSecretFileAtomic(
    file.sealedPath,
    JSON.stringify({
      version: 1,
      type: file.type,
      sealed: Buffer.from(ciphertext).toString('base64'),
    }) + '\n',
  );
  await rm(file.plainPath, { force: true });
}

async function readSealed(file: SealedSecretFile): Promise<Uint8Array | undefined> {
  let text: string;
  try {
    text = await readFile(file.sealedPath, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new IdentityError(`cannot read ${file.sealedPath}: ${(error as Error).message}`);
  }
  const schema = z.object({
    version: z.literal(1),
    type: z.literal(file.type),
    sealed: z.string().min(1).max(4096),
  });
  try {
    const parsed = schema.parse(JSON.parse(text));
    return new Uint8Array(Buffer.from(parsed.sealed, 'base64'));
  } catch {
    throw new IdentityError(`${file.sealedPath} is damaged; restore it from a backup`);
  }
}
