import { describe, expect, it } from 'vitest';
import { encodeGroupContext, type GroupContext } from 'ts-mls/groupContext.js';
import { initializeEpoch, mlsExporter } from 'ts-mls/keySchedule.js';
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

// The key schedule (RFC 9420 §8) over consecutive epochs: each epoch's secrets (sender data,
// encryption, exporter, confirmation, membership, resumption, epoch authenticator) from the
// previous init secret, the commit secret, the PSK secret and the group context.
const epoch = z.object({
  tree_hash: hexString,
  commit_secret: hexString,
  psk_secret: hexString,
  confirmed_transcript_hash: hexString,
  group_context: hexString,
  joiner_secret: hexString,
  welcome_secret: hexString,
  init_secret: hexString,
  sender_data_secret: hexString,
  encryption_secret: hexString,
  exporter_secret: hexString,
  epoch_authenticator: hexString,
  external_secret: hexString,
  confirmation_key: hexString,
  membership_key: hexString,
  resumption_psk: hexString,
  external_pub: hexString,
  exporter: z.object({
    label: z.string(),
    context: hexString,
    length: z.number().int(),
    secret: hexString,
  }),
});
const vectors = loadMlsVectors(
  'key-schedule.json',
  z.object({
    cipher_suite: suiteOne,
    group_id: hexString,
    initial_init_secret: hexString,
    epochs: z.array(epoch).min(1),
  }),
);

describe.each(PROVIDERS)('MLS key-schedule vectors, suite 1, provider %s', (provider) => {
  it.each(vectors.map((v) => [v.epochs.length, v] as const))('%i chained epochs', async (_n, v) => {
    const impl = await suiteOn(provider);
    let initSecret = hex(v.initial_init_secret);
    for (const [i, e] of v.epochs.entries()) {
      const context: GroupContext = {
        version: 'mls10',
        cipherSuite: 'MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519',
        groupId: hex(v.group_id),
        epoch: BigInt(i),
        treeHash: hex(e.tree_hash),
        confirmedTranscriptHash: hex(e.confirmed_transcript_hash),
        extensions: [],
      };
      expect(toHex(encodeGroupContext(context))).toBe(e.group_context);
      const out = await initializeEpoch(
        initSecret,
        hex(e.commit_secret),
        context,
        hex(e.psk_secret),
        impl.kdf,
      );
      const ks = out.keySchedule;
      expect({
        joiner_secret: toHex(out.joinerSecret),
        welcome_secret: toHex(out.welcomeSecret),
        init_secret: toHex(ks.initSecret),
        sender_data_secret: toHex(ks.senderDataSecret),
        encryption_secret: toHex(out.encryptionSecret),
        exporter_secret: toHex(ks.exporterSecret),
        epoch_authenticator: toHex(ks.epochAuthenticator),
        external_secret: toHex(ks.externalSecret),
        confirmation_key: toHex(ks.confirmationKey),
        membership_key: toHex(ks.membershipKey),
        resumption_psk: toHex(ks.resumptionPsk),
      }).toEqual({
        joiner_secret: e.joiner_secret,
        welcome_secret: e.welcome_secret,
        init_secret: e.init_secret,
        sender_data_secret: e.sender_data_secret,
        encryption_secret: e.encryption_secret,
        exporter_secret: e.exporter_secret,
        epoch_authenticator: e.epoch_authenticator,
        external_secret: e.external_secret,
        confirmation_key: e.confirmation_key,
        membership_key: e.membership_key,
        resumption_psk: e.resumption_psk,
      });
      const { publicKey } = await impl.hpke.deriveKeyPair(hex(e.external_secret));
      expect(toHex(await impl.hpke.exportPublicKey(publicKey))).toBe(e.external_pub);
      const x = e.exporter;
      expect(
        toHex(await mlsExporter(ks.exporterSecret, x.label, hex(x.context), x.length, impl)),
      ).toBe(x.secret);
      initSecret = ks.initSecret;
    }
  });
});
