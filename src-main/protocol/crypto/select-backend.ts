import type { BackendName, CryptoBackend } from './crypto-backend.ts';
import { nobleBackend } from './noble-backend.ts';
import { nodeBackend } from './node-backend.ts';

export const backends: Record<BackendName, CryptoBackend> = {
  node: nodeBackend,
  noble: nobleBackend,
};

/**
 * Whether node:crypto here can do everything Noise needs. Electron ships BoringSSL, which
 * lacks chacha20-poly1305 (electron/electron#24024), so we try each primitive once.
 */
export function nodeCryptoIsComplete(): boolean {
  try {
    const pair = nodeBackend.generateKeyPair();
    nodeBackend.dh(pair.privateKey, nodeBackend.generateKeyPair().publicKey);
    const key = new Uint8Array(32);
    const nonce = new Uint8Array(12);
    for (const cipher of ['ChaChaPoly', 'AESGCM'] as const) {
      const aead = nodeBackend.aead(cipher, key);
      const sealed = aead.seal(nonce, new Uint8Array(0), new Uint8Array([1, 2, 3]));
      if (aead.open(nonce, new Uint8Array(0), sealed)?.[2] !== 3) return false;
    }
    return true;
  } catch {
    return false;
  }
}

let probed: CryptoBackend | undefined;

/**
 * The backend to use: `PARLEY_CRYPTO_BACKEND=node|noble` forces one (tests, benchmarks);
 * otherwise node:crypto when it is complete here, else @noble.
 */
export function selectBackend(
  forced: string | undefined = process.env.PARLEY_CRYPTO_BACKEND,
): CryptoBackend {
  if (forced) {
    if (forced !== 'node' && forced !== 'noble') {
      throw new Error(`unknown crypto backend "${forced}" (expected "node" or "noble")`);
    }
    return backends[forced];
  }
  probed ??= nodeCryptoIsComplete() ? nodeBackend : nobleBackend;
  return probed;
}
