import { describe, expect, it } from 'vitest';
import { verifyLeafNodeSignature } from 'ts-mls/leafNode.js';
import { verifyParentHashes } from 'ts-mls/parentHash.js';
import { decodeRatchetTree, resolution } from 'ts-mls/ratchetTree.js';
import { treeHash } from 'ts-mls/treeHash.js';
import { nodeToLeafIndex, toNodeIndex } from 'ts-mls/treemath.js';
import { z } from 'zod';
import {
  flipBit,
  hex,
  hexString,
  loadMlsVectors,
  PROVIDERS,
  suiteOn,
  suiteOne,
  toHex,
} from './mls-vectors.ts';

// Validating a ratchet tree received in a Welcome (RFC 9420 §7.9, §12.4.3.1): resolutions,
// per-node tree hashes, parent hashes and leaf signatures, over full trees, trees with blanks,
// trailing blanks, unmerged leaves and skipped parent-hash links.
const vectors = loadMlsVectors(
  'tree-validation.json',
  z.object({
    cipher_suite: suiteOne,
    tree: hexString,
    group_id: hexString,
    resolutions: z.array(z.array(z.number().int().nonnegative())),
    tree_hashes: z.array(hexString),
  }),
);

const decode = (s: string) => {
  const tree = decodeRatchetTree(hex(s), 0)?.[0];
  if (tree === undefined) throw new Error('tree did not decode');
  return tree;
};

describe.each(PROVIDERS)('MLS tree-validation vectors, suite 1, provider %s', (provider) => {
  it.each(vectors.map((v, i) => [i, v.tree_hashes.length, v] as const))(
    'tree %i (%i nodes)',
    async (_i, _n, v) => {
      const { hash, signature } = await suiteOn(provider);
      const tree = decode(v.tree);
      expect(v.resolutions.map((_, i) => resolution(tree, toNodeIndex(i)))).toEqual(v.resolutions);
      const hashes = await Promise.all(
        v.tree_hashes.map(async (_, i) => toHex(await treeHash(tree, toNodeIndex(i), hash))),
      );
      expect(hashes).toEqual(v.tree_hashes);
      expect(await verifyParentHashes(tree, hash)).toBe(true);
      let leaves = 0;
      for (const [i, node] of tree.entries()) {
        if (node?.nodeType !== 'leaf') continue;
        const leafIndex = nodeToLeafIndex(toNodeIndex(i));
        expect(
          await verifyLeafNodeSignature(node.leaf, hex(v.group_id), leafIndex, signature),
        ).toBe(true);
        leaves += 1;
      }
      expect(leaves).toBeGreaterThan(1);
    },
  );

  it('refuses a leaf whose signature has one bit flipped, and a leaf signed for another group', async () => {
    const { signature } = await suiteOn(provider);
    const v = vectors[0]!;
    const node = decode(v.tree)[0];
    if (node?.nodeType !== 'leaf') throw new Error('leaf 0 is blank');
    const leaf = { ...node.leaf, signature: flipBit(node.leaf.signature, 3) };
    expect(await verifyLeafNodeSignature(leaf, hex(v.group_id), 0, signature)).toBe(false);
    expect(await verifyLeafNodeSignature(node.leaf, flipBit(hex(v.group_id)), 0, signature)).toBe(
      false,
    );
  });

  it('refuses a tree whose parent node key was swapped (parent hash no longer chains)', async () => {
    const { hash } = await suiteOn(provider);
    const v = vectors.find((x) => decode(x.tree)[1]?.nodeType === 'parent');
    if (v === undefined) throw new Error('no tree with a parent at node 1');
    const tree = decode(v.tree);
    const parent = tree[1];
    if (parent?.nodeType !== 'parent') throw new Error('unreachable');
    tree[1] = {
      ...parent,
      parent: { ...parent.parent, hpkePublicKey: flipBit(parent.parent.hpkePublicKey) },
    };
    expect(await verifyParentHashes(tree, hash)).toBe(false);
  });
});
