import { describe, expect, it } from 'vitest';
import type { ConnectedClient } from '../../../src-main/server/connected-client.ts';
import {
  DOWNLOAD_BYTES_PER_TURN,
  FileDownloads,
  MAX_QUEUED_PER_CONNECTION,
} from '../../../src-main/server/file-downloads.ts';

// Downloads are answered a budget per event-loop turn, one chunk per connection in turn
// (docs/protocol.md §13): what keeps a room fetching a file from holding back everyone else.

const CHUNK = 43_712; // a full chunk's base64url
const turn = () => new Promise((resolve) => setImmediate(resolve));

function fakeClient(name: string, open = true): ConnectedClient {
  return { name, open } as unknown as ConnectedClient;
}

describe('file downloads', () => {
  it('serves connections in turn, a budget per event-loop turn', async () => {
    const served: string[][] = [[]];
    const downloads = new FileDownloads((client, request) => {
      served.at(-1)?.push(`${(client as unknown as { name: string }).name}${request.index}`);
      return CHUNK;
    });
    const [a, b, c] = [fakeClient('a'), fakeClient('b'), fakeClient('c')];
    for (let index = 0; index < 20; index++) {
      downloads.enqueue(a, { rid: index, file: 'f', index });
    }
    downloads.enqueue(b, { rid: 100, file: 'f', index: 0 });
    downloads.enqueue(c, { rid: 200, file: 'f', index: 0 });
    expect(served).toEqual([[]]); // nothing in the read that brought them
    const perTurn = Math.ceil(DOWNLOAD_BYTES_PER_TURN / CHUNK);
    for (let i = 0; i < 5; i++) {
      await turn();
      served.push([]);
    }
    const turns = served.filter((t) => t.length > 0);
    expect(turns[0]?.slice(0, 4)).toEqual(['a0', 'b0', 'c0', 'a1']);
    expect(turns[0]).toHaveLength(perTurn);
    expect(turns.length).toBeGreaterThan(1);
    for (const t of turns) expect(t.length).toBeLessThanOrEqual(perTurn);
    expect(turns.flat()).toHaveLength(22);
  });

  it('bounds what one connection may have waiting, and forgets a connection that went', async () => {
    let answered = 0;
    const downloads = new FileDownloads(() => {
      answered++;
      return 100;
    });
    const greedy = fakeClient('g');
    const results = Array.from({ length: MAX_QUEUED_PER_CONNECTION + 5 }, (_, index) =>
      downloads.enqueue(greedy, { rid: index, file: 'f', index }),
    );
    expect(results.filter((ok) => !ok)).toHaveLength(5);
    downloads.dropClient(greedy);
    const gone = fakeClient('x', false);
    downloads.enqueue(gone, { rid: 1, file: 'f', index: 0 });
    await turn();
    await turn();
    expect(answered).toBe(0);
  });
});
