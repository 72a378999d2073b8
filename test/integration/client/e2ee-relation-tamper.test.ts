import { describe, expect, it } from 'vitest';
import type { HostMessage } from '../../../src-main/protocol/wire/messages.ts';
import { spawnE2eeHost } from '../../support/e2ee-host.ts';
import { memberJoiner, untilGroupComplete } from '../../support/e2ee-members.ts';
import { rewriteMessagesById } from '../../support/e2ee-relay.ts';
import { cleanupsAfterEach, until } from '../../support/lifecycle.ts';

// In an end-to-end encrypted room the host sees an event's `rel` and `file` (it needs them to
// erase a deleted message's edits, and to keep a file with its message) but not the event. A
// host that changes them — an edit made to look like a deletion of another message, a line
// made to look like an edit, a file swapped — gets the message shown as failed ('tampered'):
// what the sender sealed decides, never what the host says.

const cleanups = cleanupsAfterEach();
const ROOM = 'lobby';
type Msg = Extract<HostMessage, { t: 'msg' }>;

describe('a host that changes the relation of an encrypted event', () => {
  it('gets the message shown as tampered, and the session goes on', async () => {
    const h = await spawnE2eeHost(cleanups);
    const { changes, rewrite } = rewriteMessagesById();
    const join = memberJoiner(cleanups, h);
    const alice = await join('alice', h.ownerInvite);
    const bob = await join('bob', h.memberInvite, rewrite);
    await untilGroupComplete([alice, bob], ROOM);
    const first = alice.s.send(ROOM, 'first');
    await until(() => alice.of('ack').some((a) => a.id === first), 'first acked', 30_000);
    const target = alice.of('ack').find((a) => a.id === first)?.seq ?? -1;
    const doomed = alice.s.send(ROOM, 'doomed');
    await until(() => alice.of('ack').some((a) => a.id === doomed), 'doomed acked', 30_000);
    const doomedSeq = alice.of('ack').find((a) => a.id === doomed)?.seq ?? -1;
    await until(() => bob.shown(ROOM, 'doomed').length > 0, 'bob reads doomed', 30_000);

    const cases: [string, () => string, (m: Msg) => Msg][] = [
      [
        'an edit shown as a deletion',
        () => alice.s.sendEvent(ROOM, { type: 'edit', target, text: 'second' }),
        (m) => ({ ...m, rel: { t: 'delete', seq: target } }),
      ],
      [
        'an edit moved to another message',
        () => alice.s.sendEvent(ROOM, { type: 'edit', target, text: 'third' }),
        (m) => ({ ...m, rel: { t: 'edit', seq: target - 1 } }),
      ],
      [
        'a deletion without its relation',
        () => alice.s.sendEvent(ROOM, { type: 'delete', target: doomedSeq }),
        ({ rel: _rel, ...m }) => m,
      ],
      [
        'a line given a relation',
        () => alice.s.send(ROOM, 'a plain line'),
        (m) => ({ ...m, rel: { t: 'edit', seq: target } }),
      ],
      [
        'a line given a file',
        () => alice.s.send(ROOM, 'no file here'),
        (m) => ({ ...m, file: 'F'.repeat(22) }),
      ],
    ];
    const ids: string[] = [];
    for (const [, send, change] of cases) {
      // The id is known only once queued; the change applies to bob's copy when it passes.
      const id = send();
      changes.set(id, change);
      ids.push(id);
    }
    const bobGot = (id: string) => bob.of('message').find((m) => m.id === id);
    await until(() => ids.every((id) => bobGot(id)), 'bob gets every case', 30_000);
    for (const [index, [what]] of cases.entries()) {
      const got = bobGot(ids[index] ?? '');
      expect({ what, e2ee: got?.e2ee, event: got?.event }).toEqual({
        what,
        e2ee: { status: 'failed', reason: 'tampered' },
        event: undefined,
      });
    }
    // Unchanged, the same kind of event is read.
    const fine = alice.s.sendEvent(ROOM, { type: 'edit', target, text: 'fine' });
    await until(() => bobGot(fine) !== undefined, 'bob gets the untouched edit', 30_000);
    expect(bobGot(fine)).toMatchObject({
      e2ee: { status: 'ok' },
      event: { type: 'edit', target, text: 'fine' },
    });
  }, 90_000);
});
