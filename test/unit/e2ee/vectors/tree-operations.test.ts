import { describe, expect, it } from 'vitest';
import type { Proposal, RatchetTree } from 'ts-mls';
import { decodeProposal } from 'ts-mls/proposal.js';
import {
  addLeafNode,
  decodeRatchetTree,
  encodeRatchetTree,
  removeLeafNode,
  updateLeafNode,
} from 'ts-mls/ratchetTree.js';
import { treeHashRoot } from 'ts-mls/treeHash.js';
import { toLeafIndex } from 'ts-mls/treemath.js';
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

// Applying add, update and remove proposals to a ratchet tree (RFC 9420 §12.1): where a new
// member lands, what a removal blanks and truncates, and the tree hash after each.
const vectors = loadMlsVectors(
  'tree-operations.json',
  z.object({
    cipher_suite: suiteOne,
    tree_before: hexString,
    proposal: hexString,
    proposal_sender: z.number().int().nonnegative(),
    tree_hash_before: hexString,
    tree_after: hexString,
    tree_hash_after: hexString,
  }),
);

function apply(tree: RatchetTree, proposal: Proposal, sender: number): RatchetTree {
  switch (proposal.proposalType) {
    case 'add':
      return addLeafNode(tree, proposal.add.keyPackage.leafNode)[0];
    case 'update':
      return updateLeafNode(tree, proposal.update.leafNode, toLeafIndex(sender));
    case 'remove':
      return removeLeafNode(tree, toLeafIndex(proposal.remove.removed));
    default:
      throw new Error(`tree-operations has no ${proposal.proposalType} case`);
  }
}

describe.each(PROVIDERS)('MLS tree-operations vectors, suite 1, provider %s', (provider) => {
  it.each(vectors.map((v, i) => [i, v] as const))('entry %i', async (_i, v) => {
    const { hash } = await suiteOn(provider);
    const before = decodeRatchetTree(hex(v.tree_before), 0)?.[0];
    const proposal = decodeProposal(hex(v.proposal), 0)?.[0];
    if (before === undefined || proposal === undefined)
      throw new Error('tree or proposal did not decode');
    expect(toHex(await treeHashRoot(before, hash))).toBe(v.tree_hash_before);
    const after = apply(before, proposal, v.proposal_sender);
    expect(toHex(encodeRatchetTree(after))).toBe(v.tree_after);
    expect(toHex(await treeHashRoot(after, hash))).toBe(v.tree_hash_after);
  });
});
