import { describe, expect, it } from 'vitest';
import type { SessionMessage } from '../../../src-main/client/session-events.ts';
import type { ChatEvent } from '../../../src-main/protocol/wire/chat-event.ts';
import { fileOutboxStore } from '../../../src-main/store/outbox-file.ts';
import { canary, findInFiles } from '../../support/e2ee-canary.ts';
import {
  ROOM,
  type RoomKind,
  pair,
  received,
  startSession,
} from '../../support/conversation-room.ts';
import { cleanupsAfterEach, sleep } from '../../support/lifecycle.ts';
import { recordedSession } from '../../support/recorded-session.ts';

// #17's events between two members through a real host process, in a plaintext room and in an
// end-to-end encrypted one: replies, edits, reactions, read positions and deletions arrive as
// events in order; refused ones come back dropped; a message deleted while a member was away
// reaches it as a tombstone; a queued event survives a restart. In the encrypted room the host's
// files never hold what was said (the canary scan); files: conversation-files.test.ts.

const cleanups = cleanupsAfterEach();
const KINDS: RoomKind[] = ['plaintext', 'e2ee'];

const eventOf = (m: SessionMessage): ChatEvent | undefined => m.event;

describe.each(KINDS)('the conversation in a %s room', (kind) => {
  it('carries replies, edits, reactions, read positions and deletions as events', async () => {
    const { h, alice, bob } = await pair(cleanups, kind);
    const said = `alice says ${canary('said')}`;
    const kept = `alice keeps ${canary('kept')}`;
    const edited = `alice corrects ${canary('edited')}`;
    const saidId = alice.s.send(ROOM, said);
    const keptId = alice.s.send(ROOM, kept);
    const target = await alice.seqOf(saidId);
    const keptSeq = await alice.seqOf(keptId);
    expect((await received(bob, saidId, 'bob reads the line')).event).toEqual({
      type: 'text',
      text: said,
    });

    const replyId = bob.s.send(ROOM, 'an answer', { reply: target });
    const editId = alice.s.sendEvent(ROOM, { type: 'edit', target, text: edited });
    const reactId = bob.s.sendEvent(ROOM, { type: 'react', target, emoji: '👍', on: true });
    const readId = bob.s.sendEvent(ROOM, { type: 'read', upTo: target });

    const reply = await received(alice, replyId, 'alice gets the reply');
    expect(reply).toMatchObject({ text: 'an answer' });
    expect(eventOf(reply)).toEqual({ type: 'text', text: 'an answer', reply: target });
    const edit = await received(bob, editId, 'bob gets the edit');
    expect(eventOf(edit)).toEqual({ type: 'edit', target, text: edited });
    expect(edit).toMatchObject({ text: edited, rel: { t: 'edit', seq: target } });
    const react = await received(alice, reactId, 'alice gets the reaction');
    expect(eventOf(react)).toEqual({ type: 'react', target, emoji: '👍', on: true });
    expect(react.text).toBe('');
    const read = await received(alice, readId, 'alice sees the read position go by');
    expect(eventOf(read)).toEqual({ type: 'read', upTo: target });

    // Refused: bob editing alice's line, alice editing a seq that is no message.
    const notHis = bob.s.sendEvent(ROOM, { type: 'edit', target: keptSeq, text: 'not mine' });
    const nowhere = alice.s.sendEvent(ROOM, { type: 'edit', target: 999_999, text: 'gone' });
    await bob.wait(() => bob.of('error').some((e) => e.ref === notHis), 'bob refused', 30_000);
    await alice.wait(
      () => alice.of('error').some((e) => e.ref === nowhere),
      'alice refused',
      30_000,
    );
    expect(bob.of('error').find((e) => e.ref === notHis)).toMatchObject({
      code: 'forbidden',
      dropped: { id: notHis, event: { type: 'edit' } },
    });
    expect(alice.of('error').find((e) => e.ref === nowhere)).toMatchObject({
      code: 'no-such-message',
      dropped: { id: nowhere },
    });
    expect(bob.s.pending).toEqual([]);
    expect(alice.s.pending).toEqual([]);

    const deleteId = alice.s.sendEvent(ROOM, { type: 'delete', target });
    const deletion = await received(bob, deleteId, 'bob gets the deletion');
    expect(eventOf(deletion)).toEqual({ type: 'delete', target });
    expect(deletion.rel).toEqual({ t: 'delete', seq: target });

    // Both read every event as authentic in the encrypted room.
    if (kind === 'e2ee') {
      for (const s of [alice, bob]) {
        expect(s.of('message').filter((m) => m.e2ee?.status !== 'ok')).toEqual([]);
      }
    }
    // The order is the host's: each member saw the events in seq order.
    for (const s of [alice, bob]) {
      const seqs = s.of('message').map((m) => m.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    }
    await sleep(300); // the host's writes reach its files
    const found = findInFiles(h.dataDir, [said, edited, kept]).map((s) => s.needle);
    // The deleted line and its edit are gone from the host in both kinds of room; the line
    // that was not deleted is readable there only in the plaintext room.
    expect(found.filter((n) => n !== kept)).toEqual([]);
    expect(found.includes(kept)).toBe(kind === 'plaintext');
  }, 90_000);

  it('gives a member who was away a tombstone for a message deleted meanwhile', async () => {
    const { h, alice, bob, bobInstall } = await pair(cleanups, kind);
    await bob.s.stop();
    const gone = `soon gone ${canary('gone')}`;
    const goneId = alice.s.send(ROOM, gone);
    const target = await alice.seqOf(goneId);
    const deleteId = alice.s.sendEvent(ROOM, { type: 'delete', target });
    await alice.seqOf(deleteId);
    const back = await startSession(cleanups, h, kind, bobInstall);
    const tombstone = await received(back, goneId, 'bob gets the tombstone');
    expect(tombstone).toMatchObject({ seq: target, deleted: true, text: '' });
    expect(tombstone.event).toBeUndefined();
    const deletion = await received(back, deleteId, 'bob gets the deletion');
    expect(deletion.event).toEqual({ type: 'delete', target });
    expect(back.of('message').some((m) => m.text.includes(gone))).toBe(false);
  }, 90_000);

  it('sends an event queued before a restart once the session is back', async () => {
    const { h, alice, bob, aliceInstall } = await pair(cleanups, kind);
    const lineId = bob.s.send(ROOM, 'react to me');
    const target = await bob.seqOf(lineId);
    await received(alice, lineId, 'alice reads bob');
    await alice.s.stop();
    const dir = cleanups.tempDir('parley-outbox-');
    const address = { host: '127.0.0.1', port: h.port };
    // The line client's outbox file: written by a run that never reached the host…
    const offline = await recordedSession(
      cleanups,
      { address, hostKey: h.publicKey },
      { identity: aliceInstall.identity, outboxStore: fileOutboxStore(dir, address) },
    );
    const reactId = offline.s.sendEvent(ROOM, { type: 'react', target, emoji: '🎉', on: true });
    await offline.s.stop();
    // …and sent by the next one.
    await startSession(cleanups, h, kind, aliceInstall, {
      session: { outboxStore: fileOutboxStore(dir, address) },
    });
    const react = await received(bob, reactId, 'bob gets the queued reaction');
    expect(react.event).toEqual({ type: 'react', target, emoji: '🎉', on: true });
  }, 90_000);
});
