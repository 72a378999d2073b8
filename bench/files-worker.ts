// One thread of the files benchmark (bench/files.ts): either the chat stream of room B (one
// sender every few ms, the others time each delivery), or room A's file transfer (one member
// uploads, every other member downloads). Stream and transfer run in separate threads so that the
// downloaders' decryption never sits between a stream message and its receiver's clock.
// Unlike bench/load-worker.ts, every item is parsed as JSON: these rates are low, and the transfer
// must read ids, indexes and data.
import { randomBytes } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { selectBackend } from '../src-main/protocol/crypto/select-backend.ts';
import { FILE_CHUNK_BYTES, type FileRef } from '../src-main/protocol/wire/chat-event.ts';
import { monoNow } from './measure.ts';
import { type BenchCipher, type BenchConnection, connectBench } from './wire.ts';

/** What bench/files.ts tells a thread to do. */
export type FilesCommand =
  | {
      cmd: 'open';
      port: number;
      hostKey: Uint8Array;
      cipher: BenchCipher;
      room: string;
      members: number;
      nickPrefix: string;
    }
  | { cmd: 'stream-start'; intervalMs: number; textBytes: number }
  | { cmd: 'stream-stop' }
  | { cmd: 'transfer'; label: string; plaintextBytes: number; window: number; timeoutMs: number }
  | { cmd: 'close' };

export interface StreamReport {
  readonly sent: number;
  readonly delivered: number;
  readonly receivers: number;
  /** Pairs (send time, latency), both ms; send times on CLOCK_MONOTONIC (`monoNow`). */
  readonly samples: Float64Array;
}

export interface TransferReport {
  /** file-start → `done` for file-end: every chunk stored (ms). */
  readonly uploadMs: number;
  /** `done` → the `ack` of the `send` that claims the file (ms). */
  readonly claimMs: number;
  /** The claim's `ack` → the last downloader's last chunk (ms). */
  readonly downloadsMs: number;
  /** file-start → the last downloader's last chunk (ms). */
  readonly totalMs: number;
  /** Per downloader, its `msg` → its last chunk (ms), sorted. */
  readonly perDownloadMs: number[];
  readonly downloaders: number;
  readonly chunks: number;
  /** Ciphertext bytes uploaded once and downloaded by each downloader. */
  readonly fileBytes: number;
  /** Bytes on the loopback sockets of room A's members, both directions (records, framing). */
  readonly wireBytes: number;
  /** Chunks whose data came back different from what was uploaded (must be 0). */
  readonly mismatches: number;
}

type Json = Record<string, unknown>;
type Handler = (message: Json) => void;

interface Member {
  readonly index: number;
  readonly connection: BenchConnection;
  /** Replaced by whatever the member is doing now; pings are answered below it. */
  handler: Handler;
}

const backend = selectBackend();
const role = (workerData as { role: 'stream' | 'transfer' }).role;
const members: Member[] = [];
const problems: string[] = [];
let room = '';

function parse(record: Uint8Array, start: number, end: number): Json {
  return JSON.parse(
    Buffer.from(record.buffer, record.byteOffset + start, end - start).toString(),
  ) as Json;
}

async function openOne(
  command: Extract<FilesCommand, { cmd: 'open' }>,
  index: number,
): Promise<Member> {
  const connection = await connectBench({
    port: command.port,
    hostKey: command.hostKey,
    keyPair: backend.generateKeyPair(),
    nick: `${command.nickPrefix}${index}`,
    cipher: command.cipher,
    backend,
  });
  const member: Member = { index, connection, handler: () => undefined };
  connection.onItem = (record, start, end) => {
    const message = parse(record, start, end);
    if (message['t'] === 'ping') connection.queueJson(`{"t":"pong","n":${String(message['n'])}}`);
    else member.handler(message);
  };
  await new Promise<void>((resolve, reject) => {
    connection.onClose = (reason) => reject(new Error(reason));
    member.handler = (message) => {
      if (message['t'] === 'welcome') {
        connection.queueJson(JSON.stringify({ t: 'join', room: command.room }));
      } else if (message['t'] === 'synced') resolve();
      else if (message['t'] === 'error') reject(new Error(`join: ${String(message['code'])}`));
    };
  });
  connection.onClose = (reason) => {
    if (problems.length < 10) problems.push(`${command.nickPrefix}${index}: ${reason}`);
  };
  member.handler = () => undefined;
  return member;
}

// ── the stream (room B) ───────────────────────────────────────────────────────────────

let streamTimer: NodeJS.Timeout | undefined;
let streamSent = 0;
let streamDelivered = 0;
let streamSamples = new Float64Array(1 << 16);
let sampleCount = 0;

function record(sentAt: number, latency: number): void {
  if (2 * sampleCount + 2 > streamSamples.length) {
    const grown = new Float64Array(streamSamples.length * 2);
    grown.set(streamSamples);
    streamSamples = grown;
  }
  streamSamples[2 * sampleCount] = sentAt;
  streamSamples[2 * sampleCount + 1] = latency;
  sampleCount++;
}

function streamStart(command: Extract<FilesCommand, { cmd: 'stream-start' }>): void {
  const [sender, ...receivers] = members;
  if (!sender || receivers.length === 0) throw new Error('the stream needs two members');
  for (const receiver of receivers) {
    receiver.handler = (message) => {
      if (message['t'] !== 'msg') return;
      const text = String(message['text'] ?? '');
      const sentAt = Number(text.slice(1, text.indexOf('~', 1)));
      streamDelivered++;
      record(sentAt, monoNow() - sentAt);
    };
  }
  // A fixed schedule: a late timer sends what it owes at once, stamped with the real send time,
  // so the figure is the host's delay (and the receivers'), not this thread's timer slack.
  const start = monoNow();
  let k = 0;
  const tick = (): void => {
    while (start + k * command.intervalMs <= monoNow()) {
      const stamp = `~${monoNow().toFixed(3)}~`;
      const text = stamp + 'x'.repeat(Math.max(0, command.textBytes - stamp.length));
      streamSent++;
      sender.connection.queueJson(
        `{"t":"send","room":"${room}","id":"files-stream-${streamSent}","text":"${text}"}`,
      );
      k++;
    }
    streamTimer = setTimeout(tick, Math.max(0, start + k * command.intervalMs - monoNow()));
  };
  tick();
}

async function streamStop(): Promise<StreamReport> {
  clearTimeout(streamTimer);
  const receivers = members.length - 1;
  const deadline = monoNow() + 10_000;
  while (streamDelivered < streamSent * receivers && monoNow() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return {
    sent: streamSent,
    delivered: streamDelivered,
    receivers,
    samples: streamSamples.slice(0, 2 * sampleCount),
  };
}

// ── the transfer (room A) ─────────────────────────────────────────────────────────────

let rid = 0;

function wireBytes(): number {
  let total = 0;
  for (const m of members)
    total += m.connection.socket.bytesRead + m.connection.socket.bytesWritten;
  return total;
}

/**
 * One file, as a client sends it: file-start; 32 KiB chunks (+16 bytes of tag) with at most
 * `window` unacknowledged; file-end; a plaintext room's `send {ev: file, file}`. Every other
 * member fetches it as soon as the message arrives, with at most `window` chunks outstanding.
 * The bytes are random: the host stores ciphertext and never reads it.
 */
async function transfer(
  command: Extract<FilesCommand, { cmd: 'transfer' }>,
): Promise<TransferReport> {
  const [uploader, ...downloaders] = members;
  if (!uploader || downloaders.length === 0) throw new Error('the transfer needs two members');
  const chunks = Math.ceil(command.plaintextBytes / FILE_CHUNK_BYTES);
  const data = Array.from({ length: chunks }, (_, i) => {
    const plain = Math.min(FILE_CHUNK_BYTES, command.plaintextBytes - i * FILE_CHUNK_BYTES);
    return randomBytes(plain + 16).toString('base64url');
  });
  const fileBytes = command.plaintextBytes + 16 * chunks;
  const wireBefore = wireBytes();
  let mismatches = 0;

  return new Promise<TransferReport>((resolve, reject) => {
    const fail = (why: string): void => {
      clearTimeout(timer);
      for (const m of members) m.handler = () => undefined;
      reject(new Error(`transfer ${command.label}: ${why}`));
    };
    const timer = setTimeout(() => fail('timed out'), command.timeoutMs);
    const startRid = ++rid;
    const endRid = ++rid;
    const sendId = `files-claim-${command.label}`;
    let file = '';
    let nextChunk = 0;
    let acked = 0;
    const startedAt = monoNow();
    let uploadedAt = 0;
    let claimedAt = 0;
    let finished = 0;
    let lastDoneAt = 0;
    const perDownload: number[] = [];

    const sendChunk = (): void => {
      const index = nextChunk++;
      uploader.connection.queueJson(
        `{"t":"file-chunk","file":"${file}","index":${index},"data":"${data[index] ?? ''}"}`,
      );
    };
    uploader.handler = (message) => {
      switch (message['t']) {
        case 'file-started':
          if (message['rid'] !== startRid) return;
          file = String(message['file']);
          while (nextChunk < chunks && nextChunk < command.window) sendChunk();
          return;
        case 'file-ack':
          acked++;
          if (nextChunk < chunks) sendChunk();
          else if (acked === chunks) {
            uploader.connection.queueJson(JSON.stringify({ t: 'file-end', rid: endRid, file }));
          }
          return;
        case 'done': {
          if (message['rid'] !== endRid) return;
          uploadedAt = monoNow();
          const ref: FileRef = {
            id: file,
            name: `bench-${command.label}.bin`,
            mime: 'application/octet-stream',
            size: command.plaintextBytes,
            chunks,
            key: randomBytes(32).toString('base64url'),
          };
          uploader.connection.queueJson(
            JSON.stringify({ t: 'send', room, id: sendId, ev: { type: 'file', file: ref }, file }),
          );
          return;
        }
        case 'ack':
          if (message['id'] === sendId) claimedAt = monoNow();
          return;
        case 'error':
          fail(`the uploader got ${String(message['code'])}: ${String(message['message'])}`);
          return;
      }
    };
    for (const downloader of downloaders) {
      let began = 0;
      let next = 0;
      let received = 0;
      const ask = (): void => {
        const index = next++;
        downloader.connection.queueJson(
          `{"t":"file-get","rid":${index},"file":"${file}","index":${index}}`,
        );
      };
      downloader.handler = (message) => {
        switch (message['t']) {
          case 'msg':
            if (message['file'] !== file || file === '') return;
            began = monoNow();
            while (next < chunks && next < command.window) ask();
            return;
          case 'file-data': {
            if (message['file'] !== file) return;
            if (message['data'] !== data[Number(message['index'])]) mismatches++;
            received++;
            if (next < chunks) ask();
            else if (received === chunks) {
              lastDoneAt = monoNow();
              perDownload.push(lastDoneAt - began);
              if (++finished === downloaders.length) done();
            }
            return;
          }
          case 'error':
            fail(`a downloader got ${String(message['code'])}: ${String(message['message'])}`);
            return;
        }
      };
    }
    const done = (): void => {
      clearTimeout(timer);
      for (const m of members) m.handler = () => undefined;
      resolve({
        uploadMs: uploadedAt - startedAt,
        claimMs: claimedAt > 0 ? claimedAt - uploadedAt : NaN,
        downloadsMs: lastDoneAt - (claimedAt || uploadedAt),
        totalMs: lastDoneAt - startedAt,
        perDownloadMs: perDownload.sort((a, b) => a - b),
        downloaders: downloaders.length,
        chunks,
        fileBytes,
        wireBytes: wireBytes() - wireBefore,
        mismatches,
      });
    };
    uploader.connection.queueJson(
      JSON.stringify({ t: 'file-start', rid: startRid, room, size: fileBytes, chunks }),
    );
  });
}

// ── commands ──────────────────────────────────────────────────────────────────────────

async function handle(command: FilesCommand): Promise<unknown> {
  switch (command.cmd) {
    case 'open': {
      room = command.room;
      // A few at a time: every new key claims its nickname (one durable write each).
      for (let i = 0; i < command.members; i += 10) {
        const batch = Array.from({ length: Math.min(10, command.members - i) }, (_, j) =>
          openOne(command, i + j),
        );
        members.push(...(await Promise.all(batch)));
      }
      return { role, members: members.length };
    }
    case 'stream-start':
      streamStart(command);
      return {};
    case 'stream-stop':
      return streamStop();
    case 'transfer':
      return transfer(command);
    case 'close':
      for (const m of members) {
        m.connection.onClose = () => undefined;
        m.connection.close();
      }
      members.length = 0;
      return { problems };
  }
}

parentPort?.on('message', (message: { id: number; command: FilesCommand }) => {
  handle(message.command).then(
    (result) => parentPort?.postMessage({ id: message.id, result }),
    (error: unknown) =>
      parentPort?.postMessage({ id: message.id, error: (error as Error).stack ?? String(error) }),
  );
});
