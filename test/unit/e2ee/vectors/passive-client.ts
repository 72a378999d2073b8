import {
  acceptAll,
  bytesToBase64,
  decodeMlsMessage,
  joinGroup,
  makePskIndex,
  processMessage,
  type CiphersuiteImpl,
  type ClientState,
  type MlsPrivateMessage,
  type MlsPublicMessage,
  type RatchetTree,
} from 'ts-mls';
// The one deep import: the vectors give the ratchet tree bare (RFC 9420 §12.4.3.3), and ts-mls's
// root exports only decode whole MLSMessages. A real joiner gets the tree inside the Welcome.
import { decodeRatchetTree } from 'ts-mls/ratchetTree.js';
import { z } from 'zod';
import { hex, hexString, loadMlsVectors, suiteOne, toHex } from './mls-vectors.ts';

/** One passive-client scenario (test-vectors.md §"Passive Client Scenarios"). */
export const passiveClientVector = z.object({
  cipher_suite: suiteOne,
  external_psks: z.array(z.object({ psk_id: hexString, psk: hexString })),
  key_package: hexString,
  signature_priv: hexString,
  encryption_priv: hexString,
  init_priv: hexString,
  welcome: hexString,
  ratchet_tree: hexString.nullable(),
  initial_epoch_authenticator: hexString,
  epochs: z.array(
    z.object({
      proposals: z.array(hexString),
      commit: hexString,
      epoch_authenticator: hexString,
    }),
  ),
});
export type PassiveClientVector = z.infer<typeof passiveClientVector>;

export type PassiveClientFile =
  | 'passive-client-welcome.json'
  | 'passive-client-handling-commit.json'
  | 'passive-client-random.json';

export function loadPassiveClientVectors(file: PassiveClientFile): PassiveClientVector[] {
  return loadMlsVectors(file, passiveClientVector);
}

/** Thrown when our state's epoch authenticator differs from the one every other implementation got. */
export class EpochAuthenticatorMismatch extends Error {
  readonly epoch: number;
  constructor(epoch: number) {
    super(`epoch authenticator differs at scenario epoch ${epoch}`);
    this.epoch = epoch;
  }
}

/**
 * The check at the heart of the scenario: the epoch authenticator (RFC 9420 §8.7) is a digest of
 * the whole key schedule, so equal values mean we derived the same group secrets as the generator.
 */
export function checkEpochAuthenticator(
  state: ClientState,
  expected: Uint8Array,
  epoch: number,
): void {
  if (toHex(state.keySchedule.epochAuthenticator) !== toHex(expected)) {
    throw new EpochAuthenticatorMismatch(epoch);
  }
}

function decodeHandshake(bytes: string): MlsPublicMessage | MlsPrivateMessage {
  const decoded = decodeMlsMessage(hex(bytes), 0)?.[0];
  if (
    decoded?.wireformat === 'mls_public_message' ||
    decoded?.wireformat === 'mls_private_message'
  ) {
    return decoded;
  }
  throw new Error('a handshake message did not decode as a PublicMessage or PrivateMessage');
}

/** The scenario's key pairs belong to its KeyPackage: checked with an HPKE round trip and a signature. */
export async function keysMatchKeyPackage(
  v: PassiveClientVector,
  impl: CiphersuiteImpl,
): Promise<boolean> {
  const kp = decodeMlsMessage(hex(v.key_package), 0)?.[0];
  if (kp?.wireformat !== 'mls_key_package') return false;
  const probe = new TextEncoder().encode('parley key check');
  const hpkeMatches = async (pub: Uint8Array, priv: string): Promise<boolean> => {
    const { ct, enc } = await impl.hpke.seal(await impl.hpke.importPublicKey(pub), probe, probe);
    const opened = await impl.hpke.open(
      await impl.hpke.importPrivateKey(hex(priv)),
      enc,
      ct,
      probe,
    );
    return toHex(opened) === toHex(probe);
  };
  const signature = await impl.signature.sign(hex(v.signature_priv), probe);
  return (
    (await hpkeMatches(kp.keyPackage.initKey, v.init_priv)) &&
    (await hpkeMatches(kp.keyPackage.leafNode.hpkePublicKey, v.encryption_priv)) &&
    (await impl.signature.verify(kp.keyPackage.leafNode.signaturePublicKey, probe, signature))
  );
}

export interface ScenarioOptions {
  /** Replace the expected authenticator of this scenario epoch (0 = the join) by a corrupted one. */
  readonly corruptExpectedAt?: number;
  /** Stop after this many epochs (the noble subset of the long random scenario). */
  readonly maxEpochs?: number;
}

/**
 * Follows a group as a passive member through ts-mls's public API: joinGroup with the Welcome,
 * then processMessage for each epoch's proposals and commit. Returns how many authenticators
 * matched (1 for the join + one per epoch), so a test can see the scenario was not vacuous.
 */
export async function runPassiveClient(
  v: PassiveClientVector,
  impl: CiphersuiteImpl,
  options: ScenarioOptions = {},
): Promise<number> {
  const kp = decodeMlsMessage(hex(v.key_package), 0)?.[0];
  const welcome = decodeMlsMessage(hex(v.welcome), 0)?.[0];
  if (kp?.wireformat !== 'mls_key_package') throw new Error('key_package is not a KeyPackage');
  if (welcome?.wireformat !== 'mls_welcome') throw new Error('welcome is not a Welcome');

  let tree: RatchetTree | undefined;
  if (v.ratchet_tree !== null) {
    tree = decodeRatchetTree(hex(v.ratchet_tree), 0)?.[0];
    if (tree === undefined) throw new Error('ratchet_tree did not decode');
  }
  const psks: Record<string, Uint8Array> = {};
  for (const p of v.external_psks) psks[bytesToBase64(hex(p.psk_id))] = hex(p.psk);

  const expected = (epoch: number, value: string): Uint8Array => {
    const bytes = hex(value);
    if (options.corruptExpectedAt === epoch) bytes[0] = (bytes[0] ?? 0) ^ 0x01;
    return bytes;
  };

  let state = await joinGroup(
    welcome.welcome,
    kp.keyPackage,
    {
      initPrivateKey: hex(v.init_priv),
      hpkePrivateKey: hex(v.encryption_priv),
      signaturePrivateKey: hex(v.signature_priv),
    },
    makePskIndex(undefined, psks),
    impl,
    tree,
  );
  checkEpochAuthenticator(state, expected(0, v.initial_epoch_authenticator), 0);
  let matched = 1;

  const epochs = v.epochs.slice(0, options.maxEpochs ?? v.epochs.length);
  for (const [i, epoch] of epochs.entries()) {
    for (const message of [...epoch.proposals, epoch.commit]) {
      const result = await processMessage(
        decodeHandshake(message),
        state,
        makePskIndex(state, psks),
        acceptAll,
        impl,
      );
      if (result.kind !== 'newState')
        throw new Error('a handshake message decrypted as application data');
      state = result.newState;
    }
    checkEpochAuthenticator(state, expected(i + 1, epoch.epoch_authenticator), i + 1);
    matched += 1;
  }
  return matched;
}
