import { describe, expect, it } from 'vitest';
import { RoomState } from '../../../src-main/client/room-state.ts';
import type { TimelineItem } from '../../../src-main/client/timeline.ts';

const item = (seq: number): TimelineItem => ({
  t: 'event',
  room: 'lobby',
  seq,
  ts: 1_700_000_000_000,
  action: 'topic',
  topic: `topic ${seq}`,
  history: true,
});

describe('an encrypted room resumed from its stored group state', () => {
  it("measures the first join's replay from the stored seq: skips what the group took in, holds the rest for a gap check", () => {
    const room = new RoomState('lobby');
    room.resumeFrom(10);
    room.joined();
    expect(room.isReplayOfSeen(10)).toBe(true); // taken in before the restart: not again
    expect(room.isReplayOfSeen(11)).toBe(false);
    // Held (not delivered at once) so `synced` can see whether the replay reaches back to 10.
    expect(room.holdReplay(item(11))).toBe(true);
    expect(room.takeReplay().map((i) => i.seq)).toEqual([11]);
  });

  it('never moves the room back', () => {
    const room = new RoomState('lobby');
    room.seen(20);
    room.resumeFrom(10);
    expect(room.lastSeq).toBe(20);
  });

  it('a fresh room (nothing stored) delivers its first replay as is', () => {
    const room = new RoomState('lobby');
    room.joined();
    expect(room.holdReplay(item(1))).toBe(false);
  });
});
