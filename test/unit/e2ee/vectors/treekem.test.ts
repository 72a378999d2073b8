import { describe, expect, it } from 'vitest';
import type { CiphersuiteImpl, GroupContext, PrivateKeyPath, RatchetTree } from 'ts-mls';
import { applyUpdatePathSecret } from 'ts-mls/createCommit.js';
import { deriveSecret } from 'ts-mls/crypto/kdf.js';
import { verifyParentHashes } from 'ts-mls/parentHash.js';
import { getCommitSecret, type PathSecrets } from 'ts-mls/pathSecrets.js';
import { toPrivateKeyPath } from 'ts-mls/privateKeyPath.js';
import { decodeRatchetTree, getHpkePublicKey } from 'ts-mls/ratchetTree.js';
import { treeHashRoot } from 'ts-mls/treeHash.js';
import { leafToNodeIndex, toLeafIndex } from 'ts-mls/treemath.js';
import {
  applyUpdatePath,
  createUpdatePath,
  decodeUpdatePath,
  type UpdatePath,
} from 'ts-mls/updatePath.js';
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

// TreeKEM (RFC 9420 §7.4–7.6): every member decrypts the committer's path secret from an
// UpdatePath and reaches the same commit secret; and a path ts-mls creates is decrypted the
// same way. This is what makes a removed device unable to read the next epoch.
const vectors = loadMlsVectors(
  'treekem.json',
  z.object({
    cipher_suite: suiteOne,
    group_id: hexString,
    epoch: z.number().int().nonnegative(),
    confirmed_transcript_hash: hexString,
    ratchet_tree: hexString,
    leaves_private: z.array(
      z.object({
        index: z.number().int().nonnegative(),
        encryption_priv: hexString,
        signature_priv: hexString,
        path_secrets: z.array(
          z.object({ node: z.number().int().nonnegative(), path_secret: hexString }),
        ),
      }),
    ),
    update_paths: z.array(
      z.object({
        sender: z.number().int().nonnegative(),
        update_path: hexString,
        path_secrets: z.array(hexString.nullable()),
        commit_secret: hexString,
        tree_hash_after: hexString,
      }),
    ),
  }),
);
type Vector = (typeof vectors)[number];

/** Each listed leaf's private state: its leaf key plus the node keys derived from its path secrets. */
async function privateStates(
  v: Vector,
  tree: RatchetTree,
  impl: CiphersuiteImpl,
): Promise<PrivateKeyPath[]> {
  const states: PrivateKeyPath[] = [];
  for (const leaf of v.leaves_private) {
    const secrets: PathSecrets = {};
    for (const p of leaf.path_secrets) secrets[p.node] = hex(p.path_secret);
    // Consistent with the public tree: each node key derived from a path secret is the tree's key.
    for (const [node, secret] of Object.entries(secrets)) {
      const { publicKey } = await impl.hpke.deriveKeyPair(
        await deriveSecret(secret, 'node', impl.kdf),
      );
      const treeNode = tree[Number(node)];
      if (treeNode === undefined)
        throw new Error(`leaf ${leaf.index} has a secret for blank node ${node}`);
      expect(toHex(await impl.hpke.exportPublicKey(publicKey))).toBe(
        toHex(getHpkePublicKey(treeNode)),
      );
    }
    const path = await toPrivateKeyPath(secrets, leaf.index, impl);
    const leafNode = leafToNodeIndex(toLeafIndex(leaf.index));
    states.push({
      ...path,
      privateKeys: { ...path.privateKeys, [leafNode]: hex(leaf.encryption_priv) },
    });
  }
  return states;
}

/** What member `state` derives from `path`: the path secret it decrypts and the commit secret. */
async function receive(
  tree: RatchetTree,
  state: PrivateKeyPath,
  sender: number,
  context: GroupContext,
  path: UpdatePath,
  impl: CiphersuiteImpl,
) {
  const got = await applyUpdatePathSecret(
    tree,
    state,
    toLeafIndex(sender),
    context,
    path,
    [],
    impl,
  );
  return {
    pathSecret: toHex(got.pathSecret),
    commitSecret: toHex(await getCommitSecret(tree, got.nodeIndex, got.pathSecret, impl.kdf)),
  };
}

describe.each(PROVIDERS)('MLS treekem vectors, suite 1, provider %s', (provider) => {
  it.each(vectors.map((v, i) => [i, v.leaves_private.length, v.update_paths.length, v] as const))(
    'tree %i: %i members each decrypt %i update paths, theirs and ours',
    async (_i, _m, _p, v) => {
      const impl = await suiteOn(provider);
      const tree = decodeRatchetTree(hex(v.ratchet_tree), 0)?.[0];
      if (tree === undefined) throw new Error('ratchet_tree did not decode');
      const context: GroupContext = {
        version: 'mls10',
        cipherSuite: 'MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519',
        groupId: hex(v.group_id),
        epoch: BigInt(v.epoch),
        treeHash: await treeHashRoot(tree, impl.hash),
        confirmedTranscriptHash: hex(v.confirmed_transcript_hash),
        extensions: [],
      };
      const members = await privateStates(v, tree, impl);
      let decrypted = 0;

      for (const up of v.update_paths) {
        const path = decodeUpdatePath(hex(up.update_path), 0)?.[0];
        if (path === undefined) throw new Error('update_path did not decode');
        const merged = await applyUpdatePath(tree, toLeafIndex(up.sender), path, impl.hash);
        expect(await verifyParentHashes(merged, impl.hash)).toBe(true);
        expect(toHex(await treeHashRoot(merged, impl.hash))).toBe(up.tree_hash_after);
        const afterContext = { ...context, treeHash: hex(up.tree_hash_after) };

        // Our own UpdatePath from the same sender, decrypted by the same members.
        const sender = v.leaves_private.find((l) => l.index === up.sender);
        if (sender === undefined) throw new Error(`no private state for sender ${up.sender}`);
        const [ours, ourPath, ourSecrets] = await createUpdatePath(
          tree,
          toLeafIndex(up.sender),
          context,
          hex(sender.signature_priv),
          impl,
        );
        const rootSecret = ourSecrets.at(-1);
        if (rootSecret === undefined) throw new Error('our update path has no secrets');
        const ourCommitSecret = toHex(await deriveSecret(rootSecret.secret, 'path', impl.kdf));
        const ourContext = {
          ...context,
          epoch: context.epoch + 1n,
          treeHash: await treeHashRoot(ours, impl.hash),
        };

        for (const member of members) {
          if (member.leafIndex === up.sender) {
            expect(up.path_secrets[member.leafIndex]).toBeNull();
            continue;
          }
          expect(await receive(tree, member, up.sender, afterContext, path, impl)).toEqual({
            pathSecret: up.path_secrets[member.leafIndex],
            commitSecret: up.commit_secret,
          });
          const fromOurs = await receive(tree, member, up.sender, ourContext, ourPath, impl);
          expect(fromOurs.commitSecret).toBe(ourCommitSecret);
          decrypted += 1;
        }
      }
      expect(decrypted).toBeGreaterThan(0);
    },
    20_000,
  );

  it('a member cannot open an update path under a different group context', async () => {
    const impl = await suiteOn(provider);
    const v = vectors.find((x) => x.update_paths.length > 0 && x.leaves_private.length > 1)!;
    const tree = decodeRatchetTree(hex(v.ratchet_tree), 0)?.[0];
    const up = v.update_paths[0]!;
    const path = decodeUpdatePath(hex(up.update_path), 0)?.[0];
    if (tree === undefined || path === undefined) throw new Error('vector did not decode');
    const members = await privateStates(v, tree, impl);
    const receiver = members.find((m) => m.leafIndex !== up.sender)!;
    const wrong: GroupContext = {
      version: 'mls10',
      cipherSuite: 'MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519',
      groupId: hex(v.group_id),
      epoch: BigInt(v.epoch),
      treeHash: flipBit(hex(up.tree_hash_after)),
      confirmedTranscriptHash: hex(v.confirmed_transcript_hash),
      extensions: [],
    };
    await expect(receive(tree, receiver, up.sender, wrong, path, impl)).rejects.toThrow();
  });
});
