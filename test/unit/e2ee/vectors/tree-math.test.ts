import { describe, expect, it } from 'vitest';
import { InternalError } from 'ts-mls/mlsError.js';
import { left, nodeWidth, parent, right, root, sibling, toNodeIndex } from 'ts-mls/treemath.js';
import { z } from 'zod';
import { loadMlsVectors } from './mls-vectors.ts';

// Tree math has no crypto, so no provider runs here: it is the index arithmetic every tree
// operation (who encrypts to whom in a commit) rests on.
const maybeIndex = z.number().int().nonnegative().nullable();
const vectors = loadMlsVectors(
  'tree-math.json',
  z.object({
    n_leaves: z.number().int().positive(),
    n_nodes: z.number().int().positive(),
    root: z.number().int().nonnegative(),
    left: z.array(maybeIndex),
    right: z.array(maybeIndex),
    parent: z.array(maybeIndex),
    sibling: z.array(maybeIndex),
  }),
);

/** The function's answer, or null where ts-mls says the node has none (a leaf's child, the root's parent). */
function orNull(f: () => number): number | null {
  try {
    return f();
  } catch (e) {
    if (e instanceof InternalError) return null;
    throw e;
  }
}

describe('MLS tree-math vectors (no crypto provider)', () => {
  it.each(vectors.map((v) => [v.n_leaves, v] as const))('%i leaves', (_n, v) => {
    expect(nodeWidth(v.n_leaves)).toBe(v.n_nodes);
    expect(root(v.n_leaves)).toBe(v.root);
    const nodes = [...Array(v.n_nodes).keys()].map(toNodeIndex);
    expect(nodes.map((i) => orNull(() => left(i)))).toEqual(v.left);
    expect(nodes.map((i) => orNull(() => right(i)))).toEqual(v.right);
    expect(nodes.map((i) => orNull(() => parent(i, v.n_leaves)))).toEqual(v.parent);
    expect(nodes.map((i) => orNull(() => sibling(i, v.n_leaves)))).toEqual(v.sibling);
  });
});
