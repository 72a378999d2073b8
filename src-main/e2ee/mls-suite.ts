import { webcrypto } from 'node:crypto';
import {
  defaultCryptoProvider,
  getCiphersuiteFromName,
  getCiphersuiteImpl,
  type CiphersuiteImpl,
  type CiphersuiteName,
} from 'ts-mls';
import { pureNobleProvider } from './noble-provider.ts';

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
 * and AES-GCM all work, else the pure noble provider (noble-provider.ts), which never touches
 * `crypto.subtle`. Probed once per process; both providers produce the same bytes, so members
 * may differ.
 *
 * Not ts-mls's own `nobleCryptoProvider`: in 1.6.4 it still signs Ed25519 with WebCrypto whenever
 * `crypto.subtle` exists and runs HPKE's X25519 KEM on WebCrypto, so it fails exactly where the
 * probe does.
 */
export function loadSuite(): Promise<MlsSuite> {
  cached ??= (async () => loadSuiteWith((await webCryptoWorks()) ? 'webcrypto' : 'noble'))();
  return cached;
}

/**
 * A suite on a named provider, not cached: tests run both providers side by side. 'noble' is the
 * pure provider in noble-provider.ts.
 */
export async function loadSuiteWith(provider: ProviderName): Promise<MlsSuite> {
  const impl = await getCiphersuiteImpl(
    getCiphersuiteFromName(SUITE_NAME),
    provider === 'webcrypto' ? defaultCryptoProvider : pureNobleProvider,
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
