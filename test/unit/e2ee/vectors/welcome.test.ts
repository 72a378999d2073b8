import { describe, expect, it } from 'vitest';
import { decodeMlsMessage } from 'ts-mls';
import { verifyGroupInfoConfirmationTag, verifyGroupInfoSignature } from 'ts-mls/groupInfo.js';
import { makeKeyPackageRef } from 'ts-mls/keyPackage.js';
import { decryptGroupInfo, decryptGroupSecrets } from 'ts-mls/welcome.js';
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

// Opening a Welcome step by step (RFC 9420 §12.4.3.1): find our entry by KeyPackage ref, open the
// group secrets with the init key, decrypt the GroupInfo, check its signature and confirmation tag.
const vectors = loadMlsVectors(
  'welcome.json',
  z.object({
    cipher_suite: suiteOne,
    init_priv: hexString,
    signer_pub: hexString,
    key_package: hexString,
    welcome: hexString,
  }),
);

describe.each(PROVIDERS)('MLS welcome vectors, suite 1, provider %s', (provider) => {
  it.each(vectors.map((v, i) => [i, v] as const))('entry %i', async (_i, v) => {
    const impl = await suiteOn(provider);
    const welcome = decodeMlsMessage(hex(v.welcome), 0)?.[0];
    const kp = decodeMlsMessage(hex(v.key_package), 0)?.[0];
    if (welcome?.wireformat !== 'mls_welcome' || kp?.wireformat !== 'mls_key_package') {
      throw new Error('welcome or key_package did not decode');
    }
    const w = welcome.welcome;
    const ref = await makeKeyPackageRef(kp.keyPackage, impl.hash);
    expect(w.secrets.some((s) => toHex(s.newMember) === toHex(ref))).toBe(true);

    const initKey = await impl.hpke.importPrivateKey(hex(v.init_priv));
    const secrets = await decryptGroupSecrets(initKey, ref, w, impl.hpke);
    if (secrets === undefined) throw new Error('group secrets did not open');
    const noPsk = new Uint8Array(impl.kdf.size);
    const info = await decryptGroupInfo(w, secrets.joinerSecret, noPsk, impl);
    if (info === undefined) throw new Error('group info did not decrypt');

    expect(await verifyGroupInfoSignature(info, hex(v.signer_pub), impl.signature)).toBe(true);
    expect(await verifyGroupInfoConfirmationTag(info, secrets.joinerSecret, noPsk, impl)).toBe(
      true,
    );
    // The same checks fail for a wrong joiner secret: they are not vacuous.
    expect(
      await verifyGroupInfoConfirmationTag(info, flipBit(secrets.joinerSecret), noPsk, impl),
    ).toBe(false);
  });
});
