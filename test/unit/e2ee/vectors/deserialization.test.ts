import { describe, expect, it } from 'vitest';
import { determineLength } from 'ts-mls/codec/variableLength.js';
import { z } from 'zod';
import { hex, hexString, loadMlsVectors } from './mls-vectors.ts';

// QUIC-style variable-length headers (RFC 9420 §2.1.2): every vector<V> in every MLS message
// starts with one. No crypto, so no provider runs here.
const vectors = loadMlsVectors(
  'deserialization.json',
  z.object({ vlbytes_header: hexString, length: z.number().int().nonnegative() }),
);

describe('MLS deserialization vectors (no crypto provider)', () => {
  it.each(vectors.map((v) => [v.vlbytes_header, v.length] as const))(
    'header %s encodes length %i',
    (header, length) => {
      expect(determineLength(hex(header)).length).toBe(length);
    },
  );
});
