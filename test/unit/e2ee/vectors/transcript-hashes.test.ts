import { describe, expect, it } from 'vitest';
import { decodeAuthenticatedContent } from 'ts-mls/authenticatedContent.js';
import { createConfirmedHash, createInterimHash } from 'ts-mls/transcriptHash.js';
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

// Transcript hashes (RFC 9420 §8.2) chain every commit into the group context, so members who
// saw different commit histories end up in different groups rather than in a silent split.
const vectors = loadMlsVectors(
  'transcript-hashes.json',
  z.object({
    cipher_suite: suiteOne,
    confirmation_key: hexString,
    authenticated_content: hexString,
    interim_transcript_hash_before: hexString,
    confirmed_transcript_hash_after: hexString,
    interim_transcript_hash_after: hexString,
  }),
);

describe.each(PROVIDERS)('MLS transcript-hashes vectors, suite 1, provider %s', (provider) => {
  it.each(vectors.map((v, i) => [i, v] as const))('entry %i', async (_i, v) => {
    const { hash } = await suiteOn(provider);
    const decoded = decodeAuthenticatedContent(hex(v.authenticated_content), 0)?.[0];
    if (decoded?.content.contentType !== 'commit' || decoded.auth.contentType !== 'commit') {
      throw new Error('authenticated_content is not a commit');
    }
    const tag = decoded.auth.confirmationTag;
    const confirmedAfter = hex(v.confirmed_transcript_hash_after);
    expect(await hash.verifyMac(hex(v.confirmation_key), tag, confirmedAfter)).toBe(true);
    expect(await hash.verifyMac(hex(v.confirmation_key), flipBit(tag), confirmedAfter)).toBe(false);

    const input = {
      wireformat: decoded.wireformat,
      content: decoded.content,
      signature: decoded.auth.signature,
    };
    expect(
      toHex(await createConfirmedHash(hex(v.interim_transcript_hash_before), input, hash)),
    ).toBe(v.confirmed_transcript_hash_after);
    expect(toHex(await createInterimHash(confirmedAfter, tag, hash))).toBe(
      v.interim_transcript_hash_after,
    );
  });
});
