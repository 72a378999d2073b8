import { describe, expect, it } from 'vitest';
import {
  decodeMlsMessage,
  defaultCapabilities,
  defaultKeyRetentionConfig,
  defaultPaddingConfig,
  type CiphersuiteImpl,
  type GroupContext,
  type PrivateMessage,
  type PublicMessage,
  type RatchetTree,
} from 'ts-mls';
import type { AuthenticatedContent } from 'ts-mls/authenticatedContent.js';
import { decodeCommit, encodeCommit } from 'ts-mls/commit.js';
import { createContentCommitSignature } from 'ts-mls/framedContent.js';
import {
  protect,
  protectApplicationData,
  protectProposal,
  unprotectPrivateMessage,
} from 'ts-mls/messageProtection.js';
import {
  protectProposalPublic,
  protectPublicMessage,
  unprotectPublicMessage,
} from 'ts-mls/messageProtectionPublic.js';
import { CryptoVerificationError, UsageError } from 'ts-mls/mlsError.js';
import { decodeProposal, encodeProposal } from 'ts-mls/proposal.js';
import { createSecretTree } from 'ts-mls/secretTree.js';
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

// Message protection (RFC 9420 §6): PublicMessage (signed + membership tag, how Parley sends
// commits so the host can read the epoch) and PrivateMessage (encrypted, how Parley sends chat
// messages). Sender is leaf 1 of a two-member group throughout, as the vector file prescribes.
const v = onlyEntry(
  loadMlsVectors(
    'message-protection.json',
    z.object({
      cipher_suite: suiteOne,
      group_id: hexString,
      epoch: z.number().int().nonnegative(),
      tree_hash: hexString,
      confirmed_transcript_hash: hexString,
      signature_priv: hexString,
      signature_pub: hexString,
      encryption_secret: hexString,
      sender_data_secret: hexString,
      membership_key: hexString,
      proposal: hexString,
      proposal_pub: hexString,
      proposal_priv: hexString,
      commit: hexString,
      commit_pub: hexString,
      commit_priv: hexString,
      application: hexString,
      application_priv: hexString,
    }),
  ),
);

const SENDER = 1;
const context: GroupContext = {
  version: 'mls10',
  cipherSuite: 'MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519',
  groupId: hex(v.group_id),
  epoch: BigInt(v.epoch),
  treeHash: hex(v.tree_hash),
  confirmedTranscriptHash: hex(v.confirmed_transcript_hash),
  extensions: [],
};

// ts-mls checks that the sender's leaf exists before it uses the vector's signature key, so
// leaf 1 gets a placeholder (its keys are never read: the vector's signature_pub overrides them).
const twoLeafTree: RatchetTree = [
  undefined,
  undefined,
  {
    nodeType: 'leaf',
    leaf: {
      leafNodeSource: 'commit',
      hpkePublicKey: new Uint8Array(),
      signaturePublicKey: new Uint8Array(),
      capabilities: defaultCapabilities(),
      parentHash: new Uint8Array(),
      extensions: [],
      signature: new Uint8Array(),
      credential: { credentialType: 'basic', identity: new Uint8Array() },
    },
  },
];

const proposal = () => {
  const p = decodeProposal(hex(v.proposal), 0)?.[0];
  if (p === undefined) throw new Error('proposal did not decode');
  return p;
};
const commit = () => {
  const c = decodeCommit(hex(v.commit), 0)?.[0];
  if (c === undefined) throw new Error('commit did not decode');
  return c;
};
const publicMessage = (s: string): PublicMessage => {
  const m = decodeMlsMessage(hex(s), 0)?.[0];
  if (m?.wireformat !== 'mls_public_message') throw new Error('not a PublicMessage');
  return m.publicMessage;
};
const privateMessage = (s: string): PrivateMessage => {
  const m = decodeMlsMessage(hex(s), 0)?.[0];
  if (m?.wireformat !== 'mls_private_message') throw new Error('not a PrivateMessage');
  return m.privateMessage;
};

const unprotectPublic = async (msg: PublicMessage, impl: CiphersuiteImpl) =>
  (
    await unprotectPublicMessage(
      hex(v.membership_key),
      context,
      [],
      msg,
      impl,
      hex(v.signature_pub),
    )
  ).content;

/** Opens a PrivateMessage with a fresh two-member secret tree; returns the framed content. */
const unprotectPrivate = async (msg: PrivateMessage, impl: CiphersuiteImpl) => {
  const secretTree = await createSecretTree(2, hex(v.encryption_secret), impl.kdf);
  const result = await unprotectPrivateMessage(
    hex(v.sender_data_secret),
    msg,
    secretTree,
    twoLeafTree,
    context,
    defaultKeyRetentionConfig,
    impl,
    hex(v.signature_pub),
  );
  return result.content.content;
};

/** What the raw value inside a framed content encodes to, for comparison with the vector. */
function rawBytes(content: AuthenticatedContent['content']): string {
  switch (content.contentType) {
    case 'proposal':
      return toHex(encodeProposal(content.proposal));
    case 'commit':
      return toHex(encodeCommit(content.commit));
    case 'application':
      return toHex(content.applicationData);
  }
}

async function signedCommit(
  impl: CiphersuiteImpl,
  wireformat: 'mls_public_message' | 'mls_private_message',
) {
  const { framedContent, signature } = await createContentCommitSignature(
    context,
    wireformat,
    commit(),
    { senderType: 'member', leafIndex: SENDER },
    new Uint8Array(),
    hex(v.signature_priv),
    impl.signature,
  );
  // The confirmation tag is not checked by message protection; any MAC-sized value will do.
  const confirmationTag = new Uint8Array(32).fill(7);
  return { framedContent, auth: { contentType: 'commit' as const, signature, confirmationTag } };
}

describe.each(PROVIDERS)('MLS message-protection vector, suite 1, provider %s', (provider) => {
  it('opens the PublicMessage proposal and commit of the vector', async () => {
    const impl = await suiteOn(provider);
    expect(rawBytes(await unprotectPublic(publicMessage(v.proposal_pub), impl))).toBe(v.proposal);
    expect(rawBytes(await unprotectPublic(publicMessage(v.commit_pub), impl))).toBe(v.commit);
  });

  it('refuses the PublicMessage commit with a flipped membership tag', async () => {
    const impl = await suiteOn(provider);
    const msg = publicMessage(v.commit_pub);
    if (msg.senderType !== 'member') throw new Error('the vector commit has no membership tag');
    await expect(
      unprotectPublic({ ...msg, membershipTag: flipBit(msg.membershipTag) }, impl),
    ).rejects.toThrow(CryptoVerificationError);
  });

  it('protects its own PublicMessage proposal and commit, and opens them', async () => {
    const impl = await suiteOn(provider);
    const p = await protectProposalPublic(
      hex(v.signature_priv),
      hex(v.membership_key),
      context,
      new Uint8Array(),
      proposal(),
      SENDER,
      impl,
    );
    expect(rawBytes(await unprotectPublic(p.publicMessage, impl))).toBe(v.proposal);

    const { framedContent, auth } = await signedCommit(impl, 'mls_public_message');
    const c = await protectPublicMessage(
      hex(v.membership_key),
      context,
      { wireformat: 'mls_public_message', content: framedContent, auth },
      impl,
    );
    expect(rawBytes(await unprotectPublic(c, impl))).toBe(v.commit);
  });

  it('refuses to send application data as a PublicMessage', async () => {
    const impl = await suiteOn(provider);
    const secretTree = await createSecretTree(2, hex(v.encryption_secret), impl.kdf);
    const opened = await unprotectPrivateMessage(
      hex(v.sender_data_secret),
      privateMessage(v.application_priv),
      secretTree,
      twoLeafTree,
      context,
      defaultKeyRetentionConfig,
      impl,
      hex(v.signature_pub),
    );
    const content: AuthenticatedContent = { ...opened.content, wireformat: 'mls_public_message' };
    await expect(
      protectPublicMessage(hex(v.membership_key), context, content, impl),
    ).rejects.toThrow(UsageError);
  });

  it('opens the PrivateMessage proposal, commit and application data of the vector', async () => {
    const impl = await suiteOn(provider);
    expect(rawBytes(await unprotectPrivate(privateMessage(v.proposal_priv), impl))).toBe(
      v.proposal,
    );
    expect(rawBytes(await unprotectPrivate(privateMessage(v.commit_priv), impl))).toBe(v.commit);
    expect(rawBytes(await unprotectPrivate(privateMessage(v.application_priv), impl))).toBe(
      v.application,
    );
  });

  it('refuses the PrivateMessage application data with one ciphertext bit flipped', async () => {
    const impl = await suiteOn(provider);
    const msg = privateMessage(v.application_priv);
    await expect(
      unprotectPrivate({ ...msg, ciphertext: flipBit(msg.ciphertext, 5) }, impl),
    ).rejects.toThrow();
  });

  it('protects its own PrivateMessage proposal, commit and application data, and opens them', async () => {
    const impl = await suiteOn(provider);
    const tree = () => createSecretTree(2, hex(v.encryption_secret), impl.kdf);
    const sdSecret = hex(v.sender_data_secret);
    const none = new Uint8Array();

    const p = await protectProposal(
      hex(v.signature_priv),
      sdSecret,
      proposal(),
      none,
      context,
      await tree(),
      SENDER,
      defaultPaddingConfig,
      impl,
    );
    expect(rawBytes(await unprotectPrivate(p.privateMessage, impl))).toBe(v.proposal);

    const { framedContent, auth } = await signedCommit(impl, 'mls_private_message');
    const c = await protect(
      sdSecret,
      none,
      context,
      await tree(),
      { ...framedContent, auth },
      SENDER,
      defaultPaddingConfig,
      impl,
    );
    expect(rawBytes(await unprotectPrivate(c.privateMessage, impl))).toBe(v.commit);

    const a = await protectApplicationData(
      hex(v.signature_priv),
      sdSecret,
      hex(v.application),
      none,
      context,
      await tree(),
      SENDER,
      defaultPaddingConfig,
      impl,
    );
    expect(rawBytes(await unprotectPrivate(a.privateMessage, impl))).toBe(v.application);
  });
});
