// Review of #17 (R1): a `read` event names how far its sender had read when it was sent, so it
// cannot name a message after itself. One that does (a plaintext room's host forging our read,
// or a broken install of ours) must not mark every future message of the room as read here.
import { describe, expect, it } from 'vitest';
import { applyEvent } from '../../../src-main/service/apply-event.ts';
import { applyContext } from './apply-context.ts';

const OWN = 'own-key';

function context() {
  const positions: number[] = [];
  const history = {
    setReadUpTo: (_host: string, _room: string, upTo: number) => {
      positions.push(upTo);
      return true;
    },
  };
  return { positions, ctx: applyContext(history, OWN) };
}

describe('applyEvent: read positions', () => {
  it('takes our own read up to what it names when that is before the read itself', () => {
    const { ctx, positions } = context();
    const outcome = applyEvent(ctx, {
      room: 'lobby',
      seq: 50,
      key: OWN,
      from: 'me',
      event: { type: 'read', upTo: 42 },
    });
    expect(outcome).toEqual({ readUpTo: 42 });
    expect(positions).toEqual([42]);
  });

  it('never beyond the read event itself: later messages stay unread', () => {
    const { ctx, positions } = context();
    const outcome = applyEvent(ctx, {
      room: 'lobby',
      seq: 50,
      key: OWN,
      from: 'me',
      event: { type: 'read', upTo: Number.MAX_SAFE_INTEGER },
    });
    expect(outcome).toEqual({ readUpTo: 50 });
    expect(positions).toEqual([50]);
  });

  it("ignores someone else's read", () => {
    const { ctx, positions } = context();
    expect(
      applyEvent(ctx, {
        room: 'lobby',
        seq: 50,
        key: 'other',
        from: 'x',
        event: { type: 'read', upTo: 40 },
      }),
    ).toEqual({});
    expect(positions).toEqual([]);
  });
});
