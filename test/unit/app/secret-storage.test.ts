// Electron's safeStorage as the identity store's SecretStorage, against a faked 'electron'.
import { beforeEach, describe, expect, it, vi } from 'vitest';

const fake = vi.hoisted(() => ({
  available: true,
  backend: 'gnome_libsecret',
  encryptStringAsync: vi.fn(async (text: string) => Buffer.from(`enc:${text}`)),
  decryptStringAsync: vi.fn(async (data: Buffer) => ({
    shouldReEncrypt: false,
    result: data.toString().replace(/^enc:/, ''),
  })),
}));

vi.mock('electron', () => ({
  safeStorage: {
    isAsyncEncryptionAvailable: () => Promise.resolve(fake.available),
    getSelectedStorageBackend: () => fake.backend,
    encryptStringAsync: fake.encryptStringAsync,
    decryptStringAsync: fake.decryptStringAsync,
  },
}));

const { electronSecretStorage } = await import('../../../src-main/app/secret-storage.ts');

beforeEach(() => {
  fake.available = true;
  fake.backend = 'gnome_libsecret';
});

describe('electronSecretStorage', () => {
  it('round-trips raw key bytes through safeStorage (as base64 text, not UTF-8)', async () => {
    const storage = electronSecretStorage('linux');
    const key = Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + 200) % 256);
    const sealed = await storage.encrypt(key);
    expect(Buffer.from(sealed).toString()).toBe(`enc:${Buffer.from(key).toString('base64')}`);
    expect(await storage.decrypt(sealed)).toEqual(key);
  });

  it('is available with a real keyring, not with Linux’s hard-coded basic_text fallback', async () => {
    expect(await electronSecretStorage('linux').isAvailable()).toBe(true);
    fake.backend = 'basic_text';
    expect(await electronSecretStorage('linux').isAvailable()).toBe(false);
    // The backend name is a Linux notion; elsewhere only availability counts.
    expect(await electronSecretStorage('darwin').isAvailable()).toBe(true);
    fake.available = false;
    expect(await electronSecretStorage('win32').isAvailable()).toBe(false);
  });
});
