import { describe, expect, it } from 'vitest';
import { PROVIDERS, suiteOn } from './mls-vectors.ts';
import {
  keysMatchKeyPackage,
  loadPassiveClientVectors,
  runPassiveClient,
} from './passive-client.ts';

// Following commits made by other implementations: adds, removes, updates, PSKs, re-init,
// by value and by reference, as PublicMessage and PrivateMessage. A Parley member processes
// every commit the host relays in exactly this way.
const vectors = loadPassiveClientVectors('passive-client-handling-commit.json');

describe.each(PROVIDERS)(
  'MLS passive-client-handling-commit vectors, suite 1, provider %s',
  (provider) => {
    it.each(vectors.map((v, i) => [i, v] as const))(
      'scenario %i: follows every commit and matches every epoch authenticator',
      async (_i, v) => {
        const impl = await suiteOn(provider);
        expect(await keysMatchKeyPackage(v, impl)).toBe(true);
        expect(await runPassiveClient(v, impl)).toBe(v.epochs.length + 1);
      },
    );
  },
);
