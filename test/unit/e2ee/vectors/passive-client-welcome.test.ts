import { describe, expect, it } from 'vitest';
import { loadSuite } from '../../../../src-main/e2ee/mls-suite.ts';
import { PROVIDERS, suiteOn } from './mls-vectors.ts';
import {
  keysMatchKeyPackage,
  loadPassiveClientVectors,
  runPassiveClient,
} from './passive-client.ts';

// Joining from Welcomes built by other MLS implementations (tree in or out of the Welcome, PSKs):
// what a Parley member does when the host hands it an mls-welcome.
const vectors = loadPassiveClientVectors('passive-client-welcome.json');

describe.each(PROVIDERS)('MLS passive-client-welcome vectors, suite 1, provider %s', (provider) => {
  it.each(vectors.map((v, i) => [i, v] as const))(
    'scenario %i: joins and matches every epoch authenticator',
    async (_i, v) => {
      const impl = await suiteOn(provider);
      expect(await keysMatchKeyPackage(v, impl)).toBe(true);
      expect(await runPassiveClient(v, impl)).toBe(v.epochs.length + 1);
    },
  );
});

// The provider the app's probe picks on this runtime, named in the test title.
const picked = await loadSuite();

describe(`MLS passive-client-welcome vectors, suite 1, provider Parley picks here: ${picked.provider}`, () => {
  it('loadSuite() probes a provider that joins every scenario', async () => {
    expect(PROVIDERS).toContain(picked.provider);
    for (const v of vectors)
      expect(await runPassiveClient(v, picked.impl)).toBe(v.epochs.length + 1);
  });
});
