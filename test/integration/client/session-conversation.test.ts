import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { encodeBase64Url } from '../../../src-shared/base64url.ts';
import { ChatSessionError } from '../../../src-main/client/chat-session.ts';
import {
  decryptFile,
  encryptFile,
  newFileKey,
} from '../../../src-main/client/files/file-cipher.ts';
import { MAX_GETS, WINDOW } from '../../../src-main/client/files/file-transfer.ts';
import { memoryOutboxStore } from '../../../src-main/client/outbox.ts';
import {
  FILE_CHUNK_BYTES,
  type ChatEvent,
  type FileRef,
} from '../../../src-main/protocol/wire/chat-event.ts';
import type { HostMessage } from '../../../src-main/protocol/wire/messages.ts';
import { StoredOutboxEntry } from '../../../src-main/store/outbox-store.ts';
import { cleanupsAfterEach, sleep, until } from '../../support/lifecycle.ts';
import {
  Peer,
  SCRIPTED_HOST_INFO,
  connected,
  roundTrip,
  scriptedHost,
  scriptedSession,
} from '../../support/scripted-host.ts';

// The conversation's events and files (#17) on the wire, against a host played by hand: what
// the client writes for each event, what it makes of what the host sends, and how it moves
// files in windows. The same features against a real host: conversation.test.ts.

const cleanups = cleanupsAfterEach();
const BOB = encodeBase64Url(new Uint8Array(32).fill(7));
const FILE_ID = 'F'.repeat(22);

function msg(seq: number, fields: Partial<Extract<HostMessage, { t: 'msg' }>>): HostMessage {
  return {
    t: 'msg',
    room: 'lobby',
    seq,
    id: `message-id-${String(seq).padStart(11, '0')}`,
    from: 'bob',
    key: BOB,
    ts: 1000 + seq,
    ...fields,
  };
}

async function setup(options: Parameters<typeof scriptedSession>[2] = {}) {
  const h = await scriptedHost(cleanups);
  const session = scriptedSession(cleanups, h, options);
  const peer = await connected(h, session.s);
  return { h, ...session, peer };
}

describe('events on the wire of a plaintext room', () => {
  it('writes a bare line as text, and every other event as ev with the relation it needs', async () => {
    const { s, peer } = await setup();
    s.send('lobby', 'plain');
    s.send('lobby', 'answer', { reply: 3 });
    s.sendEvent('lobby', { type: 'edit', target: 3, text: 'fixed' });
    s.sendEvent('lobby', { type: 'delete', target: 4 });
    s.sendEvent('lobby', { type: 'react', target: 3, emoji: '👍', on: true });
    s.sendEvent('lobby', { type: 'read', upTo: 9 });
    s.sendEvent('lobby', { type: 'text', text: 'also plain' });
    const sends = await peer.waitFor('send', 7);
    const wire = sends.map(({ t: _t, id: _id, room: _room, ...rest }) => rest);
    expect(wire).toEqual([
      { text: 'plain' },
      { ev: { type: 'text', text: 'answer', reply: 3 } },
      { ev: { type: 'edit', target: 3, text: 'fixed' }, rel: { t: 'edit', seq: 3 } },
      { ev: { type: 'delete', target: 4 }, rel: { t: 'delete', seq: 4 } },
      { ev: { type: 'react', target: 3, emoji: '👍', on: true } },
      { ev: { type: 'read', upTo: 9 } },
      { text: 'also plain' },
    ]);
  });

  it('refuses events no host would take, before they are queued', async () => {
    const { s } = await setup();
    const bad = [
      { type: 'react', target: 1, emoji: 'not an emoji', on: true },
      { type: 'edit', target: -1, text: 'x' },
      { type: 'edit', target: 1, text: '' },
      { type: 'nonsense' },
    ] as unknown as ChatEvent[];
    for (const event of bad) expect(() => s.sendEvent('lobby', event)).toThrow(ChatSessionError);
    expect(() => s.sendEvent('nowhere', { type: 'read', upTo: 1 })).toThrow(/join/);
    expect(s.pending).toEqual([]);
  });

  it('hands listeners the event of each message, and tombstones without one', async () => {
    const { of, peer } = await setup();
    peer.send(
      msg(1, { text: 'hello' }),
      msg(2, { ev: { type: 'text', text: 're', reply: 1 } }),
      msg(3, { ev: { type: 'edit', target: 1, text: 'hello!' }, rel: { t: 'edit', seq: 1 } }),
      msg(4, { ev: { type: 'react', target: 1, emoji: '🎉', on: true } }),
      msg(5, { deleted: true }),
    );
    await until(() => of('message').length === 5, 'five messages');
    const got = of('message').map((m) => ({
      seq: m.seq,
      text: m.text,
      event: m.event,
      rel: m.rel,
      deleted: m.deleted,
    }));
    expect(got).toEqual([
      { seq: 1, text: 'hello', event: { type: 'text', text: 'hello' } },
      { seq: 2, text: 're', event: { type: 'text', text: 're', reply: 1 } },
      {
        seq: 3,
        text: 'hello!',
        event: { type: 'edit', target: 1, text: 'hello!' },
        rel: { t: 'edit', seq: 1 },
      },
      { seq: 4, text: '', event: { type: 'react', target: 1, emoji: '🎉', on: true } },
      { seq: 5, text: '', deleted: true },
    ]);
    expect(of('message').some((m) => 'ev' in m)).toBe(false);
  });

  it('drops an edit the host refuses (no-such-message, forbidden) and says which, with the event', async () => {
    const { s, of, peer } = await setup();
    const edit = s.sendEvent('lobby', { type: 'edit', target: 5, text: 'not mine' });
    const del = s.sendEvent('lobby', { type: 'delete', target: 6 });
    await peer.waitFor('send', 2);
    peer.send(
      { t: 'error', code: 'forbidden', message: 'not yours', ref: edit },
      { t: 'error', code: 'no-such-message', message: 'gone', ref: del },
    );
    await until(() => of('error').length === 2, 'two errors');
    expect(of('error').map((e) => [e.code, e.dropped?.event?.type])).toEqual([
      ['forbidden', 'edit'],
      ['no-such-message', 'delete'],
    ]);
    expect(s.pending).toEqual([]);
  });

  it('resends an unacknowledged event after a reconnect under the same id (the host dedupes)', async () => {
    const { h, s, peer } = await setup();
    const id = s.sendEvent('lobby', { type: 'edit', target: 2, text: 'again' });
    await peer.waitFor('send');
    const next = h.nextChannel();
    peer.channel.close('shutdown', 'restart');
    const second = new Peer(await next);
    await second.admit();
    const [resent] = await second.waitFor('send');
    expect(resent).toEqual({
      t: 'send',
      room: 'lobby',
      id,
      ev: { type: 'edit', target: 2, text: 'again' },
      rel: { t: 'edit', seq: 2 },
    });
  });

  it('sends queued events saved by an earlier run, and reads outboxes saved before events existed', async () => {
    const old = { id: 'A'.repeat(22), room: 'lobby', text: 'from the old version', queuedAt: 1 };
    const react = {
      id: 'B'.repeat(22),
      room: 'lobby',
      text: '',
      event: { type: 'react', target: 2, emoji: '👍', on: false },
      queuedAt: 2,
    } as const;
    // The stores validate what they read back with StoredOutboxEntry: both shapes pass.
    expect(StoredOutboxEntry.safeParse(old).success).toBe(true);
    expect(StoredOutboxEntry.safeParse(react).success).toBe(true);
    expect(StoredOutboxEntry.safeParse({ ...old, text: '' }).success).toBe(false);
    const { peer } = await setup({ outboxStore: memoryOutboxStore([old, react]) });
    const sends = await peer.waitFor('send', 2);
    expect(sends).toEqual([
      { t: 'send', room: 'lobby', id: old.id, text: old.text },
      { t: 'send', room: 'lobby', id: react.id, ev: react.event },
    ]);
  });
});

/** Answers an upload like a host: file-started, an ack per chunk, done for file-end. */
function hostUploads(peer: Peer, options: { ackDelayMs?: number; stopAckingAt?: number } = {}) {
  const chunks = new Map<number, string>();
  let maxUnacked = 0;
  let unacked = 0;
  const seen = new Set<unknown>();
  const timer = setInterval(() => {
    for (const m of peer.received) {
      if (seen.has(m)) continue;
      seen.add(m);
      if (m.t === 'file-start') peer.send({ t: 'file-started', rid: m.rid, file: FILE_ID });
      if (m.t === 'file-end' || m.t === 'file-cancel') peer.send({ t: 'done', rid: m.rid });
      if (m.t === 'file-chunk') {
        chunks.set(m.index, m.data);
        unacked++;
        maxUnacked = Math.max(maxUnacked, unacked);
        if (options.stopAckingAt !== undefined && m.index >= options.stopAckingAt) continue;
        setTimeout(() => {
          unacked--;
          peer.send({ t: 'file-ack', file: m.file, index: m.index });
        }, options.ackDelayMs ?? 0);
      }
    }
  }, 2);
  cleanups.push(() => clearInterval(timer));
  return {
    chunks,
    maxUnacked: () => maxUnacked,
  };
}

const SIZE = FILE_CHUNK_BYTES * 9 + 100; // 10 chunks

describe('sending a file', () => {
  it('uploads it sealed, in a window of 4, then sends the file event that carries the key', async () => {
    const { s, peer } = await setup();
    const host = hostUploads(peer, { ackDelayMs: 5 });
    const bytes = new Uint8Array(randomBytes(SIZE));
    const progress: [number, number][] = [];
    const { id } = await s.sendFile(
      'lobby',
      { bytes, name: 'photo.png', mime: 'image/png', width: 4, height: 3, text: 'look' },
      { onProgress: (done, total) => progress.push([done, total]) },
    );
    const [start] = peer.of('file-start');
    expect(start).toMatchObject({ room: 'lobby', chunks: 10, size: SIZE + 16 * 10 });
    expect(host.maxUnacked()).toBeGreaterThan(1);
    expect(host.maxUnacked()).toBeLessThanOrEqual(WINDOW);
    expect(progress.at(-1)).toEqual([SIZE, SIZE]);
    expect(progress.map(([done]) => done)).toEqual(
      [...progress.map(([d]) => d)].sort((a, b) => a - b),
    );
    const [send] = await peer.waitFor('send');
    expect(send).toMatchObject({ id, file: FILE_ID, ev: { type: 'file', text: 'look' } });
    const ref = (send?.ev as Extract<ChatEvent, { type: 'file' }>).file;
    expect(ref).toMatchObject({ id: FILE_ID, name: 'photo.png', size: SIZE, chunks: 10, width: 4 });
    // What the host got is ciphertext that the event's key (and only it) opens.
    const sealed = [...host.chunks.keys()]
      .sort((a, b) => a - b)
      .map((i) => Buffer.from(host.chunks.get(i) ?? '', 'base64url'));
    expect(Buffer.concat(sealed).includes(Buffer.from(bytes.subarray(0, 64)))).toBe(false);
    const opened = decryptFile(Buffer.from(ref.key, 'base64url'), sealed, ref);
    expect(Buffer.from(opened).equals(Buffer.from(bytes))).toBe(true);
  });

  it("takes the caller's message id, and resolves with the FileRef it queued", async () => {
    const { s, peer } = await setup();
    hostUploads(peer);
    const chosen = 'C'.repeat(22);
    const bytes = new Uint8Array(randomBytes(100));
    const sent = await s.sendFile(
      'lobby',
      { bytes, name: 'a.txt', mime: 'text/plain' },
      { id: chosen },
    );
    expect(sent.id).toBe(chosen);
    const [send] = await peer.waitFor('send');
    expect(send).toMatchObject({ id: chosen, ev: { type: 'file', file: sent.file } });
    expect(sent.file).toMatchObject({ id: FILE_ID, size: 100, chunks: 1 });
    await expect(
      s.sendFile('lobby', { bytes, name: 'a.txt', mime: 'text/plain' }, { id: 'not an id' }),
    ).rejects.toMatchObject({ code: 'invalid-request' });
  });

  it("waits for the room's join when called while the session is still joining", async () => {
    const h = await scriptedHost(cleanups);
    const { s } = scriptedSession(cleanups, h);
    const next = h.nextChannel();
    s.start();
    const peer = new Peer(await next);
    peer.send({ t: 'welcome', nick: 'alice', fp: 'ME' });
    await peer.waitFor('join');
    await until(() => s.state === 'connected', 'connected');
    hostUploads(peer);
    const sent = s.sendFile('lobby', { bytes: new Uint8Array(10), name: 'a', mime: 'text/plain' });
    await roundTrip(peer);
    expect(peer.of('file-start')).toEqual([]); // not before the join is done
    peer.send({ t: 'joined', room: 'lobby' }, { t: 'members', room: 'lobby', members: [] });
    peer.send({ t: 'synced', room: 'lobby' });
    await sent;
    expect(peer.of('file-start')).toHaveLength(1);
  });

  it('says file-too-large before sending anything', async () => {
    const { s, peer } = await setup();
    expect(s.maxFileBytes).toBeGreaterThan(1000 * 1000);
    expect(s.maxFileBytes).toBeLessThan(SCRIPTED_HOST_INFO.limits.maxFileBytes ?? 0);
    const bytes = new Uint8Array(s.maxFileBytes + 1);
    await expect(
      s.sendFile('lobby', { bytes, name: 'big.bin', mime: 'application/octet-stream' }),
    ).rejects.toMatchObject({ code: 'file-too-large' });
    await roundTrip(peer);
    expect(peer.of('file-start')).toEqual([]);
    // The largest that fits is taken.
    hostUploads(peer);
    await s.sendFile('lobby', {
      bytes: new Uint8Array(s.maxFileBytes),
      name: 'fits.bin',
      mime: 'application/octet-stream',
    });
    expect(peer.of('file-start')[0]?.size).toBe(SCRIPTED_HOST_INFO.limits.maxFileBytes);
  });

  it('says file-too-large when the host takes no files at all', async () => {
    const h = await scriptedHost(cleanups, {
      ...SCRIPTED_HOST_INFO,
      limits: { maxTextBytes: 16384, messagesPerSecond: 1000 },
    });
    const { s } = scriptedSession(cleanups, h);
    await connected(h, s);
    expect(s.maxFileBytes).toBe(0);
    await expect(
      s.sendFile('lobby', { bytes: new Uint8Array(1), name: 'a', mime: 'text/plain' }),
    ).rejects.toMatchObject({ code: 'file-too-large' });
  });

  it('passes on the host refusing the upload (quota-exceeded)', async () => {
    const { s, peer } = await setup();
    const sent = s.sendFile('lobby', { bytes: new Uint8Array(10), name: 'a', mime: 'text/plain' });
    const [start] = await peer.waitFor('file-start');
    peer.send({ t: 'error', code: 'quota-exceeded', message: 'full', rid: start?.rid ?? 0 });
    await expect(sent).rejects.toMatchObject({ code: 'quota-exceeded' });
    expect(s.pending).toEqual([]);
  });

  it('cancels mid-upload: stops sending, tells the host, queues no message', async () => {
    const { s, peer } = await setup();
    hostUploads(peer, { stopAckingAt: 3 });
    const abort = new AbortController();
    const sent = s.sendFile(
      'lobby',
      { bytes: new Uint8Array(SIZE), name: 'a.bin', mime: 'application/octet-stream' },
      {
        signal: abort.signal,
        onProgress: (done) => {
          if (done >= FILE_CHUNK_BYTES * 3) abort.abort();
        },
      },
    );
    await expect(sent).rejects.toMatchObject({ code: 'cancelled' });
    await peer.waitFor('file-cancel');
    expect(peer.of('file-cancel')[0]?.file).toBe(FILE_ID);
    const chunksSent = peer.of('file-chunk').length;
    await sleep(50);
    expect(peer.of('file-chunk').length).toBe(chunksSent);
    expect(chunksSent).toBeLessThan(10);
    expect(peer.of('file-end')).toEqual([]);
    expect(peer.of('send')).toEqual([]);
    expect(s.pending).toEqual([]);
  });

  it('fails with not-connected when the connection drops mid-upload', async () => {
    const { h, s, peer } = await setup();
    hostUploads(peer, { stopAckingAt: 2 });
    const sent = s.sendFile('lobby', {
      bytes: new Uint8Array(SIZE),
      name: 'a.bin',
      mime: 'application/octet-stream',
    });
    await peer.waitFor('file-chunk', 3);
    void h.nextChannel();
    peer.channel.close('shutdown', 'restart');
    await expect(sent).rejects.toMatchObject({ code: 'not-connected' });
    expect(s.pending).toEqual([]);
  });

  it('fails when the host refuses a chunk, and cancels the upload', async () => {
    const { s, of, peer } = await setup();
    const sent = s.sendFile('lobby', {
      bytes: new Uint8Array(SIZE),
      name: 'a.bin',
      mime: 'application/octet-stream',
    });
    const [start] = await peer.waitFor('file-start');
    peer.send({ t: 'file-started', rid: start?.rid ?? 0, file: FILE_ID });
    await peer.waitFor('file-chunk', 2);
    peer.send({ t: 'error', code: 'internal', message: 'disk trouble', ref: FILE_ID });
    await expect(sent).rejects.toMatchObject({ code: 'file-failed' });
    expect((await peer.waitFor('file-cancel'))[0]?.file).toBe(FILE_ID);
    // Said through sendFile, not as a session error about some message.
    expect(of('error')).toEqual([]);
    expect(s.pending).toEqual([]);
  });

  it('fails with not-connected while offline', async () => {
    const h = await scriptedHost(cleanups);
    const { s } = scriptedSession(cleanups, h);
    // Never started: nothing can go, and the host's limit is not known yet.
    expect(s.maxFileBytes).toBe(0);
    await expect(
      s.sendFile('lobby', { bytes: new Uint8Array(1), name: 'a', mime: 'text/plain' }),
    ).rejects.toMatchObject({ code: 'not-connected' });
    expect(s.pending).toEqual([]);
  });
});

/** Serves `sealed` for file-get like a host, optionally changed on the way. */
function hostServes(peer: Peer, sealed: Uint8Array[], change?: (index: number) => Uint8Array) {
  let outstanding = 0;
  let maxOutstanding = 0;
  const seen = new Set<unknown>();
  const timer = setInterval(() => {
    for (const m of peer.received) {
      if (seen.has(m) || m.t !== 'file-get') continue;
      seen.add(m);
      outstanding++;
      maxOutstanding = Math.max(maxOutstanding, outstanding);
      setTimeout(() => {
        outstanding--;
        const data = Buffer.from(change?.(m.index) ?? sealed[m.index] ?? new Uint8Array(16));
        peer.send({
          t: 'file-data',
          rid: m.rid,
          file: m.file,
          index: m.index,
          data: data.toString('base64url'),
        });
      }, 3);
    }
  }, 2);
  cleanups.push(() => clearInterval(timer));
  return { maxOutstanding: () => maxOutstanding };
}

function sealedFile(size = SIZE) {
  const key = newFileKey();
  const bytes = new Uint8Array(randomBytes(size));
  const sealed = encryptFile(key, bytes);
  const ref: FileRef = {
    id: FILE_ID,
    name: 'a.bin',
    mime: 'application/octet-stream',
    size,
    chunks: sealed.length,
    key: Buffer.from(key).toString('base64url'),
  };
  return { bytes, sealed, ref };
}

describe('fetching a file', () => {
  it('downloads with at most 4 chunks outstanding and opens it', async () => {
    const { s, peer } = await setup();
    const { bytes, sealed, ref } = sealedFile();
    const host = hostServes(peer, sealed);
    const progress: number[] = [];
    const got = await s.fetchFile('lobby', ref, { onProgress: (done) => progress.push(done) });
    expect(Buffer.from(got).equals(Buffer.from(bytes))).toBe(true);
    expect(host.maxOutstanding()).toBeGreaterThan(1);
    expect(host.maxOutstanding()).toBeLessThanOrEqual(WINDOW);
    expect(progress.at(-1)).toBe(SIZE);
  });

  it('keeps at most MAX_GETS chunk requests in flight over many downloads at once', async () => {
    const { s, peer } = await setup();
    const { bytes, sealed, ref } = sealedFile();
    const host = hostServes(peer, sealed);
    const all = await Promise.all(Array.from({ length: 12 }, () => s.fetchFile('lobby', ref)));
    for (const got of all) expect(Buffer.from(got).equals(Buffer.from(bytes))).toBe(true);
    expect(host.maxOutstanding()).toBeGreaterThan(WINDOW);
    expect(host.maxOutstanding()).toBeLessThanOrEqual(MAX_GETS);
  });

  it('fails file-failed for an altered, swapped or shortened chunk', async () => {
    const { s, peer } = await setup();
    const { sealed, ref } = sealedFile();
    const flip = (index: number) => {
      const copy = new Uint8Array(sealed[index] ?? []);
      if (index === 4) copy[10] = (copy[10] ?? 0) ^ 1;
      return copy;
    };
    hostServes(peer, sealed, flip);
    await expect(s.fetchFile('lobby', ref)).rejects.toMatchObject({ code: 'file-failed' });
    const { s: s2, peer: peer2 } = await setup();
    hostServes(peer2, sealed, (i) => sealed[i === 2 ? 3 : i === 3 ? 2 : i] ?? new Uint8Array());
    await expect(s2.fetchFile('lobby', ref)).rejects.toMatchObject({ code: 'file-failed' });
    // A file cut after chunk 5 and presented as complete (fewer chunks, smaller size).
    const { s: s3, peer: peer3 } = await setup();
    hostServes(peer3, sealed);
    await expect(
      s3.fetchFile('lobby', { ...ref, chunks: 5, size: FILE_CHUNK_BYTES * 5 }),
    ).rejects.toMatchObject({ code: 'file-failed' });
  });

  it('passes on no-such-file, and cancels', async () => {
    const { s, peer } = await setup();
    const { ref } = sealedFile();
    const fetched = s.fetchFile('lobby', ref);
    const [get] = await peer.waitFor('file-get');
    peer.send({ t: 'error', code: 'no-such-file', message: 'expired', rid: get?.rid ?? 0 });
    await expect(fetched).rejects.toMatchObject({ code: 'no-such-file' });
    const abort = new AbortController();
    const cancelled = s.fetchFile('lobby', ref, { signal: abort.signal });
    abort.abort();
    await expect(cancelled).rejects.toMatchObject({ code: 'cancelled' });
  });
});
