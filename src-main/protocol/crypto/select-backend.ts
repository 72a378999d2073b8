import type { CryptoBackend } from './crypto-backend.ts';
import { nodeBackend } from './node-backend.ts';

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

const forcedAtStart = process.env.PARLEY_CRYPTO_BACKEND;
const nodeComplete = forcedAtStart ? undefined : nodeCryptoIsComplete();
/**
 * @noble is loaded only where it may be chosen: when forced, or when node:crypto is incomplete
 * (Electron). A host on Node never picks it, and its import cost ~7 MB of RSS at start (its
 * ciphers' tables are built at import): measured by FOOTPRINT on the built host, 73 → 66 MB.
 */
const noble: CryptoBackend | undefined =
  forcedAtStart === 'noble' || nodeComplete === false
    ? (await import('./noble-backend.ts')).nobleBackend
    : undefined;

/**
 * The backend to use: `PARLEY_CRYPTO_BACKEND=node|noble` forces one (tests, benchmarks), read
 * when this module loads; otherwise node:crypto when it is complete here, else @noble. A
 * caller may force one too; `noble` then needs the environment variable to have asked for it
 * at start (or node:crypto to be incomplete), since it is not loaded otherwise.
 */
export function selectBackend(forced: string | undefined = forcedAtStart): CryptoBackend {
  if (forced) {
    if (forced === 'node') return nodeBackend;
    if (forced !== 'noble') {
      throw new Error(`unknown crypto backend "${forced}" (expected "node" or "noble")`);
    }
    if (!noble) {
      throw new Error(
        'the noble crypto backend was not loaded: set PARLEY_CRYPTO_BACKEND=noble when starting',
      );
    }
    return noble;
  }
  return noble ?? nodeBackend;
}
