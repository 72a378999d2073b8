import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { CryptoBackend, KeyPair } from '../protocol/crypto/crypto-backend.ts';
import { sameKey } from '../protocol/host-key.ts';
import { loadKeyPair, loadOrCreateKeyPair, writeSecretFileAtomic } from '../store/key-file.ts';

/**
 * The install's X25519 identity key: the key hosts bind this user's nickname to. Where the OS
 * offers a keychain (Electron's `safeStorage`: Keychain, DPAPI, libsecret/KWallet) the private
 * key is stored encrypted with it; elsewhere it is a 0600 file, and the app says so
 * (`keyStorageWarning`), because anyone who can read the user's files can then impersonate them.
 */
export interface SecretStorage {
  /** Whether encryption backed by the OS is available now (not a hard-coded fallback key). */
  isAvailable(): boolean | Promise<boolean>;
  encrypt(plaintext: Uint8Array): Uint8Array | Promise<Uint8Array>;
  decrypt(ciphertext: Uint8Array): Uint8Array | Promise<Uint8Array>;
}

export const PLAIN_KEY_FILE = 'identity.key';
export const SEALED_KEY_FILE = 'identity.key.sealed';

export const KEY_STORAGE_WARNING =
  'No system keychain is available, so your identity key and the key that protects your ' +
  'message history are stored unencrypted (readable only by your user account). Anyone who ' +
  'can read your files could use them to impersonate you and read your messages.';

export class IdentityError extends Error {
  override readonly name = 'IdentityError';
}

export interface LoadedIdentity {
  readonly keyPair: KeyPair;
  readonly encryptedAtRest: boolean;
  readonly warning?: string;
}

const SealedFile = z.object({
  version: z.literal(1),
  type: z.literal('x25519-sealed'),
  sealed: z.string().min(1).max(4096),
});

export async function loadIdentity(options: {
  readonly dataDir: string;
  readonly backend: CryptoBackend;
  readonly secretStorage?: SecretStorage | undefined;
}): Promise<LoadedIdentity> {
  const { dataDir, backend, secretStorage } = options;
  const plainPath = join(dataDir, PLAIN_KEY_FILE);
  const sealedPath = join(dataDir, SEALED_KEY_FILE);
  const available = await isAvailable(secretStorage);

  const sealed = await readSealed(sealedPath);
  if (sealed) {
    if (!available || !secretStorage) {
      throw new IdentityError(
        'your identity key is encrypted with the system keychain, which is not available now; ' +
          'unlock the keychain (or log in to the desktop session) and start Parley again',
      );
    }
    let privateKey: Uint8Array;
    try {
      privateKey = new Uint8Array(await secretStorage.decrypt(sealed));
    } catch {
      throw new IdentityError(
        `the system keychain cannot decrypt ${sealedPath}; it may belong to another user or machine`,
      );
    }
    if (privateKey.length !== 32) throw new IdentityError(`${sealedPath} is not a Parley key`);
    // A plain copy left by an interrupted migration has no business staying around.
    await rm(plainPath, { force: true });
    return {
      keyPair: { privateKey, publicKey: backend.publicKeyOf(privateKey) },
      encryptedAtRest: true,
    };
  }

  if (!available || !secretStorage) {
    const keyPair = await loadOrCreateKeyPair(plainPath, backend);
    return { keyPair, encryptedAtRest: false, warning: KEY_STORAGE_WARNING };
  }

  // Keychain available: seal an existing plain key (migration) or a new one.
  const keyPair = (await loadKeyPair(plainPath, backend)) ?? backend.generateKeyPair();
  const ciphertext = await secretStorage.encrypt(keyPair.privateKey);
  const check = await secretStorage.decrypt(ciphertext);
  if (!sameKey(check, keyPair.privateKey)) {
    throw new IdentityError('the system keychain did not give back the key it encrypted');
  }
  await writeSecretFileAtomic(
    sealedPath,
    JSON.stringify({
      version: 1,
      type: 'x25519-sealed',
      sealed: Buffer.from(ciphertext).toString('base64'),
    }) + '\n',
  );
  await rm(plainPath, { force: true });
  return { keyPair, encryptedAtRest: true };
}

async function isAvailable(storage: SecretStorage | undefined): Promise<boolean> {
  if (!storage) return false;
  try {
    return await storage.isAvailable();
  } catch {
    return false;
  }
}

async function readSealed(path: string): Promise<Uint8Array | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new IdentityError(`cannot read ${path}: ${(error as Error).message}`);
  }
  try {
    const parsed = SealedFile.parse(JSON.parse(text));
    return new Uint8Array(Buffer.from(parsed.sealed, 'base64'));
  } catch {
    throw new IdentityError(`${path} is damaged; restore it from a backup`);
  }
}
