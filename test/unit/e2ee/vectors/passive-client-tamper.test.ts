import { describe, expect, it } from 'vitest';
import { flipBit, hex, PROVIDERS, suiteOn, toHex } from './mls-vectors.ts';
import {
  EpochAuthenticatorMismatch,
  loadPassiveClientVectors,
  runPassiveClient,
  type PassiveClientVector,
} from './passive-client.ts';

// The vector checks can fail: a wrong authenticator, a tampered commit and a tampered Welcome are
// each caught. Without these, a runner that compared nothing would pass every scenario above.
const commits = loadPassiveClientVectors('passive-client-handling-commit.json');
const withEpochs = commits.filter((v) => v.epochs.length > 0);

/** The hex with one bit flipped in its last byte (a MAC, tag or signature in every MLS message). */
const tamperHex = (s: string): string => {
  const bytes = hex(s);
  return toHex(flipBit(bytes, bytes.length - 1));
};

function tamperFirstCommit(v: PassiveClientVector): PassiveClientVector {
  const [first, ...rest] = v.epochs;
  if (first === undefined) throw new Error('scenario has no epoch');
  return { ...v, epochs: [{ ...first, commit: tamperHex(first.commit) }, ...rest] };
}

describe.each(PROVIDERS)(
  'MLS passive client catches corruption, suite 1, provider %s',
  (provider) => {
    it('has scenarios with commits to corrupt', () => {
      expect(withEpochs.length).toBeGreaterThan(0);
    });

    it('reports a wrong initial epoch authenticator', async () => {
      const v = withEpochs[0]!;
      await expect(
        runPassiveClient(v, await suiteOn(provider), { corruptExpectedAt: 0 }),
      ).rejects.toThrow(EpochAuthenticatorMismatch);
    });

    it.each(withEpochs.map((v, i) => [i, v] as const))(
      'scenario %i: reports a wrong epoch authenticator after the first commit',
      async (_i, v) => {
        const run = runPassiveClient(v, await suiteOn(provider), { corruptExpectedAt: 1 });
        await expect(run).rejects.toThrow(new EpochAuthenticatorMismatch(1));
      },
    );

    it.each(withEpochs.map((v, i) => [i, v] as const))(
      'scenario %i: refuses a commit with one bit flipped',
      async (_i, v) => {
        const run = runPassiveClient(tamperFirstCommit(v), await suiteOn(provider));
        await expect(run).rejects.toThrow();
        await expect(run).rejects.not.toThrow(EpochAuthenticatorMismatch);
      },
    );

    it.each(commits.map((v, i) => [i, v] as const))(
      'scenario %i: refuses a Welcome with one bit flipped',
      async (_i, v) => {
        const run = runPassiveClient(
          { ...v, welcome: tamperHex(v.welcome) },
          await suiteOn(provider),
        );
        await expect(run).rejects.toThrow();
      },
    );
  },
);
