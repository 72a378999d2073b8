import { describe, expect, it } from 'vitest';
import { loadSuite } from '../../../src-main/e2ee/mls-suite.ts';
import { commitAndDeliver, createRoom, member, read, say } from './e2ee-fixtures.ts';

describe('the MLS providers', () => {
  it('picks WebCrypto where it works (Node 24 has X25519, Ed25519, AES-GCM), once', async () => {
    const suite = await loadSuite();
    expect(suite.provider).toBe('webcrypto');
    expect(suite.impl.name).toBe('MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519');
    expect(await loadSuite()).toBe(suite);
  });

  it('WebCrypto and noble members share one group, each side creating and committing', async () => {
    const alice = await member('alice', { provider: 'noble' });
    const bob = await member('bob', { provider: 'webcrypto' });
    const carol = await member('carol', { provider: 'noble' });
    expect([alice.suite.provider, bob.suite.provider]).toEqual(['noble', 'webcrypto']);
    await createRoom(alice);
    await commitAndDeliver(alice, { add: [bob] }, []);
    await commitAndDeliver(bob, { add: [carol] }, [alice]);
    const fromBob = await say(bob, 'from webcrypto');
    expect((await read(alice, fromBob)).text).toBe('from webcrypto');
    expect((await read(carol, fromBob)).text).toBe('from webcrypto');
    const fromAlice = await say(alice, 'from noble');
    expect((await read(bob, fromAlice)).text).toBe('from noble');
    expect((await read(carol, fromAlice)).text).toBe('from noble');
    await commitAndDeliver(carol, { remove: [alice] }, [bob]);
    expect((await read(bob, await say(carol, 'two left'))).text).toBe('two left');
  });
});
