import { describe, expect, it } from 'vitest';
import {
  MAX_ADDS_PER_COMMIT,
  commitJitterMs,
  diffIsEmpty,
  reconcileDiff,
} from '../../../src-main/client/e2ee/reconcile-diff.ts';

const leaf = (n: number, parleyKey: string, device: string) => ({ leaf: n, parleyKey, device });
const roster = [leaf(0, 'alice', 'a1'), leaf(1, 'bob', 'b1'), leaf(2, 'carol', 'c1')];
const live = (...pairs: [string, string][]) => pairs.map(([key, device]) => ({ key, device }));

describe("reconcile: the group follows the room's members and their devices", () => {
  it('changes nothing when the group holds exactly the live devices', () => {
    const diff = reconcileDiff(roster, 0, {
      devices: live(['alice', 'a1'], ['bob', 'b1'], ['carol', 'c1']),
      kps: [],
    });
    expect(diffIsEmpty(diff)).toBe(true);
  });

  it('removes a member who left and a retired device, adds a new device', () => {
    const diff = reconcileDiff(roster, 0, {
      // carol left; bob's b1 was retired and b2 is new.
      devices: live(['alice', 'a1'], ['bob', 'b2']),
      kps: [{ key: 'bob', device: 'b2', kp: 'KP-b2' }],
    });
    expect([...diff.remove].sort()).toEqual(['b1', 'c1']);
    expect(diff.add).toEqual(['KP-b2']);
    expect(diff.addDevices).toEqual(['b2']);
  });

  it('never removes our own leaf, even when the host does not list it', () => {
    const diff = reconcileDiff(roster, 0, {
      devices: live(['bob', 'b1'], ['carol', 'c1']),
      kps: [],
    });
    expect(diff.remove).toEqual([]);
  });

  it('ignores KeyPackages for unlisted devices, devices in the group and repeats', () => {
    const diff = reconcileDiff(roster, 0, {
      devices: live(['alice', 'a1'], ['bob', 'b1'], ['carol', 'c1'], ['dave', 'd1']),
      kps: [
        { key: 'mallory', device: 'm1', kp: 'KP-m1' },
        { key: 'bob', device: 'b1', kp: 'KP-b1' },
        { key: 'dave', device: 'd1', kp: 'KP-d1' },
        { key: 'dave', device: 'd1', kp: 'KP-d1-again' },
        { key: 'bob', device: 'd1', kp: 'KP-wrong-owner' },
      ],
    });
    expect(diff.add).toEqual(['KP-d1']);
    expect(diff.remove).toEqual([]);
  });

  it('adds at most MAX_ADDS_PER_COMMIT devices in one commit', () => {
    const many = Array.from({ length: 30 }, (_, i) => ({ key: `k${i}`, device: `d${i}` }));
    const diff = reconcileDiff([leaf(0, 'alice', 'a1')], 0, {
      devices: [{ key: 'alice', device: 'a1' }, ...many],
      kps: many.map(({ key, device }) => ({ key, device, kp: `KP-${device}` })),
    });
    expect(diff.add).toHaveLength(MAX_ADDS_PER_COMMIT);
    expect(diff.addDevices[0]).toBe('d0');
  });

  it('waits longer the more online devices rank before ours', () => {
    const online = new Set(['alice', 'bob', 'carol']);
    expect(commitJitterMs(roster, 0, online, () => 0)).toBe(0);
    expect(commitJitterMs(roster, 2, online, () => 0)).toBe(200);
    expect(commitJitterMs(roster, 2, new Set(['carol']), () => 0)).toBe(0);
    expect(commitJitterMs(roster, 1, online, () => 0.999)).toBe(100 + 299);
  });
});
