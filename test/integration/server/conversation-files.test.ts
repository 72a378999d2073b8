import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { FILE_CHUNK_BYTES } from '../../../src-main/protocol/wire/chat-event.ts';
import type { HostMessage } from '../../../src-main/protocol/wire/messages.ts';
import { fileCiphertextBytes } from '../../../src-main/server/host-limits.ts';
import { cleanupsAfterEach, until } from '../../support/lifecycle.ts';
import { type WireClient, connectWireClient } from '../../support/wire-client.ts';
import { conversationSetup, sendAndAnswer, seqOf } from './conversation-kit.ts';

// Files on a real host (docs/protocol.md §13): uploads in chunks from the connection that started
// them, a message claiming the file, downloads by members only, the limits and quotas, the
// retention sweep and the uploads nobody claimed, and chunks that are not what they should be.

const cleanups = cleanupsAfterEach();
const { lobby } = conversationSetup(cleanups);

const FULL = FILE_CHUNK_BYTES + 16;

/** Ciphertext chunks as a client would send them: full ones, then the rest. */
function chunksOf(total: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let left = total; left > 0; left -= FULL) chunks.push(randomBytes(Math.min(FULL, left)));
  return chunks;
}

function errorOf(answer: HostMessage) {
  if (answer.t !== 'error') throw new Error(`expected an error, got ${answer.t}`);
  return answer;
}

/** The answer to a chunk: its `file-ack`, or an `error` about the file. */
function sendChunk(c: WireClient, file: string, index: number, data: Buffer | string) {
  const seen = new Set<HostMessage>(c.received);
  c.send({
    t: 'file-chunk',
    file,
    index,
    data: typeof data === 'string' ? data : data.toString('base64url'),
  });
  return Promise.race([
    c.waitFor('file-ack', (m) => !seen.has(m) && m.file === file && m.index === index),
    c.waitFor('error', (m) => !seen.has(m) && m.ref === file),
  ]);
}

async function start(c: WireClient, chunks: Buffer[], room = 'lobby') {
  const size = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
  return c.request({ t: 'file-start', room, size, chunks: chunks.length });
}

/** Uploads the chunks and returns the file's id once the host says it is complete. */
async function upload(c: WireClient, chunks: Buffer[], room = 'lobby'): Promise<string> {
  const started = await start(c, chunks, room);
  if (started.t !== 'file-started') throw new Error(`file-start: ${JSON.stringify(started)}`);
  const answers = await Promise.all(chunks.map((chunk, i) => sendChunk(c, started.file, i, chunk)));
  expect(answers.map((a) => a.t)).toEqual(chunks.map(() => 'file-ack'));
  expect(await c.request({ t: 'file-end', file: started.file })).toMatchObject({ t: 'done' });
  return started.file;
}

/** A message carrying the file (the key is the client's business; the host never sees one). */
function fileEvent(file: string, size: number, chunks: number) {
  return {
    ev: {
      type: 'file' as const,
      file: {
        id: file,
        name: 'plan.pdf',
        mime: 'application/pdf',
        size,
        chunks,
        key: 'k'.repeat(43),
      },
      text: 'the plan',
    },
    file,
  };
}

/** Every chunk, at most 4 asked for at a time (as clients do). */
async function download(c: WireClient, file: string, chunks: number): Promise<Buffer[]> {
  const out: Buffer[] = [];
  let next = 0;
  const worker = async () => {
    while (next < chunks) {
      const index = next++;
      const answer = await c.request({ t: 'file-get', file, index });
      if (answer.t !== 'file-data') throw new Error(`file-get: ${JSON.stringify(answer)}`);
      out[index] = Buffer.from(answer.data, 'base64url');
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  return out;
}

function countRows(dataDir: string, sql: string): number {
  const raw = new DatabaseSync(join(dataDir, 'history.sqlite'), { readOnly: true });
  try {
    return Number(raw.prepare(sql).get()?.['n']);
  } finally {
    raw.close();
  }
}
const fileRows = (dataDir: string) => countRows(dataDir, 'SELECT count(*) AS n FROM files');
const chunkRows = (dataDir: string) => countRows(dataDir, 'SELECT count(*) AS n FROM file_chunks');

describe('files', () => {
  it('round trip: uploaded, claimed by a message, downloaded by a member chunk by chunk', async () => {
    const { h, alice, bob } = await lobby();
    expect(alice.hostInfo.limits).toMatchObject({
      maxFileBytes: fileCiphertextBytes(25 * 1024 * 1024),
      fileRetentionDays: 30,
    });
    const chunks = chunksOf(2 * FULL + 1000);
    const file = await upload(alice, chunks);
    const size = 2 * FULL + 1000;
    // Not claimed yet: nobody can fetch it.
    expect(errorOf(await bob.request({ t: 'file-get', file, index: 0 }))).toMatchObject({
      code: 'no-such-file',
    });
    const seq = seqOf(await sendAndAnswer(alice, fileEvent(file, size, 3)));
    expect(await bob.waitFor('msg', (m) => m.seq === seq)).toMatchObject({
      file,
      ev: { type: 'file', file: { id: file } },
    });
    expect(await download(bob, file, 3)).toEqual(chunks);
    expect(errorOf(await bob.request({ t: 'file-get', file, index: 3 }))).toMatchObject({
      code: 'bad-request',
    });
    // Someone who is not a member gets nothing, exactly as for no file.
    const eve = await connectWireClient(h.address.port, h.publicKey, 'eve');
    cleanups.push(() => eve.close());
    await eve.waitFor('welcome');
    expect(errorOf(await eve.request({ t: 'file-get', file, index: 0 }))).toMatchObject({
      code: 'no-such-file',
    });
    // A file is claimed once.
    expect(await sendAndAnswer(alice, fileEvent(file, size, 3))).toMatchObject({
      code: 'no-such-file',
    });
  });

  it('a message may claim only its sender’s complete upload for that room', async () => {
    const { alice, bob } = await lobby();
    expect(await alice.request({ t: 'create', room: 'den' })).toMatchObject({ t: 'room' });
    await alice.join('den');
    const chunks = chunksOf(500);
    const file = await upload(alice, chunks);
    expect(await sendAndAnswer(bob, fileEvent(file, 500, 1))).toMatchObject({
      code: 'no-such-file',
    });
    expect(await sendAndAnswer(alice, { room: 'den', ...fileEvent(file, 500, 1) })).toMatchObject({
      code: 'no-such-file',
    });
    // Unfinished: not yet.
    const started = await start(alice, chunksOf(100));
    if (started.t !== 'file-started') throw new Error(started.t);
    expect(await sendAndAnswer(alice, fileEvent(started.file, 100, 1))).toMatchObject({
      code: 'no-such-file',
    });
    expect(await sendAndAnswer(alice, fileEvent(file, 500, 1))).toMatchObject({ t: 'ack' });
  });

  it('refuses files above the limit, beyond the quotas, and any at all when disabled', async () => {
    const max = 4 * FULL;
    const { alice, bob } = await lobby({
      limits: { maxFileBytes: max, fileQuotaBytes: 4 * 3 * FULL },
    });
    expect(alice.hostInfo.limits.maxFileBytes).toBe(max);
    const tooLarge = await alice.request({
      t: 'file-start',
      room: 'lobby',
      size: max + 1,
      chunks: 5,
    });
    expect(errorOf(tooLarge)).toMatchObject({ code: 'file-too-large' });
    // Each key may hold a quarter of the quota: 3 full chunks.
    await upload(alice, chunksOf(2 * FULL));
    const over = await alice.request({ t: 'file-start', room: 'lobby', size: 2 * FULL, chunks: 2 });
    expect(errorOf(over)).toMatchObject({ code: 'quota-exceeded' });
    expect(await start(alice, chunksOf(FULL))).toMatchObject({ t: 'file-started' });
    // Bob has his own quarter.
    expect(await start(bob, chunksOf(3 * FULL))).toMatchObject({ t: 'file-started' });
    // A size that chunks cannot hold is a bad request.
    expect(
      errorOf(await bob.request({ t: 'file-start', room: 'lobby', size: 10, chunks: 1 })),
    ).toMatchObject({ code: 'bad-request' });

    const none = await lobby({ limits: { maxFileBytes: 0 } });
    expect(none.alice.hostInfo.limits.maxFileBytes).toBe(0);
    expect(
      errorOf(await none.alice.request({ t: 'file-start', room: 'lobby', size: 100, chunks: 1 })),
    ).toMatchObject({ code: 'file-too-large' });
  });

  it('the whole host has a quota too', async () => {
    // Each key may hold a quarter: four people fill it.
    const { alice, bob, carol, connect } = await lobby({
      limits: { maxFileBytes: 4 * FULL, fileQuotaBytes: 4 * FULL },
    });
    const dave = await connect('dave');
    const erin = await connect('erin');
    await upload(alice, chunksOf(FULL));
    await upload(bob, chunksOf(FULL));
    await upload(carol, chunksOf(FULL));
    const daves = await upload(dave, chunksOf(FULL));
    const full = errorOf(await start(erin, chunksOf(16)));
    expect(full).toMatchObject({ code: 'quota-exceeded' });
    expect(full.message).toContain('full');
    expect(await dave.request({ t: 'file-cancel', file: daves })).toMatchObject({ t: 'done' });
    expect(await start(erin, chunksOf(16))).toMatchObject({ t: 'file-started' });
  });

  it('chunks that are not what the upload announced are refused', async () => {
    const { alice } = await lobby();
    const chunks = chunksOf(FULL + 100);
    const started = await start(alice, chunks);
    if (started.t !== 'file-started') throw new Error(started.t);
    const file = started.file;
    expect(errorOf(await sendChunk(alice, file, 2, chunks[0] ?? ''))).toMatchObject({
      code: 'bad-request',
    });
    expect(errorOf(await sendChunk(alice, file, 1, randomBytes(15)))).toMatchObject({
      code: 'bad-request',
    });
    expect(await sendChunk(alice, file, 0, chunks[0] ?? '')).toMatchObject({ t: 'file-ack' });
    expect(errorOf(await sendChunk(alice, file, 0, chunks[0] ?? ''))).toMatchObject({
      code: 'bad-request',
    });
    // More bytes than announced.
    expect(errorOf(await sendChunk(alice, file, 1, randomBytes(101)))).toMatchObject({
      code: 'bad-request',
    });
    // Not canonical base64url.
    const text = (chunks[1] ?? Buffer.alloc(0)).toString('base64url');
    const bent = text.slice(0, -1) + (text.endsWith('A') ? 'B' : 'A');
    const canonical = Buffer.from(bent, 'base64url').toString('base64url') === bent;
    if (!canonical) {
      expect(errorOf(await sendChunk(alice, file, 1, bent))).toMatchObject({ code: 'bad-request' });
    }
    // Ending early says what is missing.
    const early = errorOf(await alice.request({ t: 'file-end', file }));
    expect(early).toMatchObject({ code: 'bad-request' });
    expect(early.message).toContain('1 of');
    expect(await sendChunk(alice, file, 1, chunks[1] ?? '')).toMatchObject({ t: 'file-ack' });
    expect(await alice.request({ t: 'file-end', file })).toMatchObject({ t: 'done' });
    expect(errorOf(await sendChunk(alice, file, 1, chunks[1] ?? ''))).toMatchObject({
      code: 'no-such-file',
    });
  });

  it('only the connection that started an upload may send its chunks or end it', async () => {
    const { alice, bob, connect } = await lobby();
    const chunks = chunksOf(100);
    const started = await start(alice, chunks);
    if (started.t !== 'file-started') throw new Error(started.t);
    const other = await connect('alice', alice);
    for (const c of [bob, other]) {
      expect(errorOf(await sendChunk(c, started.file, 0, chunks[0] ?? ''))).toMatchObject({
        code: 'no-such-file',
      });
      expect(errorOf(await c.request({ t: 'file-end', file: started.file }))).toMatchObject({
        code: 'no-such-file',
      });
      expect(errorOf(await c.request({ t: 'file-cancel', file: started.file }))).toMatchObject({
        code: 'no-such-file',
      });
    }
    expect(await sendChunk(alice, started.file, 0, chunks[0] ?? '')).toMatchObject({
      t: 'file-ack',
    });
  });

  it('cancel drops an upload, or an unused file; a disconnect drops unfinished uploads', async () => {
    const { alice, dataDir, connect } = await lobby();
    const chunks = chunksOf(FULL + 10);
    const started = await start(alice, chunks);
    if (started.t !== 'file-started') throw new Error(started.t);
    await sendChunk(alice, started.file, 0, chunks[0] ?? '');
    expect(chunkRows(dataDir)).toBe(1);
    expect(await alice.request({ t: 'file-cancel', file: started.file })).toMatchObject({
      t: 'done',
    });
    expect(errorOf(await sendChunk(alice, started.file, 1, chunks[1] ?? ''))).toMatchObject({
      code: 'no-such-file',
    });
    expect([fileRows(dataDir), chunkRows(dataDir)]).toEqual([0, 0]);

    const done = await upload(alice, chunksOf(10 + 16));
    expect(await alice.request({ t: 'file-cancel', file: done })).toMatchObject({ t: 'done' });
    const claimed = await upload(alice, chunksOf(10 + 16));
    seqOf(await sendAndAnswer(alice, fileEvent(claimed, 10, 1)));
    expect(errorOf(await alice.request({ t: 'file-cancel', file: claimed }))).toMatchObject({
      code: 'no-such-file',
    });

    const leaving = await connect('alice', alice);
    const unfinished = await start(leaving, chunksOf(FULL * 2));
    expect(unfinished).toMatchObject({ t: 'file-started' });
    const finished = await upload(leaving, chunksOf(100));
    expect(fileRows(dataDir)).toBe(3);
    leaving.close();
    await leaving.closed;
    // The unfinished upload goes; the complete one waits for its message (the outbox resends it).
    await until(() => fileRows(dataDir) === 2, 'the unfinished upload to be dropped');
    expect(await sendAndAnswer(alice, fileEvent(finished, 84, 1))).toMatchObject({ t: 'ack' });
  });

  it('chunks have their own budget: a file of many chunks is not taken for a flood', async () => {
    const { alice, bob } = await lobby({
      limits: { requestBurst: 40, requestsPerSecond: 10, chunkBurst: 500, chunksPerSecond: 500 },
    });
    const chunks = Array.from({ length: 120 }, () => randomBytes(100));
    const file = await upload(alice, chunks);
    seqOf(await sendAndAnswer(alice, fileEvent(file, 120 * 84, 120)));
    expect(await download(bob, file, 120)).toEqual(chunks);
    expect(alice.channel.closeInfo).toBeUndefined();
    expect(bob.channel.closeInfo).toBeUndefined();
    // More than 64 waiting at once are refused, not queued without end.
    const many = await Promise.all(
      Array.from({ length: 80 }, () => bob.request({ t: 'file-get', file, index: 1 })),
    );
    expect(many.filter((a) => a.t === 'file-data').length).toBeGreaterThanOrEqual(64);
    expect(many.filter((a) => a.t === 'error' && a.code === 'rate-limited').length).toBeGreaterThan(
      0,
    );
    // Beyond the chunk budget it is a flood all the same.
    for (let i = 0; i < 600; i++) bob.send({ t: 'file-get', rid: 1_000_000 + i, file, index: 0 });
    expect((await bob.closed).code).toBe('flooding');
  });

  it('deleting the message deletes its file', async () => {
    const { alice, bob, dataDir } = await lobby();
    const chunks = chunksOf(FULL + 17);
    const file = await upload(alice, chunks);
    const seq = seqOf(await sendAndAnswer(alice, fileEvent(file, FILE_CHUNK_BYTES + 1, 2)));
    expect(await download(bob, file, 2)).toEqual(chunks);
    seqOf(
      await sendAndAnswer(alice, {
        ev: { type: 'delete', target: seq },
        rel: { t: 'delete', seq },
      }),
    );
    expect(errorOf(await bob.request({ t: 'file-get', file, index: 0 }))).toMatchObject({
      code: 'no-such-file',
    });
    expect([fileRows(dataDir), chunkRows(dataDir)]).toEqual([0, 0]);
  });

  it('retention: old files go (their messages stay); uploads nobody claimed go after 10 minutes', async () => {
    let clock = Date.now();
    const { alice, bob, dataDir } = await lobby({
      now: () => clock,
      fileSweepIntervalMs: 20,
      limits: { fileRetentionDays: 1, pingAfterMs: 1e12, idleTimeoutMs: 1e12 },
    });
    const chunks = chunksOf(300);
    const file = await upload(alice, chunks);
    const seq = seqOf(await sendAndAnswer(alice, fileEvent(file, 284, 1)));
    const unclaimed = await upload(alice, chunksOf(50));

    clock += 9 * 60 * 1000;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(fileRows(dataDir)).toBe(2);
    clock += 2 * 60 * 1000;
    await until(() => fileRows(dataDir) === 1, 'the unclaimed upload to be dropped');
    expect(await sendAndAnswer(alice, fileEvent(unclaimed, 34, 1))).toMatchObject({
      code: 'no-such-file',
    });
    expect(await download(bob, file, 1)).toEqual(chunks);

    clock += 24 * 3600 * 1000;
    expect(errorOf(await bob.request({ t: 'file-get', file, index: 0 }))).toMatchObject({
      code: 'no-such-file',
    });
    await until(() => fileRows(dataDir) === 0 && chunkRows(dataDir) === 0, 'the sweep');
    const history = await (async () => {
      const before = bob.received.length;
      bob.send({ t: 'history', room: 'lobby', before: seq + 1, limit: 5 });
      await bob.waitFor('history-end');
      return bob.received.slice(before);
    })();
    expect(history.find((m) => m.t === 'msg' && m.seq === seq)).toMatchObject({ file });
  });
});
