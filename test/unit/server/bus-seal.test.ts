import { describe, expect, it } from 'vitest';
import { BusSeal } from '../../../src-main/server/cluster/bus-seal.ts';

describe('BusSeal', () => {
  const key = new Uint8Array(32).fill(7);
  const seal = new BusSeal(key, 'cluster-a');
  const data = new TextEncoder().encode('an entry');

  it('opens what it sealed, on the same subject, and hides it from whoever carries it', () => {
    const sealed = seal.seal('log', data);
    expect(seal.open('log', sealed)).toEqual(data);
    expect(Buffer.from(sealed).includes(Buffer.from('an entry'))).toBe(false);
    // Never the same nonce twice: the same message seals differently.
    expect(Buffer.from(seal.seal('log', data))).not.toEqual(Buffer.from(sealed));
  });

  it('refuses a changed byte, another subject, another cluster, another key, no tag', () => {
    const sealed = seal.seal('log', data);
    const flipped = sealed.slice();
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    expect(seal.open('log', flipped)).toBeUndefined();
    expect(seal.open('live', sealed)).toBeUndefined();
    expect(new BusSeal(key, 'cluster-b').open('log', sealed)).toBeUndefined();
    expect(
      new BusSeal(new Uint8Array(32).fill(8), 'cluster-a').open('log', sealed),
    ).toBeUndefined();
    expect(seal.open('log', data)).toBeUndefined();
    expect(seal.open('log', new Uint8Array(3))).toBeUndefined();
  });
});

describe('BusSeal: replays', () => {
  const key = new Uint8Array(32).fill(7);
  const data = new TextEncoder().encode('a typing notice');

  it('takes a message once, and a later one from the same sender after it', () => {
    const sender = new BusSeal(key, 'c');
    const receiver = new BusSeal(key, 'c');
    const first = sender.seal('live', data);
    const second = sender.seal('live', data);
    expect(receiver.open('live', first)).toEqual(data);
    expect(receiver.open('live', first)).toBeUndefined();
    expect(receiver.open('live', second)).toEqual(data);
    expect(receiver.open('live', first)).toBeUndefined();
  });

  it('refuses a message stamped more than a minute away from its clock', () => {
    let now = 1_000_000;
    const sender = new BusSeal(key, 'c', () => now);
    const receiver = new BusSeal(key, 'c', () => now);
    const sealed = sender.seal('live', data);
    now += 61_000;
    expect(receiver.open('live', sealed)).toBeUndefined();
  });
});
