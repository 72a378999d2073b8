// Review of #17 (R1): roles are what the host says *now*. A deletion replayed from history (a
// gap filled after being offline, older pages) was accepted by the host when it was sent; if
// its sender has been demoted since, the member list says 'member' — the deletion must still
// apply here, or this install alone keeps showing a message the host and everyone else erased.
// A live deletion by a known plain member of someone else's message is still ignored.
import { describe, expect, it } from 'vitest';
import { type EventMessage, applyEvent } from '../../../src-main/service/apply-event.ts';
import { applyContext } from './apply-context.ts';

function context() {
  const erased: number[] = [];
  const history = {
    applyDelete: (
      _host: string,
      _room: string,
      target: number,
      allowed: (sender: string) => boolean,
    ) => {
      if (!allowed('dave-key')) return 'forbidden';
      erased.push(target);
      return { seq: target, deleted: true };
    },
  };
  // bob was an admin when he deleted; he is a plain member now (nobody may delete others').
  return { erased, ctx: applyContext(history, 'carol-key') };
}

const deletion = (history: boolean): EventMessage & { history?: true } => ({
  room: 'lobby',
  seq: 20,
  key: 'bob-key',
  from: 'bob',
  event: { type: 'delete', target: 10 },
  ...(history ? { history: true as const } : {}),
});

describe("applyEvent: a deletion of someone else's message", () => {
  it('from history applies: the host accepted it when it was sent', () => {
    const { ctx, erased } = context();
    expect(applyEvent(ctx, deletion(true))).toMatchObject({ deleted: 10 });
    expect(erased).toEqual([10]);
  });

  it('live, by a known plain member, is ignored', () => {
    const { ctx, erased } = context();
    expect(applyEvent(ctx, deletion(false))).toEqual({});
    expect(erased).toEqual([]);
  });
});
