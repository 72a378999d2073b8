import { afterEach, describe, expect, it } from 'vitest';
import { ensureNgircd } from '../../../bench/ngircd.ts';

// When ngircd cannot be had, the bench must say why and go on ("not measured"), never crash.

describe('ensureNgircd', () => {
  const before = process.env.PARLEY_BENCH_NGIRCD;
  afterEach(() => {
    if (before === undefined) delete process.env.PARLEY_BENCH_NGIRCD;
    else process.env.PARLEY_BENCH_NGIRCD = before;
  });

  it('gives a reason instead of a binary when the chosen ngircd does not exist', () => {
    process.env.PARLEY_BENCH_NGIRCD = '/nonexistent/ngircd';
    expect(ensureNgircd()).toEqual({
      reason: 'PARLEY_BENCH_NGIRCD=/nonexistent/ngircd does not exist',
    });
  });

  it('gives a reason when the chosen binary is not ngircd', () => {
    process.env.PARLEY_BENCH_NGIRCD = '/bin/true';
    expect(ensureNgircd()).toEqual({ reason: '/bin/true --version did not answer' });
  });
});
