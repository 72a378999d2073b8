import { describe, expect, it } from 'vitest';
import { MAX_HELD_KEY_PACKAGES, makeKeyPackages } from '../../../src-main/e2ee/key-packages.ts';
import { RoomGroup } from '../../../src-main/e2ee/room-group.ts';
import { member } from './e2ee-fixtures.ts';

// Review (R1) of #16: a device tops its KeyPackages up after each `welcome` that says the host
// holds fewer than 5. A hostile host that says 0 on every connection (and drops it) made the
// device store 10 more private halves each time, forever: nothing ever pruned them.

describe('review: the KeyPackages a device keeps', () => {
  it('stay bounded however often the host asks for more, and the newest still open Welcomes', async () => {
    const bob = await member('bob');
    let last: string[] = [];
    for (let round = 0; round < 25; round++) {
      last = await makeKeyPackages(bob.suite, bob.device, bob.store, 10);
    }
    const held = await bob.store.list('kp/');
    expect(held.length).toBeLessThanOrEqual(MAX_HELD_KEY_PACKAGES);
    expect(MAX_HELD_KEY_PACKAGES).toBeLessThan(250);
    // A Welcome to the newest KeyPackage (what the host hands out now) still opens.
    const alice = await member('alice');
    const group = await RoomGroup.create(alice.suite, alice.device, alice.pins);
    const prepared = await group.prepareCommit({ add: [last.at(-1) ?? ''], remove: [] });
    const joined = await RoomGroup.join(
      bob.suite,
      bob.device,
      bob.pins,
      bob.store,
      prepared.welcome ?? '',
    );
    expect(joined.epoch).toBe(1);
  }, 60_000);
});
