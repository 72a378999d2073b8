import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { encodePayload, eventPayload } from '../../../src-main/e2ee/payload.ts';
import type { ChatEvent } from '../../../src-main/protocol/wire/chat-event.ts';
import { relationOf } from '../../../src-main/protocol/wire/chat-event.ts';
import type { RoomGroup } from '../../../src-main/e2ee/room-group.ts';
import { cleanupsAfterEach } from '../../support/lifecycle.ts';
import type { WireClient } from '../../support/wire-client.ts';
import { databaseBytes, newId, sendAndAnswer, seqOf } from './conversation-kit.ts';
import { e2eeHostSetup } from './e2ee-host-setup.ts';
import { joinGroup, newGroup } from './e2ee-kit.ts';

// Edits and deletions in an end-to-end encrypted room (docs/protocol.md §13): the host cannot
// read the event, so it goes by the send's `rel` alone — the same checks as in a plaintext room,
// and a deletion erases the target's ciphertext.

const cleanups = cleanupsAfterEach();
const { aliceAndBob } = e2eeHostSetup(cleanups, 'parley-conversation-e2ee-');

/** A member's group, moved on by each message it encrypts. */
class Sender {
  readonly c: WireClient;
  group: RoomGroup;

  constructor(c: WireClient, group: RoomGroup) {
    this.c = c;
    this.group = group;
  }

  async send(event: ChatEvent) {
    const id = newId();
    const epoch = this.group.epoch;
    const { data, next } = await this.group.encrypt(encodePayload(eventPayload(id, event)));
    this.group = next;
    return sendAndAnswer(this.c, { id, mls: data, epoch, ...relationOf(event) });
  }
}

async function encryptedLobby() {
  const t = await aliceAndBob({}, 3);
  await t.alice.join('lobby');
  await t.bob.join('lobby');
  const claimed = await t.alice.request({ t: 'kp-claim', room: 'lobby', have: [] });
  if (claimed.t !== 'kps') throw new Error(`kp-claim: ${claimed.t}`);
  const bobs = claimed.kps.filter((kp) => kp.device === t.bobInstall.device.deviceText);
  const prepared = await (
    await newGroup(t.aliceInstall)
  ).prepareCommit({ add: bobs.map((kp) => kp.kp), remove: [] });
  expect(
    await t.alice.request({
      t: 'commit',
      room: 'lobby',
      commit: prepared.commit,
      ...(prepared.welcome ? { welcome: prepared.welcome } : {}),
      to: prepared.to,
    }),
  ).toMatchObject({ t: 'committed' });
  const welcome = await t.bob.waitFor('mls-welcome', (m) => m.room === 'lobby');
  return {
    ...t,
    alice: new Sender(t.alice, prepared.next),
    bob: new Sender(t.bob, await joinGroup(t.bobInstall, welcome.data)),
  };
}

describe('events in an end-to-end encrypted room', () => {
  it('relays rel with the ciphertext, and holds edits and deletions to the same rules', async () => {
    const { alice, bob, dataDir } = await encryptedLobby();
    const mine = seqOf(await alice.send({ type: 'text', text: 'hello' }));
    const edit = await alice.send({ type: 'edit', target: mine, text: 'hello all' });
    const editSeq = seqOf(edit);
    const relayed = await bob.c.waitFor('msg', (m) => m.seq === editSeq);
    expect(relayed.rel).toEqual({ t: 'edit', seq: mine });
    expect(relayed.mls).toBeDefined();
    expect(relayed.text).toBeUndefined();

    expect(await bob.send({ type: 'edit', target: mine, text: 'x' })).toMatchObject({
      code: 'forbidden',
    });
    expect(await bob.send({ type: 'delete', target: mine })).toMatchObject({ code: 'forbidden' });
    expect(await alice.send({ type: 'delete', target: mine + 999 })).toMatchObject({
      code: 'no-such-message',
    });
    // Text (or ev) to an encrypted room is still e2ee-mismatch, whatever it relates to.
    expect(
      await sendAndAnswer(alice.c, {
        ev: { type: 'delete', target: mine },
        rel: { t: 'delete', seq: mine },
      }),
    ).toMatchObject({ code: 'e2ee-mismatch' });

    const ciphertext = relayed.mls ?? '';
    expect(databaseBytes(dataDir).includes(ciphertext)).toBe(true);
    // Alice is the owner: she may delete bob's messages as well as her own.
    const bobs = seqOf(await bob.send({ type: 'text', text: 'hi' }));
    seqOf(await alice.send({ type: 'delete', target: bobs }));
    const deleteSeq = seqOf(await alice.send({ type: 'delete', target: mine }));
    const deletion = await bob.c.waitFor('msg', (m) => m.seq === deleteSeq);
    expect(deletion.rel).toEqual({ t: 'delete', seq: mine });
    expect(databaseBytes(dataDir).includes(ciphertext)).toBe(false);

    // A file in an encrypted room: the host checks only the send's `file`.
    const chunk = randomBytes(40);
    const started = await alice.c.request({ t: 'file-start', room: 'lobby', size: 40, chunks: 1 });
    if (started.t !== 'file-started') throw new Error(started.t);
    alice.c.send({
      t: 'file-chunk',
      file: started.file,
      index: 0,
      data: chunk.toString('base64url'),
    });
    await alice.c.waitFor('file-ack', (m) => m.file === started.file);
    expect(await alice.c.request({ t: 'file-end', file: started.file })).toMatchObject({
      t: 'done',
    });
    const ref = {
      id: started.file,
      name: 'a.bin',
      mime: 'application/octet-stream',
      size: 24,
      chunks: 1,
      key: 'k'.repeat(43),
    };
    expect(await bob.send({ type: 'file', file: ref })).toMatchObject({ code: 'no-such-file' });
    const fileSeq = seqOf(await alice.send({ type: 'file', file: ref }));
    expect(await bob.c.waitFor('msg', (m) => m.seq === fileSeq)).toMatchObject({
      file: started.file,
    });
    const got = await bob.c.request({ t: 'file-get', file: started.file, index: 0 });
    expect(got).toMatchObject({ t: 'file-data', data: chunk.toString('base64url') });

    // A later join sees the tombstones, without ciphertext.
    bob.c.send({ t: 'leave', room: 'lobby' });
    await bob.c.waitFor('left');
    const before = bob.c.received.length;
    await bob.c.join('lobby');
    const history = bob.c.received.slice(before).filter((m) => m.t === 'msg');
    for (const seq of [mine, bobs]) {
      const row = history.find((m) => m.seq === seq);
      expect(row).toMatchObject({ deleted: true });
      expect(row && 'mls' in row ? row.mls : undefined).toBeUndefined();
    }
    // The deleted message's edit left no row (a tombstone of it would show as another message).
    expect(history.find((m) => m.seq === editSeq)).toBeUndefined();
  });
});
