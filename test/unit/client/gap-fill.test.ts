import { describe, expect, it } from 'vitest';
import { GapFill } from '../../../src-main/client/gap-fill.ts';
import type { ChatMessage, RoomEvent } from '../../../src-main/protocol/wire/messages.ts';
import { fakeMember } from '../../support/hostile-host.ts';

function message(seq: number): ChatMessage {
  const { nick, key } = fakeMember(1);
  return {
    t: 'msg',
    room: 'lobby',
    seq,
    id: `id-${seq}-xxxx`,
    from: nick,
    key,
    text: 'hi',
    ts: 1,
    history: true,
  };
}

function event(seq: number, history = true): RoomEvent {
  return {
    t: 'event',
    room: 'lobby',
    seq,
    ts: 1,
    action: 'joined',
    actor: fakeMember(seq),
    history,
  };
}

describe('GapFill with room events', () => {
  it('pages back past events and delivers messages and events in seq order, then live ones', () => {
    // Last delivered: seq 3. The rejoin's replay starts at 7: 4 to 6 are missing.
    const fill = new GapFill(3, [message(7), event(8)]);
    expect(fill.gapPossible).toBe(true);
    fill.live(event(9, false));
    fill.history(message(4));
    fill.history(event(5));
    fill.history(message(6));
    expect(fill.pageEnded(true)).toBe('more');
    fill.history(message(3));
    expect(fill.pageEnded(true)).toBe('closed');
    const { history, live } = fill.release();
    expect(history.map((item) => `${item.t}:${item.seq}`)).toEqual([
      'msg:4',
      'event:5',
      'msg:6',
      'msg:7',
      'event:8',
    ]);
    expect(live.map((item) => `${item.t}:${item.seq}`)).toEqual(['event:9']);
  });
});
