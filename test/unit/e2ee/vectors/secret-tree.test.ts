import { describe, expect, it } from 'vitest';
import { defaultKeyRetentionConfig } from 'ts-mls';
import {
  createSecretTree,
  deriveKey,
  deriveNonce,
  ratchetUntil,
  type GenerationSecret,
} from 'ts-mls/secretTree.js';
import { expandSenderDataKey, expandSenderDataNonce } from 'ts-mls/sender.js';
import { leafToNodeIndex, toLeafIndex } from 'ts-mls/treemath.js';
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

// The secret tree (RFC 9420 §9): the per-sender, per-generation keys and nonces every
// application message of a room is encrypted with, and the sender-data key that hides who sent it.
const generation = z.object({
  generation: z.number().int().nonnegative(),
  handshake_key: hexString,
  handshake_nonce: hexString,
  application_key: hexString,
  application_nonce: hexString,
});
const vectors = loadMlsVectors(
  'secret-tree.json',
  z.object({
    cipher_suite: suiteOne,
    sender_data: z.object({
      sender_data_secret: hexString,
      ciphertext: hexString,
      key: hexString,
      nonce: hexString,
    }),
    encryption_secret: hexString,
    leaves: z.array(z.array(generation)).min(1),
  }),
);

describe.each(PROVIDERS)('MLS secret-tree vectors, suite 1, provider %s', (provider) => {
  it.each(vectors.map((v) => [v.leaves.length, v] as const))('%i leaves', async (_n, v) => {
    const impl = await suiteOn(provider);
    const sd = v.sender_data;
    expect(
      toHex(await expandSenderDataKey(impl, hex(sd.sender_data_secret), hex(sd.ciphertext))),
    ).toBe(sd.key);
    expect(
      toHex(await expandSenderDataNonce(impl, hex(sd.sender_data_secret), hex(sd.ciphertext))),
    ).toBe(sd.nonce);

    const tree = await createSecretTree(v.leaves.length, hex(v.encryption_secret), impl.kdf);
    const at = async (start: GenerationSecret, gen: number) => {
      const [ratcheted] = await ratchetUntil(start, gen, defaultKeyRetentionConfig, impl.kdf);
      expect(ratcheted.generation).toBe(gen);
      return {
        key: toHex(await deriveKey(ratcheted.secret, gen, impl)),
        nonce: toHex(await deriveNonce(ratcheted.secret, gen, impl)),
      };
    };
    let checked = 0;
    for (const [leaf, generations] of v.leaves.entries()) {
      const node = tree[leafToNodeIndex(toLeafIndex(leaf))];
      if (node === undefined) throw new Error(`no secret-tree node for leaf ${leaf}`);
      for (const g of generations) {
        expect(await at(node.handshake, g.generation)).toEqual({
          key: g.handshake_key,
          nonce: g.handshake_nonce,
        });
        expect(await at(node.application, g.generation)).toEqual({
          key: g.application_key,
          nonce: g.application_nonce,
        });
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(0);
  });
});
