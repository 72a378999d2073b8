import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ChatEvent } from '../../../src-main/protocol/wire/chat-event.ts';
import { FILE_CHUNK_BYTES } from '../../../src-main/protocol/wire/chat-event.ts';
import { canary, findInFiles } from '../../support/e2ee-canary.ts';
import { ROOM, type RoomKind, pair, received } from '../../support/conversation-room.ts';
import { cleanupsAfterEach, sleep } from '../../support/lifecycle.ts';

// Files between two members through a real host process, in both kinds of room: uploaded
// sealed, fetched and opened by the other member, never stored readable by the host (its files
// hold no canary bytes); cancelled mid-upload; refused before upload when over the host's limit.

const cleanups = cleanupsAfterEach();
const KINDS: RoomKind[] = ['plaintext', 'e2ee'];

/** A file of `size` bytes with the canary written through it, so any stored copy shows it. */
function canaryFile(label: string, size: number): { bytes: Uint8Array; needle: string } {
  const needle = canary(label);
  const bytes = new Uint8Array(randomBytes(size));
  const mark = Buffer.from(needle);
  for (let at = 0; at + mark.length <= size; at += 7919) bytes.set(mark, at);
  return { bytes, needle };
}

describe.each(KINDS)('a file in a %s room', (kind) => {
  it('reaches the other member, who opens it; the host stores only ciphertext', async () => {
    const { h, alice, bob } = await pair(cleanups, kind);
    const { bytes, needle } = canaryFile('file', FILE_CHUNK_BYTES * 5 + 1234);
    const name = `${canary('name')}.bin`;
    const caption = `caption ${canary('caption')}`;
    const progress: number[] = [];
    const { id } = await alice.s.sendFile(
      ROOM,
      { bytes, name, mime: 'application/octet-stream', text: caption },
      { onProgress: (done) => progress.push(done) },
    );
    expect(progress.at(-1)).toBe(bytes.length);
    const message = await received(bob, id, 'bob gets the file event');
    expect(message.text).toBe(caption);
    const event = message.event as Extract<ChatEvent, { type: 'file' }>;
    expect(event).toMatchObject({ type: 'file', file: { name, size: bytes.length, chunks: 6 } });
    expect(message.file).toBe(event.file.id);
    const fetched = await bob.s.fetchFile(ROOM, event.file);
    expect(Buffer.from(fetched).equals(Buffer.from(bytes))).toBe(true);
    await sleep(300);
    const found = findInFiles(h.dataDir, [needle, name, caption]).map((s) => s.needle);
    // The file's bytes never; its name and caption only where the host reads events.
    expect(found.includes(needle)).toBe(false);
    expect(found.includes(name)).toBe(kind === 'plaintext');
    expect(found.includes(caption)).toBe(kind === 'plaintext');

    // Deleting the message deletes the file: it can no longer be fetched.
    const seq = await alice.seqOf(id);
    const deleted = alice.s.sendEvent(ROOM, { type: 'delete', target: seq });
    await received(bob, deleted, 'bob gets the deletion');
    await expect(bob.s.fetchFile(ROOM, event.file)).rejects.toMatchObject({ code: 'no-such-file' });
  }, 90_000);
});

describe.each(KINDS)("a file event in a %s room naming a file that is not the sender's", (kind) => {
  it('is refused no-such-file and dropped, and the other member gets nothing', async () => {
    const { alice, bob } = await pair(cleanups, kind);
    // bob's real upload, claimed by his message: alice cannot reuse it, nor name one that never was.
    const { id: bobsId, file } = await bob.s.sendFile(ROOM, {
      bytes: new Uint8Array(100),
      name: 'bobs.bin',
      mime: 'application/octet-stream',
    });
    await received(alice, bobsId, "alice gets bob's file");
    const stolen = alice.s.sendEvent(ROOM, { type: 'file', file });
    const invented = alice.s.sendEvent(ROOM, {
      type: 'file',
      file: { ...file, id: 'Z'.repeat(22) },
    });
    for (const id of [stolen, invented]) {
      await alice.wait(
        () => alice.of('error').some((e) => e.ref === id),
        `refusal of ${id}`,
        30_000,
      );
      expect(alice.of('error').find((e) => e.ref === id)).toMatchObject({
        code: 'no-such-file',
        dropped: { id, event: { type: 'file' } },
      });
    }
    const after = alice.s.send(ROOM, 'after the refusals');
    await received(bob, after, 'bob reads the next line');
    expect(bob.byId(stolen)).toBeUndefined();
    expect(bob.byId(invented)).toBeUndefined();
    expect(alice.s.pending).toEqual([]);
  }, 90_000);
});

describe('sending a file to a real host', () => {
  it('can be cancelled mid-upload: no message goes out', async () => {
    const { alice, bob } = await pair(cleanups, 'plaintext');
    const abort = new AbortController();
    const sent = alice.s.sendFile(
      ROOM,
      {
        bytes: new Uint8Array(FILE_CHUNK_BYTES * 64),
        name: 'big.bin',
        mime: 'application/octet-stream',
      },
      {
        signal: abort.signal,
        onProgress: (done) => {
          if (done > 0) abort.abort();
        },
      },
    );
    await expect(sent).rejects.toMatchObject({ code: 'cancelled' });
    // The session goes on: a line after it arrives, and no file event came before it.
    const after = alice.s.send(ROOM, 'after the cancel');
    await received(bob, after, 'bob reads the next line');
    expect(bob.of('message').some((m) => m.event?.type === 'file')).toBe(false);
    expect(alice.s.pending).toEqual([]);
  }, 60_000);

  it('takes a file of the largest size the host allows, both ways, without being hung up on', async () => {
    const { alice, bob } = await pair(cleanups, 'plaintext');
    const bytes = new Uint8Array(randomBytes(alice.s.maxFileBytes));
    const { id, file } = await alice.s.sendFile(ROOM, {
      bytes,
      name: 'largest.bin',
      mime: 'application/octet-stream',
    });
    await received(bob, id, 'bob gets the file event');
    const fetched = await bob.s.fetchFile(ROOM, file);
    expect(Buffer.from(fetched).equals(Buffer.from(bytes))).toBe(true);
    // Hundreds of chunks each way, and neither session was disconnected for it.
    for (const s of [alice, bob]) {
      expect(s.of('state').filter((state) => state.state === 'reconnecting')).toEqual([]);
    }
  }, 120_000);

  it('is refused as too large before anything is sent', async () => {
    const { alice } = await pair(cleanups, 'plaintext');
    const max = alice.s.maxFileBytes;
    expect(max).toBeGreaterThan(0);
    const before = alice.bytesWritten();
    await expect(
      alice.s.sendFile(ROOM, {
        bytes: new Uint8Array(max + 1),
        name: 'too-big.bin',
        mime: 'application/octet-stream',
      }),
    ).rejects.toMatchObject({ code: 'file-too-large' });
    expect(alice.bytesWritten()).toBe(before);
  }, 60_000);
});
