// Electron's safeStorage as the service's SecretStorage. On Linux, safeStorage falls back to a
// hard-coded password ('basic_text') when no keyring is running: that protects nothing, so it
// counts as "not available" and the app warns instead of pretending.
import { safeStorage } from 'electron';
import type { SecretStorage } from '../service/identity-store.ts';

export function electronSecretStorage(platform: NodeJS.Platform = process.platform): SecretStorage {
  return {
    async isAvailable() {
      if (!(await safeStorage.isAsyncEncryptionAvailable())) return false;
      return platform !== 'linux' || safeStorage.getSelectedStorageBackend() !== 'basic_text';
    },
    async encrypt(plaintext) {
      // safeStorage encrypts strings: the key travels as base64 text, never as UTF-8 bytes.
      return new Uint8Array(
        await safeStorage.encryptStringAsync(Buffer.from(plaintext).toString('base64')),
      );
    },
    async decrypt(ciphertext) {
      const { result } = await safeStorage.decryptStringAsync(Buffer.from(ciphertext));
      return new Uint8Array(Buffer.from(result, 'base64'));
    },
  };
}
