import { webcrypto } from 'node:crypto';
import {
  defaultCryptoProvider,
  getCiphersuiteFromName,
  getCiphersuiteImpl,
  nobleCryptoProvider,
  type CiphersuiteImpl,
  type CiphersuiteName,
} from 'ts-mls';

/**
 * The one MLS cipher suite Parley speaks: RFC 9420's mandatory suite 1. It needs no optional
 * package, and X25519, Ed25519 and AES-GCM are in every Node and Electron we ship.
 */
export const SUITE_NAME = 'MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519' satisfies CiphersuiteName;

export type ProviderName = 'webcrypto' | 'noble';

export interface MlsSuite {
  readonly provider: ProviderName;
  readonly impl: CiphersuiteImpl;
}

let cached: Promise<MlsSuite> | undefined;

/**
 * The suite on the best provider this runtime has: WebCrypto when a probe shows X25519, Ed25519
 * and AES-GCM all work, else ts-mls's noble provider. Probed once per process; both providers
 * produce the same bytes, so members may differ.
 *
 * What the fallback covers (ts-mls 1.6.4): the noble provider swaps AES-GCM, SHA-256 and HKDF for
 * @noble code, but its HPKE still runs @hpke/core's DHKEM-X25519 on WebCrypto, and its Ed25519
 * uses WebCrypto whenever `crypto.subtle` exists. So it helps a runtime whose AES-GCM or hashing
 * misbehaves, not one without WebCrypto X25519 (Node ≥ 20 and Electron have it).
 */
export function loadSuite(): Promise<MlsSuite> {
  cached ??= (async () => loadSuiteWith((await webCryptoWorks()) ? 'webcrypto' : 'noble'))();
  return cached;
}

/** A suite on a named provider, not cached: tests run both providers side by side. */
export async function loadSuiteWith(provider: ProviderName): Promise<MlsSuite> {
  const impl = await getCiphersuiteImpl(
    getCiphersuiteFromName(SUITE_NAME),
    provider === 'webcrypto' ? defaultCryptoProvider : nobleCryptoProvider,
  );
  return { provider, impl };
}

async function webCryptoWorks(): Promise<boolean> {
  // ts-mls reaches WebCrypto as globalThis.crypto, which in Node and Electron's main process is
  // node:crypto's webcrypto: probe that one.
  const subtle = webcrypto.subtle;
  try {
    const a = asPair(await subtle.generateKey({ name: 'X25519' }, false, ['deriveBits']));
    const b = asPair(await subtle.generateKey({ name: 'X25519' }, false, ['deriveBits']));
    await subtle.deriveBits({ name: 'X25519', public: b.publicKey }, a.privateKey, 256);
    const ed = asPair(await subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify']));
    const message = new Uint8Array([1, 2, 3]);
    const signature = await subtle.sign({ name: 'Ed25519' }, ed.privateKey, message);
    if (!(await subtle.verify({ name: 'Ed25519' }, ed.publicKey, signature, message))) return false;
    const key = await subtle.generateKey({ name: 'AES-GCM', length: 128 }, false, [
      'encrypt',
      'decrypt',
    ]);
    const iv = new Uint8Array(12);
    const sealed = await subtle.encrypt({ name: 'AES-GCM', iv }, key, message);
    const opened = new Uint8Array(await subtle.decrypt({ name: 'AES-GCM', iv }, key, sealed));
    return opened.length === 3 && opened[2] === 3;
  } catch {
    return false;
  }
}

function asPair(key: webcrypto.CryptoKeyPair | webcrypto.CryptoKey): webcrypto.CryptoKeyPair {
  if ('privateKey' in key) return key;
  throw new Error('expected a key pair');
}
