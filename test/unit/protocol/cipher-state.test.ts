import { describe, expect, it } from 'vitest';
import { backends } from '../../../src-main/protocol/crypto/all-backends.ts';
import { CipherState, MAX_NONCE } from '../../../src-main/protocol/noise/cipher-state.ts';

const empty = new Uint8Array(0);

describe.each(['node', 'noble'] as const)('CipherState on %s', (name) => {
  const pair = (cipher: 'ChaChaPoly' | 'AESGCM') => {
    const key = new Uint8Array(32).fill(9);
    const a = new CipherState(backends[name], cipher);
    const b = new CipherState(backends[name], cipher);
    a.initializeKey(key);
    b.initializeKey(key);
    return [a, b] as const;
  };

  it('refuses to reuse a nonce once the counter is exhausted', () => {
    const [a] = pair('ChaChaPoly');
    a.setNonce(MAX_NONCE);
    expect(() => a.encryptWithAd(empty, Uint8Array.of(1))).toThrow(
      expect.objectContaining({ code: 'nonce-exhausted' }),
    );
  });

  it('encodes large nonces the same on both sides (LE for ChaChaPoly, BE for AESGCM)', () => {
    for (const cipher of ['ChaChaPoly', 'AESGCM'] as const) {
      const [a, b] = pair(cipher);
      a.setNonce(2 ** 40 + 5);
      b.setNonce(2 ** 40 + 5);
      expect(b.decryptWithAd(empty, a.encryptWithAd(empty, Uint8Array.of(42)))).toEqual(
        Uint8Array.of(42),
      );
    }
  });

  it('rekeys in step: old ciphertext no longer opens, new does', () => {
    const [a, b] = pair('AESGCM');
    const before = a.encryptWithAd(empty, Uint8Array.of(1));
    a.rekey();
    b.rekey();
    b.setNonce(0);
    expect(() => b.decryptWithAd(empty, before)).toThrow(
      expect.objectContaining({ code: 'decrypt-failed' }),
    );
    b.setNonce(1);
    expect(b.decryptWithAd(empty, a.encryptWithAd(empty, Uint8Array.of(2)))).toEqual(
      Uint8Array.of(2),
    );
  });

  it('does not advance the nonce when authentication fails', () => {
    const [a, b] = pair('ChaChaPoly');
    const sealed = a.encryptWithAd(empty, Uint8Array.of(1, 2, 3));
    const forged = sealed.slice();
    forged[0]! ^= 1;
    expect(() => b.decryptWithAd(empty, forged)).toThrow();
    expect(b.nonce).toBe(0);
    expect(b.decryptWithAd(empty, sealed)).toEqual(Uint8Array.of(1, 2, 3));
  });
});
