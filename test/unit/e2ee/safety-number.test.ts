import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { safetyNumber } from '../../../src-main/e2ee/safety-number.ts';
import { member } from './e2ee-fixtures.ts';

describe('safety numbers', () => {
  it('are 12 groups of 5 digits, the same on both sides, and change with either key', async () => {
    const [alice, bob, eve] = await Promise.all([member('alice'), member('bob'), member('eve')]);
    const a = { parleyKey: alice.device.parleyKey, personKey: alice.device.personKey };
    const b = { parleyKey: bob.device.parleyKey, personKey: bob.device.personKey };
    const n = safetyNumber(a, b);
    expect(n).toMatch(/^\d{5}( \d{5}){11}$/);
    expect(safetyNumber(b, a)).toBe(n);
    // Another person key under bob's Parley key (a host slipping in its own device) shows another number.
    expect(safetyNumber(a, { ...b, personKey: eve.device.personKey })).not.toBe(n);
    expect(safetyNumber(a, { ...b, parleyKey: eve.device.parleyKey })).not.toBe(n);
  });

  it('matches a fixed vector (the algorithm of design16: SHA-512 of label, min, max)', () => {
    const key = (byte: number) => new Uint8Array(32).fill(byte);
    const n = safetyNumber(
      { parleyKey: key(1), personKey: key(2) },
      { parleyKey: key(3), personKey: key(4) },
    );
    // Recomputed independently with node:crypto's Buffer helpers.
    const digest = createHash('sha512')
      .update(
        Buffer.concat([Buffer.from('parley safety number v1'), key(1), key(2), key(3), key(4)]),
      )
      .digest();
    const expected = Array.from({ length: 12 }, (_, g) =>
      String(Number(digest.readUIntBE(g * 5, 5) % 100000)).padStart(5, '0'),
    ).join(' ');
    expect(n).toBe(expected);
  });
});
