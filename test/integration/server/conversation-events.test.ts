import { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanupsAfterEach } from '../../support/lifecycle.ts';
import {
  conversationSetup,
  databaseBytes,
  newId,
  sendAndAnswer,
  seqOf,
} from './conversation-kit.ts';

// The conversation's events in a plaintext room on a real host (docs/protocol.md §13): replies,
// edits, deletions and reactions relayed with their relation; who may edit or delete what; and a
// deletion erasing the text from every copy the host keeps.

const cleanups = cleanupsAfterEach();
const { lobby } = conversationSetup(cleanups);

describe('events in a plaintext room', () => {
  it('relays a reply, an edit and a reaction with their relation, live and in history', async () => {
    const { alice, bob, connect } = await lobby();
    const first = seqOf(await sendAndAnswer(alice, { text: 'lunch at noon?' }));
    const reply = seqOf(
      await sendAndAnswer(bob, { ev: { type: 'text', text: 'yes!', reply: first } }),
    );
    const edit = seqOf(
      await sendAndAnswer(alice, {
        ev: { type: 'edit', target: first, text: 'lunch at one?' },
        rel: { t: 'edit', seq: first },
      }),
    );
    const react = seqOf(
      await sendAndAnswer(bob, { ev: { type: 'react', target: edit, emoji: '👍', on: true } }),
    );
    // A bare line in an event is fine too.
    const plain = seqOf(await sendAndAnswer(bob, { ev: { type: 'text', text: 'ok' } }));

    const live = await alice.waitFor('msg', (m) => m.seq === react);
    expect(live).toMatchObject({ ev: { type: 'react', target: edit, emoji: '👍', on: true } });
    expect(live.text).toBeUndefined();
    expect(await bob.waitFor('msg', (m) => m.seq === edit)).toMatchObject({
      ev: { type: 'edit', target: first, text: 'lunch at one?' },
      rel: { t: 'edit', seq: first },
    });

    const dave = await connect('dave', bob);
    const history = dave.of('msg').filter((m) => m.history);
    expect(history.map((m) => m.seq)).toEqual([first, reply, edit, react, plain]);
    expect(history[0]).toMatchObject({ text: 'lunch at noon?' });
    expect(history[1]).toMatchObject({ ev: { type: 'text', text: 'yes!', reply: first } });
    expect(history[2]).toMatchObject({ rel: { t: 'edit', seq: first } });
    expect(history[4]).toMatchObject({ ev: { type: 'text', text: 'ok' } });
  });

  it('refuses a send whose body or relation is not what it should be', async () => {
    const { alice } = await lobby({ limits: { maxTextBytes: 100 } });
    const first = seqOf(await sendAndAnswer(alice, { text: 'hello' }));
    const refusals = [
      // Two bodies, or none.
      { text: 'x', ev: { type: 'text' as const, text: 'x' } },
      {},
      // An edit without its rel, or with another target; a rel on a line; a file on a reply.
      { ev: { type: 'edit' as const, target: first, text: 'x' } },
      {
        ev: { type: 'edit' as const, target: first, text: 'x' },
        rel: { t: 'edit' as const, seq: first + 1 },
      },
      {
        ev: { type: 'delete' as const, target: first },
        rel: { t: 'edit' as const, seq: first },
      },
      { text: 'x', rel: { t: 'delete' as const, seq: first } },
      { ev: { type: 'text' as const, text: 'x', reply: first }, file: 'A'.repeat(22) },
    ];
    for (const body of refusals) {
      expect(await sendAndAnswer(alice, body)).toMatchObject({ t: 'error', code: 'bad-request' });
    }
    // A plaintext room takes no MLS.
    expect(await sendAndAnswer(alice, { mls: 'AAAAAAAA' })).toMatchObject({
      code: 'e2ee-mismatch',
    });
    // An event's text is held to the host's text limit, like a line.
    const long = 'é'.repeat(50) + 'x';
    expect(
      await sendAndAnswer(alice, {
        ev: { type: 'edit', target: first, text: long },
        rel: { t: 'edit', seq: first },
      }),
    ).toMatchObject({ code: 'text-too-long' });
    expect(
      await sendAndAnswer(alice, { ev: { type: 'text', text: long, reply: first } }),
    ).toMatchObject({ code: 'text-too-long' });
    expect(alice.of('ack')).toHaveLength(1);
  });

  it('lets only the sender edit, and no edit of what is not a message of the room', async () => {
    const { alice, bob } = await lobby();
    const mine = seqOf(await sendAndAnswer(alice, { text: 'mine' }));
    const edit = (seq: number) => ({
      ev: { type: 'edit' as const, target: seq, text: 'changed' },
      rel: { t: 'edit' as const, seq },
    });
    expect(await sendAndAnswer(bob, edit(mine))).toMatchObject({ code: 'forbidden' });
    expect(await sendAndAnswer(alice, edit(mine + 1000))).toMatchObject({
      code: 'no-such-message',
    });
    // An edit is not itself a message to edit; the room's join events are not either.
    const editSeq = seqOf(await sendAndAnswer(alice, edit(mine)));
    expect(await sendAndAnswer(alice, edit(editSeq))).toMatchObject({ code: 'no-such-message' });
    const joinEvent = alice.of('event').find((e) => e.action === 'joined');
    if (joinEvent) {
      expect(await sendAndAnswer(alice, edit(joinEvent.seq))).toMatchObject({
        code: 'no-such-message',
      });
    }
    // Nothing refused reached anyone.
    expect(bob.of('msg').filter((m) => !m.history && m.rel)).toHaveLength(1);
  });

  it('a deletion leaves a tombstone and erases the text and its edits from the host', async () => {
    const { alice, bob, dataDir, connect } = await lobby();
    const secret = 'the door code is 7431-QX';
    const edited = 'the door code is 9902-ZB';
    const target = seqOf(await sendAndAnswer(alice, { text: secret }));
    const editSeq = seqOf(
      await sendAndAnswer(alice, {
        ev: { type: 'edit', target, text: edited },
        rel: { t: 'edit', seq: target },
      }),
    );
    const kept = seqOf(await sendAndAnswer(bob, { text: 'noted' }));
    // Before: the host has both texts on disk (the test could fail).
    expect(databaseBytes(dataDir).includes(secret)).toBe(true);
    expect(databaseBytes(dataDir).includes(edited)).toBe(true);

    const deleteId = newId();
    const deletion = {
      id: deleteId,
      ev: { type: 'delete' as const, target },
      rel: { t: 'delete' as const, seq: target },
    };
    const deleteSeq = seqOf(await sendAndAnswer(alice, deletion));
    expect(await bob.waitFor('msg', (m) => m.seq === deleteSeq)).toMatchObject({
      ev: { type: 'delete', target },
      rel: { t: 'delete', seq: target },
    });

    const bytes = databaseBytes(dataDir);
    expect(bytes.includes(secret)).toBe(false);
    expect(bytes.includes(edited)).toBe(false);
    const raw = new DatabaseSync(join(dataDir, 'history.sqlite'), { readOnly: true });
    try {
      const rows = raw
        .prepare('SELECT seq, text, ev, deleted FROM messages WHERE seq IN (?, ?, ?)')
        .all(target, editSeq, kept);
      // The edit's row is gone whole (deletion-edits-history.test.ts says why).
      expect(rows).toEqual([
        { seq: target, text: '', ev: null, deleted: 1 },
        { seq: kept, text: 'noted', ev: null, deleted: 0 },
      ]);
    } finally {
      raw.close();
    }

    // History: tombstones with nothing of their content; the deletion itself stays.
    const dave = await connect('dave', bob);
    const history = dave.of('msg').filter((m) => m.history);
    const tombstone = history.find((m) => m.seq === target);
    expect(tombstone).toMatchObject({ deleted: true, from: 'alice' });
    for (const field of ['text', 'ev', 'mls', 'rel', 'file'] as const) {
      expect(tombstone?.[field]).toBeUndefined();
      expect(history.find((m) => m.seq === editSeq)?.[field]).toBeUndefined();
    }
    expect(history.find((m) => m.seq === deleteSeq)).toMatchObject({
      rel: { t: 'delete', seq: target },
    });

    // Deleted is gone: neither deleted nor edited again. A resend of the deletion is a duplicate.
    expect(await sendAndAnswer(alice, { ...deletion, id: newId() })).toMatchObject({
      code: 'no-such-message',
    });
    expect(
      await sendAndAnswer(alice, {
        ev: { type: 'edit', target, text: 'again' },
        rel: { t: 'edit', seq: target },
      }),
    ).toMatchObject({ code: 'no-such-message' });
    expect(await sendAndAnswer(alice, deletion)).toMatchObject({
      t: 'ack',
      seq: deleteSeq,
      duplicate: true,
    });
  });

  it("an owner or admin may delete others' messages; a member may not", async () => {
    const { alice, bob, carol } = await lobby();
    const bobs = seqOf(await sendAndAnswer(bob, { text: 'spam spam' }));
    const alices = seqOf(await sendAndAnswer(alice, { text: 'rules' }));
    const deletionOf = (target: number) => ({
      ev: { type: 'delete' as const, target },
      rel: { t: 'delete' as const, seq: target },
    });
    expect(await sendAndAnswer(bob, deletionOf(alices))).toMatchObject({ code: 'forbidden' });
    expect(await sendAndAnswer(carol, deletionOf(bobs))).toMatchObject({ code: 'forbidden' });
    // Carol made admin may.
    expect(
      await alice.request({ t: 'set-role', room: 'lobby', key: carol.keyText, role: 'admin' }),
    ).toMatchObject({ t: 'done' });
    const carolDeletes = seqOf(await sendAndAnswer(carol, deletionOf(bobs)));
    expect(await bob.waitFor('msg', (m) => m.seq === carolDeletes)).toMatchObject({
      from: 'carol',
      rel: { t: 'delete', seq: bobs },
    });
    const more = seqOf(await sendAndAnswer(bob, { text: 'more spam' }));
    seqOf(await sendAndAnswer(alice, deletionOf(more)));
    // An admin may not edit someone else's message, though.
    expect(
      await sendAndAnswer(carol, {
        ev: { type: 'edit', target: alices, text: 'x' },
        rel: { t: 'edit', seq: alices },
      }),
    ).toMatchObject({ code: 'forbidden' });
  });

  it('in one turn: a deletion then an edit of the same message — the edit is refused', async () => {
    const { alice } = await lobby();
    const target = seqOf(await sendAndAnswer(alice, { text: 'oops' }));
    const [deleted, edited] = await Promise.all([
      sendAndAnswer(alice, {
        ev: { type: 'delete', target },
        rel: { t: 'delete', seq: target },
      }),
      sendAndAnswer(alice, {
        ev: { type: 'edit', target, text: 'fixed' },
        rel: { t: 'edit', seq: target },
      }),
    ]);
    expect(deleted).toMatchObject({ t: 'ack' });
    expect(edited).toMatchObject({ t: 'error', code: 'no-such-message' });
  });
});
