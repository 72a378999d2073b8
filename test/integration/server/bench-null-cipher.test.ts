import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { insecureNullCipherKeys } from '../../../bench/null-cipher.ts';
import { selectBackend } from '../../../src-main/protocol/crypto/select-backend.ts';
import { startHost } from '../../../src-main/server/host.ts';
import { startTapProxy } from '../../support/tap-proxy.ts';
import {
  type TestHost,
  collect,
  connectTestClient,
  decoder,
  encoder,
  startTestHost,
} from '../../support/loopback.ts';
import { cleanupsAfterEach } from '../../support/lifecycle.ts';

// The benchmark-only null transport cipher (bench/null-cipher.ts) exists so `npm run bench` can
// measure the cost of encryption. It must never pass for a real session.

const nullKeys = { transportKeys: insecureNullCipherKeys(selectBackend()) };

const cleanups = cleanupsAfterEach();

async function host(nullCipher: boolean): Promise<TestHost> {
  const h = await startTestHost(nullCipher ? nullKeys : {});
  cleanups.push(() => h.close());
  return h;
}

describe('the benchmark-only null cipher', () => {
  it('round-trips when both ends opt in, with the same framing (a 16-byte zero "tag")', async () => {
    const h = await host(true);
    const proxy = await startTapProxy(h.port);
    cleanups.push(() => proxy.close());
    const hostSide = h.nextChannel();
    const client = await connectTestClient(proxy.port, nullKeys);
    const serverInbox = collect(await hostSide);
    collect(client);
    const before = proxy.bytes('toHost').length;
    client.send(encoder.encode('plain as day'));
    expect(await serverInbox.waitFor(1)).toEqual(['plain as day']);
    const frame = proxy.bytes('toHost').subarray(before);
    // u16 length ‖ item (type, u16 length, body) ‖ 16 zero bytes where the tag would be.
    expect(frame.readUInt16BE(0)).toBe(3 + 12 + 16);
    expect(decoder.decode(frame.subarray(5, 17))).toBe('plain as day');
    expect([...frame.subarray(17)]).toEqual(new Array(16).fill(0));
  });

  it('fails a real client at its first record instead of downgrading it', async () => {
    const h = await host(true);
    const hostSide = h.nextChannel();
    const client = await connectTestClient(h.port);
    const server = await hostSide;
    collect(server);
    const inbox = collect(client);
    server.send(encoder.encode('not encrypted'));
    expect(await inbox.closed).toMatchObject({ by: 'error', code: 'decrypt-failed' });
    expect(inbox.messages).toEqual([]);
  });

  it('fails against a real host: the host refuses the unencrypted record', async () => {
    const h = await host(false);
    const hostSide = h.nextChannel();
    const client = await connectTestClient(h.port, nullKeys);
    const server = collect(await hostSide);
    collect(client);
    client.send(encoder.encode('not encrypted'));
    expect(await server.closed).toMatchObject({ by: 'error', code: 'decrypt-failed' });
    expect(server.messages).toEqual([]);
  });

  it('reaches the host only when the bench hands it in: its welcome fails a real client', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'parley-bench-null-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const running = await startHost({ host: '127.0.0.1', port: 0, dataDir, ...nullKeys });
    cleanups.push(() => running.stop());
    const client = await connectTestClient(running.address.port, {
      hello: encoder.encode('{"v":5,"nick":"ada","software":"test"}'),
    });
    const inbox = collect(client);
    expect(await inbox.closed).toMatchObject({ by: 'error', code: 'decrypt-failed' });
    expect(inbox.messages).toEqual([]);
  });
});
