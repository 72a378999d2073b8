import { describe, expect, it } from 'vitest';
import { suiteOn } from './mls-vectors.ts';
import {
  keysMatchKeyPackage,
  loadPassiveClientVectors,
  runPassiveClient,
} from './passive-client.ts';

// A long random life of a group (200 epochs of adds, removes, updates and commits from many
// members): the closest the vectors come to a busy Parley room over weeks.
const [vector] = loadPassiveClientVectors('passive-client-random.json');

describe('MLS passive-client-random vector, suite 1', () => {
  it('provider webcrypto: follows all epochs and matches every epoch authenticator', async () => {
    if (vector === undefined) throw new Error('no suite-1 random scenario');
    const impl = await suiteOn('webcrypto');
    expect(await keysMatchKeyPackage(vector, impl)).toBe(true);
    expect(await runPassiveClient(vector, impl)).toBe(vector.epochs.length + 1);
  }, 60_000);

  it('provider noble: follows all epochs and matches every epoch authenticator', async () => {
    if (vector === undefined) throw new Error('no suite-1 random scenario');
    const impl = await suiteOn('noble');
    expect(await keysMatchKeyPackage(vector, impl)).toBe(true);
    expect(await runPassiveClient(vector, impl)).toBe(vector.epochs.length + 1);
  }, 180_000); // pure JS: ~16 s of CPU, several times that on a loaded 2-core machine
});
