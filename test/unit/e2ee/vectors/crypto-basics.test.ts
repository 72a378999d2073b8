import { describe, expect, it } from 'vitest';
import { refhash } from 'ts-mls/crypto/hash.js';
import { decryptWithLabel, encryptWithLabel } from 'ts-mls/crypto/hpke.js';
import { deriveSecret, deriveTreeSecret, expandWithLabel } from 'ts-mls/crypto/kdf.js';
import { signWithLabel, verifyWithLabel } from 'ts-mls/crypto/signature.js';
import { z } from 'zod';
import {
  flipBit,
  hex,
  hexString,
  loadMlsVectors,
  onlyEntry,
  PROVIDERS,
  suiteOn,
  suiteOne,
  toHex,
} from './mls-vectors.ts';

// The labelled primitives of RFC 9420 §5 (RefHash, ExpandWithLabel, DeriveSecret,
// DeriveTreeSecret, SignWithLabel, EncryptWithLabel) on suite 1: X25519, AES-128-GCM,
// SHA-256, Ed25519. Everything else in MLS is built from these.
const v = onlyEntry(
  loadMlsVectors(
    'crypto-basics.json',
    z.object({
      cipher_suite: suiteOne,
      ref_hash: z.object({ label: z.string(), value: hexString, out: hexString }),
      expand_with_label: z.object({
        secret: hexString,
        label: z.string(),
        context: hexString,
        length: z.number().int(),
        out: hexString,
      }),
      derive_secret: z.object({ secret: hexString, label: z.string(), out: hexString }),
      derive_tree_secret: z.object({
        secret: hexString,
        label: z.string(),
        generation: z.number().int(),
        length: z.number().int(),
        out: hexString,
      }),
      sign_with_label: z.object({
        priv: hexString,
        pub: hexString,
        content: hexString,
        label: z.string(),
        signature: hexString,
      }),
      encrypt_with_label: z.object({
        priv: hexString,
        pub: hexString,
        label: z.string(),
        context: hexString,
        plaintext: hexString,
        kem_output: hexString,
        ciphertext: hexString,
      }),
    }),
  ),
);

describe.each(PROVIDERS)('MLS crypto-basics vector, suite 1, provider %s', (provider) => {
  it('RefHash', async () => {
    const { hash } = await suiteOn(provider);
    expect(toHex(await refhash(v.ref_hash.label, hex(v.ref_hash.value), hash))).toBe(
      v.ref_hash.out,
    );
  });

  it('ExpandWithLabel', async () => {
    const { kdf } = await suiteOn(provider);
    const x = v.expand_with_label;
    const out = await expandWithLabel(hex(x.secret), x.label, hex(x.context), x.length, kdf);
    expect(toHex(out)).toBe(x.out);
  });

  it('DeriveSecret', async () => {
    const { kdf } = await suiteOn(provider);
    const x = v.derive_secret;
    expect(toHex(await deriveSecret(hex(x.secret), x.label, kdf))).toBe(x.out);
  });

  it('DeriveTreeSecret', async () => {
    const { kdf } = await suiteOn(provider);
    const x = v.derive_tree_secret;
    const out = await deriveTreeSecret(hex(x.secret), x.label, x.generation, x.length, kdf);
    expect(toHex(out)).toBe(x.out);
  });

  it('SignWithLabel: verifies the vector, verifies its own, refuses a flipped bit', async () => {
    const { signature } = await suiteOn(provider);
    const x = v.sign_with_label;
    const verify = (sig: Uint8Array) =>
      verifyWithLabel(hex(x.pub), x.label, hex(x.content), sig, signature);
    expect(await verify(hex(x.signature))).toBe(true);
    expect(await verify(await signWithLabel(hex(x.priv), x.label, hex(x.content), signature))).toBe(
      true,
    );
    expect(await verify(flipBit(hex(x.signature), 7))).toBe(false);
  });

  it('EncryptWithLabel: opens the vector, opens its own, refuses a flipped bit', async () => {
    const { hpke } = await suiteOn(provider);
    const x = v.encrypt_with_label;
    const priv = await hpke.importPrivateKey(hex(x.priv));
    const open = (kem: Uint8Array, ct: Uint8Array) =>
      decryptWithLabel(priv, x.label, hex(x.context), kem, ct, hpke);
    expect(toHex(await open(hex(x.kem_output), hex(x.ciphertext)))).toBe(x.plaintext);
    const sealed = await encryptWithLabel(
      await hpke.importPublicKey(hex(x.pub)),
      x.label,
      hex(x.context),
      hex(x.plaintext),
      hpke,
    );
    expect(toHex(await open(sealed.enc, sealed.ct))).toBe(x.plaintext);
    await expect(open(hex(x.kem_output), flipBit(hex(x.ciphertext)))).rejects.toThrow();
  });
});
