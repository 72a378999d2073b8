import { describe, expect, it } from 'vitest';
import { decodeMlsMessage, encodeMlsMessage, type Decoder, type Encoder } from 'ts-mls';
import { decodeCommit, encodeCommit } from 'ts-mls/commit.js';
import { decodeGroupSecrets, encodeGroupSecrets } from 'ts-mls/groupSecrets.js';
import {
  decodeAdd,
  decodeExternalInit,
  decodeGroupContextExtensions,
  decodePSK,
  decodeReinit,
  decodeRemove,
  decodeUpdate,
  encodeAdd,
  encodeExternalInit,
  encodeGroupContextExtensions,
  encodePSK,
  encodeReinit,
  encodeRemove,
  encodeUpdate,
} from 'ts-mls/proposal.js';
import { CodecError } from 'ts-mls/mlsError.js';
import { decodeRatchetTree, encodeRatchetTree } from 'ts-mls/ratchetTree.js';
import { z } from 'zod';
import { hex, hexString, loadMlsVectors, toHex } from './mls-vectors.ts';

// Every wire structure decodes and re-encodes to the same bytes (RFC 9420 encodings, written by
// other implementations). The host inspects and the client decodes exactly these structures.
// No crypto, so no provider runs here. The copy keeps the first 30 of the 300 entries (README).
const FIELDS = [
  'mls_welcome',
  'mls_group_info',
  'mls_key_package',
  'ratchet_tree',
  'group_secrets',
  'add_proposal',
  'update_proposal',
  'remove_proposal',
  'pre_shared_key_proposal',
  're_init_proposal',
  'external_init_proposal',
  'group_context_extensions_proposal',
  'commit',
  'public_message_application',
  'public_message_proposal',
  'public_message_commit',
  'private_message',
] as const;
type Field = (typeof FIELDS)[number];

const vectors = loadMlsVectors(
  'messages.json',
  z.object(
    Object.fromEntries(FIELDS.map((f) => [f, hexString])) as Record<Field, typeof hexString>,
  ),
);

/**
 * Decodes, checks every byte was consumed, and re-encodes; undefined when decoding fails.
 * ts-mls 1.6.4 signals bad input both ways, by returning undefined and by throwing CodecError
 * ("Data length exceeds buffer" for a truncated vector): callers must handle both.
 */
function roundTrip<T>(dec: Decoder<T>, enc: Encoder<T>, check: (t: T) => boolean = () => true) {
  return (bytes: Uint8Array): string | undefined => {
    let decoded: [T, number] | undefined;
    try {
      decoded = dec(bytes, 0);
    } catch (e) {
      if (e instanceof CodecError) return undefined;
      throw e;
    }
    if (decoded === undefined || decoded[1] !== bytes.length || !check(decoded[0]))
      return undefined;
    return toHex(enc(decoded[0]));
  };
}

const mlsMessage = (wireformat: string, contentType?: string) =>
  roundTrip(decodeMlsMessage, encodeMlsMessage, (m) => {
    if (m.wireformat !== wireformat) return false;
    return (
      contentType === undefined ||
      (m.wireformat === 'mls_public_message' && m.publicMessage.content.contentType === contentType)
    );
  });

const CODECS: Record<Field, (bytes: Uint8Array) => string | undefined> = {
  mls_welcome: mlsMessage('mls_welcome'),
  mls_group_info: mlsMessage('mls_group_info'),
  mls_key_package: mlsMessage('mls_key_package'),
  ratchet_tree: roundTrip(decodeRatchetTree, encodeRatchetTree),
  group_secrets: roundTrip(decodeGroupSecrets, encodeGroupSecrets),
  add_proposal: roundTrip(decodeAdd, encodeAdd),
  update_proposal: roundTrip(decodeUpdate, encodeUpdate),
  remove_proposal: roundTrip(decodeRemove, encodeRemove),
  pre_shared_key_proposal: roundTrip(decodePSK, encodePSK),
  re_init_proposal: roundTrip(decodeReinit, encodeReinit),
  external_init_proposal: roundTrip(decodeExternalInit, encodeExternalInit),
  group_context_extensions_proposal: roundTrip(
    decodeGroupContextExtensions,
    encodeGroupContextExtensions,
  ),
  commit: roundTrip(decodeCommit, encodeCommit),
  public_message_application: mlsMessage('mls_public_message', 'application'),
  public_message_proposal: mlsMessage('mls_public_message', 'proposal'),
  public_message_commit: mlsMessage('mls_public_message', 'commit'),
  private_message: mlsMessage('mls_private_message'),
};

describe('MLS messages vectors (no crypto provider)', () => {
  it.each(vectors.map((v, i) => [i, v] as const))(
    'entry %i: all 17 structures round-trip byte for byte',
    (_i, v) => {
      for (const field of FIELDS) {
        expect({ field, bytes: CODECS[field](hex(v[field])) }).toEqual({ field, bytes: v[field] });
      }
    },
  );

  it('decodeMlsMessage ignores trailing bytes, so a caller must compare the length it consumed', () => {
    const bytes = hex(vectors[0]!.private_message);
    const padded = new Uint8Array([...bytes, 0]);
    expect(decodeMlsMessage(padded, 0)?.[1]).toBe(bytes.length);
    expect(CODECS.private_message(padded)).toBeUndefined();
  });

  it.each(FIELDS)('refuses a %s cut short by one byte', (field) => {
    const bytes = hex(vectors[0]![field]);
    expect(CODECS[field](bytes.subarray(0, bytes.length - 1))).toBeUndefined();
  });
});
