import { describe, expect, it } from 'vitest';
import { parseServeArgs } from '../../../src-main/cli/serve-command.ts';
import { UsageError } from '../../../src-main/cli/usage-error.ts';
import { HostInfo } from '../../../src-main/protocol/wire/messages.ts';
import { decodeMessage } from '../../../src-main/protocol/wire/codec.ts';
import { encodeHostInfo } from '../../../src-main/server/host-info.ts';
import {
  DEFAULT_LIMITS,
  fileCiphertextBytes,
  fileLimits,
} from '../../../src-main/server/host-limits.ts';

// The file limits (docs/protocol.md §13): what `--max-file-mb` and friends become, and what host
// info announces — maxFileBytes is ciphertext, from which a client gets back the plaintext limit.

const MIB = 1024 * 1024;
const plaintextOf = (max: number) => max - 16 * Math.ceil(max / 32784);

describe('file limits', () => {
  it('announce the ciphertext of the plaintext limit, which a client turns back exactly', () => {
    expect(fileCiphertextBytes(0)).toBe(0);
    expect(fileCiphertextBytes(1)).toBe(17);
    expect(fileCiphertextBytes(32768)).toBe(32784);
    expect(fileCiphertextBytes(32769)).toBe(32769 + 32);
    expect(DEFAULT_LIMITS.maxFileBytes).toBe(25 * MIB + 16 * 800);
    for (const plaintext of [1, 100, 32768, 32769, 25 * MIB, 1000 * MIB, 12_345_678]) {
      const max = fileCiphertextBytes(plaintext);
      // The client's plaintext limit is never more than the host's, and for whole MiB equal.
      expect(plaintextOf(max)).toBeLessThanOrEqual(plaintext);
      expect(fileCiphertextBytes(plaintextOf(max))).toBeLessThanOrEqual(max);
    }
    expect(plaintextOf(fileCiphertextBytes(25 * MIB))).toBe(25 * MIB);
  });

  it('host info carries maxFileBytes and fileRetentionDays, and none when disabled or kept', () => {
    const info = (limits: Partial<typeof DEFAULT_LIMITS>) =>
      decodeMessage(
        HostInfo,
        encodeHostInfo({ name: 'h', rooms: [], limits: { ...DEFAULT_LIMITS, ...limits } }),
      ).limits;
    expect(info({})).toMatchObject({ maxFileBytes: 25 * MIB + 12_800, fileRetentionDays: 30 });
    const off = info(fileLimits({ maxFileMb: 0, fileRetentionDays: 0 }));
    expect(off.maxFileBytes).toBe(0);
    expect(off.fileRetentionDays).toBeUndefined();
    // The largest the flag allows still fits what host info may announce.
    expect(info(fileLimits({ maxFileMb: 1000 })).maxFileBytes).toBe(
      fileCiphertextBytes(1000 * MIB),
    );
  });

  it('`parley --serve` takes --max-file-mb, --file-quota-mb and --file-retention-days', () => {
    const args = parseServeArgs([
      '--max-file-mb',
      '10',
      '--file-quota-mb',
      '2048',
      '--file-retention-days',
      '0',
    ]);
    expect(fileLimits(args)).toEqual({
      maxFileBytes: fileCiphertextBytes(10 * MIB),
      fileQuotaBytes: 2048 * MIB,
      fileRetentionDays: 0,
    });
    expect(fileLimits(parseServeArgs([]))).toEqual({});
    expect(() => parseServeArgs(['--max-file-mb', '1001'])).toThrow(UsageError);
    expect(() => parseServeArgs(['--file-quota-mb', '0'])).toThrow(/--file-quota-mb/);
    expect(() => parseServeArgs(['--file-retention-days', '-1'])).toThrow(UsageError);
  });
});
