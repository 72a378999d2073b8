import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fingerprint as nobleFingerprint } from '../../../src-shared/fingerprint.ts';
import { fingerprint } from '../../../src-main/protocol/node-fingerprint.ts';

// The host hashes with node:crypto, the desktop's renderer with @noble: a person compares the two
// texts by eye, so they must be the same for every key.
describe('fingerprint with node:crypto', () => {
  it('is the text the renderer shows for the same key', () => {
    for (let i = 0; i < 200; i++) {
      const key = new Uint8Array(randomBytes(32));
      expect(fingerprint(key)).toBe(nobleFingerprint(key));
    }
  });

  it('is SHA-256 in base32, 8 groups of 4 (RFC 4648 test vector of the digest of "")', () => {
    // SHA-256("") = e3b0c442 98fc1c14 9afbf4c8 996fb924 27ae41e4 …: its first 160 bits in base32.
    expect(fingerprint(new Uint8Array(0))).toBe('4OYM IQUY 7QOB JGX3 6TEJ S35Z EQT2 4QPE');
  });
});
