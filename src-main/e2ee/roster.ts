import type { RatchetTree } from 'ts-mls';
import { encodeBase64Url } from '../../src-shared/base64url.ts';
import { parseCredential } from './device-identity.ts';

/** One device of the group, as the tree names it (all keys base64url). */
export interface RosterEntry {
  readonly leaf: number;
  readonly parleyKey: string;
  readonly personKey: string;
  /** The device key: the leaf's signature key, the `device` of the wire. */
  readonly device: string;
}

/** The leaves of a tree, in leaf order. Leaves without a Parley credential are left out. */
export function rosterOf(tree: RatchetTree): RosterEntry[] {
  const out: RosterEntry[] = [];
  for (let node = 0; node < tree.length; node += 2) {
    const entry = entryAt(tree, node / 2);
    if (entry !== undefined) out.push(entry);
  }
  return out;
}

export function entryAt(tree: RatchetTree, leaf: number): RosterEntry | undefined {
  const node = tree[leaf * 2];
  if (node?.nodeType !== 'leaf') return undefined;
  const { credential, signaturePublicKey } = node.leaf;
  if (credential.credentialType !== 'basic') return undefined;
  const parsed = parseCredential(credential.identity);
  if (parsed === undefined) return undefined;
  return {
    leaf,
    parleyKey: encodeBase64Url(parsed.parleyKey),
    personKey: encodeBase64Url(parsed.personKey),
    device: encodeBase64Url(signaturePublicKey),
  };
}
