import { describe, expect, it } from 'vitest';
import { computePskSecret, type PreSharedKeyID } from 'ts-mls/presharedkey.js';
import { z } from 'zod';
import {
  hex,
  hexString,
  loadMlsVectors,
  PROVIDERS,
  suiteOn,
  suiteOne,
  toHex,
} from './mls-vectors.ts';

// The PSK secret (RFC 9420 §8.4) folded into the key schedule: Parley does not inject PSKs, but
// a commit from another implementation may carry them, and the passive-client vectors use them.
const vectors = loadMlsVectors(
  'psk_secret.json',
  z.object({
    cipher_suite: suiteOne,
    psks: z.array(z.object({ psk_id: hexString, psk: hexString, psk_nonce: hexString })),
    psk_secret: hexString,
  }),
);

describe.each(PROVIDERS)('MLS psk_secret vectors, suite 1, provider %s', (provider) => {
  it.each(vectors.map((v, i) => [i, v.psks.length, v] as const))(
    'entry %i: %i PSKs',
    async (_i, _n, v) => {
      const psks = v.psks.map((p): [PreSharedKeyID, Uint8Array] => [
        { psktype: 'external', pskId: hex(p.psk_id), pskNonce: hex(p.psk_nonce) },
        hex(p.psk),
      ]);
      expect(toHex(await computePskSecret(psks, await suiteOn(provider)))).toBe(v.psk_secret);
    },
  );
});
