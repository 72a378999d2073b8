import { join } from 'node:path';
import type { CryptoBackend, KeyPair } from '../protocol/crypto/crypto-backend.ts';
import { loadKeyPair, loadOrCreateKeyPair } from '../store/key-file.ts';
import {
  openSealedSecret,
  sealSecret,
  usableKeychain,
  type SecretStorage,
} from './sealed-secret.ts';

export { IdentityError, type SecretStorage } from './sealed-secret.ts';

/**
 * The install's X25519 identity key: the key hosts bind this user's nickname to. Where the OS
 * offers a keychain (Electron's `safeStorage`: Keychain, DPAPI, libsecret/KWallet) the private
 * key is stored encrypted with it; elsewhere it is a 0600 file, and the app says so
 * (`keyStorageWarning`), because anyone who can read the user's files can then impersonate them.
 */
export const PLAIN_KEY_FILE = 'identity.key';
export const SEALED_KEY_FILE = 'identity.key.sealed';

export const KEY_STORAGE_WARNING =
  'No system keychain is available, so your identity key and the key that protects your ' +
  'message history are stored unencrypted (readable only by your user account). Anyone who ' +
  'can read your files could use them to impersonate you and read your messages.';

export interface LoadedIdentity {
  readonly keyPair: KeyPair;
  readonly encryptedAtRest: boolean;
  readonly warning?: string;
}

export async function loadIdentity(options: {
  readonly dataDir: string;
  readonly backend: CryptoBackend;
  readonly secretStorage?: SecretStorage | undefined;
}): Promise<LoadedIdentity> {
  const { dataDir, backend, secretStorage } = options;
  const file = {
    plainPath: join(dataDir, PLAIN_KEY_FILE),
    sealedPath: join(dataDir, SEALED_KEY_FILE),
    type: 'x25519-sealed',
  };
  const keychain = await usableKeychain(secretStorage);

  const privateKey = await openSealedSecret(
    file,
    keychain,
    'your identity key is encrypted with the system keychain, which is not available now; ' +
      'unlock the keychain (or log in to the desktop session) and start Parley again',
  );
  if (privateKey) {
    return {
      keyPair: { privateKey, publicKey: backend.publicKeyOf(privateKey) },
      encryptedAtRest: true,
    };
  }

  if (!keychain) {
    const keyPair = await loadOrCreateKeyPair(file.plainPath, backend);
    return { keyPair, encryptedAtRest: false, warning: KEY_STORAGE_WARNING };
  }

  // Keychain available: seal an existing plain key (migration) or a new one.
  const keyPair = (await loadKeyPair(file.plainPath, backend)) ?? backend.generateKeyPair();
  await sealSecret(file, keychain, keyPair.privateKey);
  return { keyPair, encryptedAtRest: true };
}
