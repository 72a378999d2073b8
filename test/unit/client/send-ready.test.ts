import { describe, expect, it } from 'vitest';
import {
  readyToSend,
  removalDue,
  waitingForDevices,
} from '../../../src-main/client/e2ee/send-ready.ts';

const ready = {
  hasGroup: true,
  commitPending: false,
  removalDue: false,
  addDue: false,
  localEpoch: 4,
  hostEpoch: 4,
};

describe('when an E2EE room may send', () => {
  it('sends when in the group at the host epoch with nothing pending', () => {
    expect(readyToSend(ready)).toBe(true);
  });

  it('holds messages while waiting for a Welcome, a commit, a removal or the host epoch', () => {
    expect(readyToSend({ ...ready, hasGroup: false })).toBe(false);
    expect(readyToSend({ ...ready, commitPending: true })).toBe(false);
    expect(readyToSend({ ...ready, removalDue: true })).toBe(false);
    expect(readyToSend({ ...ready, addDue: true })).toBe(false);
    expect(readyToSend({ ...ready, hostEpoch: 5 })).toBe(false); // a commit still to process
    expect(readyToSend({ ...ready, hostEpoch: undefined })).toBe(false);
    // A group made here but not yet accepted by the host (epoch 0) cannot carry messages.
    expect(readyToSend({ ...ready, localEpoch: 0, hostEpoch: 0 })).toBe(false);
  });

  it('sees a removal due for a member who left, never for our own leaf', () => {
    const roster = [
      { leaf: 0, parleyKey: 'alice' },
      { leaf: 1, parleyKey: 'bob' },
      { leaf: 2, parleyKey: 'carol' },
    ];
    expect(removalDue(roster, 0, new Set(['alice', 'bob', 'carol']))).toBe(false);
    expect(removalDue(roster, 0, new Set(['alice', 'bob']))).toBe(true);
    expect(removalDue(roster, 0, new Set(['bob', 'carol']))).toBe(false);
  });

  it('waits for a listed device without KeyPackages until it is in the group, or the time is up', () => {
    const waited = new Set(['d1']);
    expect(waitingForDevices(waited, new Set(['a1']), 10_000, 5_000)).toBe(true);
    expect(waitingForDevices(waited, new Set(['a1', 'd1']), 10_000, 5_000)).toBe(false);
    expect(waitingForDevices(waited, new Set(['a1']), 10_000, 10_000)).toBe(false);
    expect(waitingForDevices(new Set(), new Set(['a1']), 10_000, 5_000)).toBe(false);
  });
});
