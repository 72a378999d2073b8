import { decodeMlsMessage } from 'ts-mls';
import type { ContentTypeName } from 'ts-mls/contentType.js';
import { verifyLeafNodeSignatureKeyPackage } from 'ts-mls/leafNode.js';
import { verifyKeyPackage } from 'ts-mls/keyPackage.js';
import { decodeBase64Url, encodeBase64Url } from '../../src-shared/base64url.ts';
import { equalBytes } from '../../src-shared/equal-bytes.ts';
import { MAX_MLS_TEXT } from '../protocol/wire/constants.ts';
import { parseCredential, verifyCredential } from './device-identity.ts';
import { decodeKeyPackageText } from './key-packages.ts';
import { SUITE_NAME, type MlsSuite } from './mls-suite.ts';

/**
 * What the host (the MLS Delivery Service) may read of what it relays: public headers and
 * KeyPackages. Nothing here needs or sees a secret; every input is a stranger's and nothing
 * here throws on it.
 */

export interface MessageHeader {
  readonly wire: 'private' | 'public' | 'welcome' | 'key-package';
  /** base64url of the MLS group id (private and public messages). */
  readonly groupId?: string;
  readonly epoch?: number;
  readonly content?: 'application' | 'commit' | 'proposal';
}

/**
 * The header of an MLSMessage, or undefined for anything that is not one we relay. The message is
 * decoded whole by ts-mls's TLS decoders (a PrivateMessage is a few length-prefixed fields: no
 * cost to speak of) and must fill the input exactly: a truncated or padded message is refused
 * here rather than relayed to every member. A commit the host accepts moves the room's epoch for
 * every member, so it must at least be well-formed.
 */
export function inspectMessage(data: string): MessageHeader | undefined {
  if (typeof data !== 'string' || data.length > MAX_MLS_TEXT) return undefined;
  const bytes = decodeBase64Url(data);
  if (bytes === undefined) return undefined;
  try {
    const whole = decodeMlsMessage(bytes, 0);
    if (whole === undefined || whole[1] !== bytes.length || whole[0].version !== 'mls10') {
      return undefined;
    }
    const message = whole[0];
    switch (message.wireformat) {
      case 'mls_private_message': {
        const pm = message.privateMessage;
        return header('private', pm.groupId, pm.epoch, pm.contentType);
      }
      case 'mls_public_message': {
        const content = message.publicMessage.content;
        return header('public', content.groupId, content.epoch, content.contentType);
      }
      case 'mls_welcome':
        return { wire: 'welcome' };
      case 'mls_key_package':
        return { wire: 'key-package' };
      default:
        return undefined;
    }
  } catch {
    return undefined;
  }
}

function header(
  wire: 'private' | 'public',
  groupId: Uint8Array,
  epoch: bigint,
  content: ContentTypeName,
): MessageHeader | undefined {
  const epochNumber = safeNumber(epoch);
  if (epochNumber === undefined) return undefined;
  return {
    wire,
    groupId: encodeBase64Url(groupId),
    epoch: epochNumber,
    content: contentName(content),
  };
}

function contentName(type: ContentTypeName): 'application' | 'commit' | 'proposal' {
  return type;
}

function safeNumber(value: bigint): number | undefined {
  return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : undefined;
}

/** The longest lifetime a KeyPackage may still have ahead of it (ours have 60 days). */
export const MAX_KEY_PACKAGE_LIFETIME_S = 90 * 24 * 3600;
/** How far a KeyPackage's start may be ahead of the host's clock. */
const CLOCK_SKEW_S = 3600;

export type KeyPackageCheck = { ok: true } | { ok: false; reason: string };

/**
 * Whether a KeyPackage may be stored for this connection (`kp-publish`): suite 1, valid
 * signatures, a Parley credential naming this connection's key and hello's device, signed by its
 * person, and a lifetime that has started, has not ended and ends within 90 days.
 */
export async function checkKeyPackage(
  suite: MlsSuite,
  data: string,
  expect: { parleyKey: Uint8Array; device: string; now: number },
): Promise<KeyPackageCheck> {
  const kp = typeof data === 'string' ? decodeKeyPackageText(data) : undefined;
  if (kp === undefined) return refuse('not a KeyPackage');
  if (kp.version !== 'mls10' || kp.cipherSuite !== SUITE_NAME) return refuse('not cipher suite 1');
  const leaf = kp.leafNode;
  if (leaf.leafNodeSource !== 'key_package') return refuse('not a KeyPackage leaf');
  if (leaf.credential.credentialType !== 'basic') return refuse('not a Parley credential');
  const parsed = parseCredential(leaf.credential.identity);
  if (parsed === undefined) return refuse('not a Parley credential');
  if (!equalBytes(parsed.parleyKey, expect.parleyKey)) return refuse('another Parley key');
  if (encodeBase64Url(leaf.signaturePublicKey) !== expect.device) return refuse('another device');
  if (!verifyCredential(parsed, leaf.signaturePublicKey)) {
    return refuse('the credential is not signed by its person');
  }
  const now = BigInt(Math.floor(expect.now / 1000));
  if (leaf.lifetime.notAfter < now) return refuse('expired');
  if (leaf.lifetime.notBefore > now + BigInt(CLOCK_SKEW_S)) return refuse('not valid yet');
  if (leaf.lifetime.notAfter - now > BigInt(MAX_KEY_PACKAGE_LIFETIME_S)) {
    return refuse('valid for more than 90 days');
  }
  if (equalBytes(kp.initKey, leaf.hpkePublicKey)) return refuse('init key reused as leaf key');
  try {
    if (!(await verifyLeafNodeSignatureKeyPackage(leaf, suite.impl.signature))) {
      return refuse('bad leaf signature');
    }
    if (!(await verifyKeyPackage(kp, suite.impl.signature))) return refuse('bad signature');
  } catch {
    return refuse('bad signature');
  }
  return { ok: true };
}

function refuse(reason: string): KeyPackageCheck {
  return { ok: false, reason };
}
