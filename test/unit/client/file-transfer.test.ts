import { describe, expect, it } from 'vitest';
import {
  CHUNK_ACK_TIMEOUT_MS,
  type FilePort,
  FileTransfers,
  WINDOW,
} from '../../../src-main/client/files/file-transfer.ts';
import { newFileKey } from '../../../src-main/client/files/file-cipher.ts';
import { MembershipError } from '../../../src-main/client/membership-requests.ts';
import { FILE_CHUNK_BYTES } from '../../../src-main/protocol/wire/chat-event.ts';

// FileTransfers with a port played by hand: which items go out when, and what a stuck or
// vanished host does to a transfer.

const FILE = 'F'.repeat(22);
const tick = () => new Promise((resolve) => setImmediate(resolve));

function fakePort() {
  const chunks: number[] = [];
  const requests: {
    t: string;
    resolve: (answer: unknown) => void;
    reject: (e: unknown) => void;
  }[] = [];
  const deadlines = new Map<string, number>();
  const port: FilePort = {
    request: (request) =>
      new Promise((resolve, reject) => {
        requests.push({ t: request.t, resolve: resolve as (a: unknown) => void, reject });
      }),
    writeChunk: (message) => {
      chunks.push(message.index);
      return true;
    },
    expect: (key, ms) => void deadlines.set(key, ms),
    settle: (key) => void deadlines.delete(key),
  };
  return { port, chunks, requests, deadlines };
}

describe('an upload', () => {
  it('keeps 4 chunks unacknowledged, with a deadline while any is, then ends', async () => {
    const { port, chunks, requests, deadlines } = fakePort();
    const transfers = new FileTransfers(port);
    const done = transfers.upload('lobby', newFileKey(), new Uint8Array(FILE_CHUNK_BYTES * 6));
    await tick();
    requests.shift()?.resolve({ t: 'file-started', rid: 1, file: FILE });
    await tick();
    expect(chunks).toEqual([0, 1, 2, 3]);
    expect(deadlines.get(`file-ack:${FILE}`)).toBe(CHUNK_ACK_TIMEOUT_MS);
    transfers.acked(FILE, 9); // not one it sent: ignored
    transfers.acked(FILE, 1);
    expect(chunks).toEqual([0, 1, 2, 3, 4]);
    for (const index of [0, 2, 3, 4, 5]) transfers.acked(FILE, index);
    expect(chunks).toHaveLength(6);
    await tick();
    expect(deadlines.size).toBe(0);
    const end = requests.shift();
    expect(end?.t).toBe('file-end');
    end?.resolve({ t: 'done', rid: 2 });
    await expect(done).resolves.toBe(FILE);
  });

  it('fails not-connected when the connection ends, and takes no acks after', async () => {
    const { port, chunks, requests } = fakePort();
    const transfers = new FileTransfers(port);
    const done = transfers.upload('lobby', newFileKey(), new Uint8Array(FILE_CHUNK_BYTES * 6));
    await tick();
    requests.shift()?.resolve({ t: 'file-started', rid: 1, file: FILE });
    await tick();
    transfers.disconnected();
    await expect(done).rejects.toMatchObject({ code: 'not-connected' });
    transfers.acked(FILE, 0);
    expect(chunks).toHaveLength(WINDOW);
  });

  it('maps the host refusing file-start to the transfer error', async () => {
    const { port, requests } = fakePort();
    const transfers = new FileTransfers(port);
    const done = transfers.upload('lobby', newFileKey(), new Uint8Array(10));
    await tick();
    requests.shift()?.reject(new MembershipError('quota-exceeded', 'full'));
    await expect(done).rejects.toMatchObject({ code: 'quota-exceeded' });
  });
});

describe('a download', () => {
  it('fails not-connected when the connection ends mid-way', async () => {
    const { port, requests } = fakePort();
    const transfers = new FileTransfers(port);
    const done = transfers.download({
      id: FILE,
      name: 'a',
      mime: 'text/plain',
      size: FILE_CHUNK_BYTES * 6,
      chunks: 6,
      key: 'k'.repeat(43),
    });
    await tick();
    expect(requests.map((r) => r.t)).toEqual(Array(WINDOW).fill('file-get'));
    transfers.disconnected();
    await expect(done).rejects.toMatchObject({ code: 'not-connected' });
  });
});
