import { describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { backends } from '../../../src-main/protocol/crypto/all-backends.ts';
import { HostKeyMismatch, pinnedHostKey } from '../../../src-main/protocol/host-key.ts';
import { ProtocolError } from '../../../src-main/protocol/errors.ts';
import { SUITES } from '../../../src-main/protocol/suites.ts';
import { MAX_ITEM_LEN } from '../../../src-main/protocol/records.ts';
import {
  type TestHost,
  collect,
  connectSocket,
  connectTestClient,
  decoder,
  encoder,
  newKeyPair,
  startTestHost,
} from '../../support/loopback.ts';
import { startTapProxy } from '../../support/tap-proxy.ts';
import { cleanupsAfterEach } from '../../support/lifecycle.ts';

const cleanups = cleanupsAfterEach();

async function host(options: Parameters<typeof startTestHost>[0] = {}): Promise<TestHost> {
  const h = await startTestHost(options);
  cleanups.push(() => h.close());
  return h;
}

/** Completes a handshake and returns both ends, started, with their inboxes. */
async function pairUp(h: TestHost, options: Parameters<typeof connectTestClient>[1] = {}) {
  const hostSide = h.nextChannel();
  const client = await connectTestClient(h.port, options);
  const server = await hostSide;
  return { client, server, clientInbox: collect(client), serverInbox: collect(server) };
}

describe('secure channel over loopback TCP', () => {
  for (const suite of SUITES) {
    for (const [clientBackend, hostBackend] of [
      ['node', 'node'],
      ['noble', 'noble'],
      ['node', 'noble'],
      ['noble', 'node'],
    ] as const) {
      it(`round-trips in ${suite} (client ${clientBackend}, host ${hostBackend})`, async () => {
        // Backend objects: select-backend.ts loads @noble only when the environment asks for it.
        const h = await host({ backend: backends[hostBackend] });
        const clientKeys = newKeyPair();
        const { client, server, clientInbox, serverInbox } = await pairUp(h, {
          suite,
          backend: backends[clientBackend],
          staticKeyPair: clientKeys,
          hello: encoder.encode('hello from alice'),
          verifyHost: pinnedHostKey(h.keyPair.publicKey),
        });
        expect(client.protocolName).toBe(suite);
        expect(server.remoteStaticKey).toEqual(clientKeys.publicKey);
        expect(client.remoteStaticKey).toEqual(h.keyPair.publicKey);
        expect(decoder.decode(server.peerPayload)).toBe('hello from alice');
        expect(decoder.decode(client.peerPayload)).toBe('{"name":"test"}');
        expect(client.handshakeHash).toEqual(server.handshakeHash);

        client.send(encoder.encode('ping'));
        server.send(encoder.encode('pong'));
        expect(await serverInbox.waitFor(1)).toEqual(['ping']);
        expect(await clientInbox.waitFor(1)).toEqual(['pong']);
        client.close('bye', 'done for today');
        const closed = await serverInbox.closed;
        expect(closed).toMatchObject({ by: 'peer', code: 'bye', reason: 'done for today' });
      });
    }
  }

  it('batches a turn of sends into one write, in order, across record boundaries', async () => {
    const h = await host();
    const { client, serverInbox } = await pairUp(h);
    const big = 'x'.repeat(30_000);
    const sent = Array.from({ length: 20 }, (_, i) => `${i}:${i % 5 === 0 ? big : 'small'}`);
    for (const message of sent) client.send(encoder.encode(message));
    expect(await serverInbox.waitFor(sent.length)).toEqual(sent);
  });

  it('one write per turn: 500 sends leave as a single socket write', async () => {
    const h = await host();
    const proxy = await startTapProxy(h.port);
    cleanups.push(() => proxy.close());
    const hostSide = h.nextChannel();
    const client = await connectTestClient(proxy.port);
    const serverInbox = collect(await hostSide);
    collect(client);
    const chunksBefore = proxy.seen.toHost.length;
    const bytesBefore = proxy.bytes('toHost').length;
    for (let i = 0; i < 500; i++) client.send(encoder.encode(`message ${i}`));
    await serverInbox.waitFor(500);
    const transport = proxy.bytes('toHost').subarray(bytesBefore);
    // One frame: its length prefix covers everything that was written.
    expect(transport.readUInt16BE(0) + 2).toBe(transport.length);
    expect(proxy.seen.toHost.length - chunksBefore).toBeLessThanOrEqual(2);
  });

  it('refuses to send an application message larger than a record', async () => {
    const h = await host();
    const { client } = await pairUp(h);
    expect(() => client.send(new Uint8Array(MAX_ITEM_LEN + 1))).toThrow(ProtocolError);
    expect(client.send(new Uint8Array(MAX_ITEM_LEN))).toBe(true);
  });

  it('rekeys both directions in step', async () => {
    const h = await host({ rekeyInterval: 3 });
    const { client, server, serverInbox, clientInbox } = await pairUp(h, { rekeyInterval: 3 });
    for (let i = 0; i < 10; i++) {
      client.send(encoder.encode(`c${i}`));
      server.send(encoder.encode(`s${i}`));
      await serverInbox.waitFor(i + 1);
      await clientInbox.waitFor(i + 1);
    }
    expect(serverInbox.messages.at(-1)).toBe('c9');
    expect(clientInbox.messages.at(-1)).toBe('s9');
  });

  it('a flipped bit in a transport frame closes the connection and delivers nothing', async () => {
    const h = await host();
    let frames = 0;
    const proxy = await startTapProxy(h.port, (direction, chunk) => {
      if (direction !== 'toHost') return chunk;
      // Chunks: [preface+msg1], [msg3], then transport records. Corrupt the first record.
      if (frames++ === 2) {
        const forged = Buffer.from(chunk);
        forged[forged.length - 20]! ^= 0x01;
        return forged;
      }
      return chunk;
    });
    cleanups.push(() => proxy.close());
    const hostSide = h.nextChannel();
    const client = await connectTestClient(proxy.port);
    collect(client);
    const serverInbox = collect(await hostSide);
    await new Promise((r) => setTimeout(r, 50)); // let msg3 travel alone
    client.send(encoder.encode('transfer 100 to mallory'));
    const closed = await serverInbox.closed;
    expect(closed.code).toBe('decrypt-failed');
    expect(serverInbox.messages).toEqual([]);
  });

  it('a replayed frame closes the connection; the original is delivered once', async () => {
    const h = await host();
    let chunks = 0;
    const proxy = await startTapProxy(h.port, (direction, chunk) => {
      if (direction === 'toHost' && chunks++ === 2) return Buffer.concat([chunk, chunk]);
      return chunk;
    });
    cleanups.push(() => proxy.close());
    const hostSide = h.nextChannel();
    const client = await connectTestClient(proxy.port);
    collect(client);
    const serverInbox = collect(await hostSide);
    await new Promise((r) => setTimeout(r, 50));
    client.send(encoder.encode('pay once'));
    const closed = await serverInbox.closed;
    expect(closed.code).toBe('decrypt-failed');
    expect(serverInbox.messages).toEqual(['pay once']);
  });

  it('a wrong pinned key fails with HostKeyMismatch and the host never receives message 3', async () => {
    const h = await host();
    const proxy = await startTapProxy(h.port);
    cleanups.push(() => proxy.close());
    const failure = h.nextFailure();
    const expected = newKeyPair().publicKey;
    const error = await connectTestClient(proxy.port, {
      verifyHost: pinnedHostKey(expected),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HostKeyMismatch);
    const mismatch = error as HostKeyMismatch;
    expect(mismatch.expectedFingerprint).not.toBe(mismatch.actualFingerprint);
    expect(mismatch.message).toContain(mismatch.actualFingerprint);
    expect(((await failure) as ProtocolError).code).toBe('connection-lost');
    // Only the preface and message 1 (32 bytes of ephemeral key) ever reached the host.
    const preface = 'PARLEY/1 Noise_XX_25519_ChaChaPoly_SHA256\n';
    expect(proxy.bytes('toHost').length).toBe(preface.length + 2 + 32);
    expect(h.channels).toHaveLength(0);
  });

  it('answers an unsupported suite with a one-line error the client reports', async () => {
    const h = await host({ suites: ['Noise_XX_25519_ChaChaPoly_SHA256'] });
    const error = await connectTestClient(h.port, { suite: 'Noise_XX_25519_AESGCM_SHA256' }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'host-refused', hostCode: 'unsupported-suite' });
    expect((error as Error).message).toContain('Noise_XX_25519_AESGCM_SHA256');
  });

  it.each([
    ['an HTTP request', 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', 'bad-preface'],
    ['another version', 'PARLEY/9 Noise_XX_25519_ChaChaPoly_SHA256\n', 'unsupported-version'],
    ['an unknown suite', 'PARLEY/1 Noise_XX_448_ChaChaPoly_BLAKE2b\n', 'unsupported-suite'],
  ])('answers %s with a one-line error and closes', async (_name, preface, code) => {
    const h = await host();
    const socket = await connectSocket(h.port);
    socket.write(preface);
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    await once(socket, 'close');
    const answer = Buffer.concat(chunks).toString();
    expect(answer).toMatch(new RegExp(`^PARLEY/1 ERROR ${code} .+\\n$`));
    expect((h.failures[0] as ProtocolError).code).toBe(code);
  });

  it('drops a client that stalls mid-handshake at the timeout', async () => {
    const h = await host({ handshakeTimeoutMs: 200 });
    const socket = await connectSocket(h.port);
    socket.write('PARLEY/1 Noise_XX_25519_ChaChaPoly_SHA256\n'); // and never message 1
    socket.resume();
    const started = Date.now();
    await once(socket, 'close');
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect((h.failures[0] as ProtocolError).code).toBe('handshake-timeout');
  });

  it('a client gives up on a host that never answers', async () => {
    const net = await import('node:net');
    const silent = net.createServer(() => undefined).listen(0, '127.0.0.1');
    await once(silent, 'listening');
    cleanups.push(() => void silent.close());
    const port = (silent.address() as { port: number }).port;
    const error = await connectTestClient(port, { handshakeTimeoutMs: 200 }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'handshake-timeout' });
  });

  it('a truncated connection is reported as lost, not as a goodbye', async () => {
    const h = await host();
    const proxy = await startTapProxy(h.port);
    cleanups.push(() => proxy.close());
    const hostSide = h.nextChannel();
    const client = await connectTestClient(proxy.port);
    const clientInbox = collect(client);
    collect(await hostSide);
    await proxy.close(); // cuts both sockets without an end-of-session item
    expect(await clientInbox.closed).toMatchObject({ by: 'error', code: 'connection-lost' });
  });

  it('a frame cut off in the middle never reaches the application', async () => {
    const h = await host();
    let chunks = 0;
    const proxy = await startTapProxy(h.port, (direction, chunk) =>
      direction === 'toHost' && chunks++ === 2 ? chunk.subarray(0, chunk.length - 5) : chunk,
    );
    cleanups.push(() => proxy.close());
    const hostSide = h.nextChannel();
    const client = await connectTestClient(proxy.port);
    collect(client);
    const serverInbox = collect(await hostSide);
    await new Promise((r) => setTimeout(r, 50));
    client.send(encoder.encode('half of this'));
    await new Promise((r) => setTimeout(r, 50));
    await proxy.close(); // the rest of the frame never comes
    expect((await serverInbox.closed).code).toBe('connection-lost');
    expect(serverInbox.messages).toEqual([]);
  });

  it('keeps messages that arrive right behind message 3', async () => {
    const h = await host();
    const hostSide = h.nextChannel();
    const client = await connectTestClient(h.port);
    client.send(encoder.encode('first')); // queued before the host has even seen msg3
    client.start();
    const serverInbox = collect(await hostSide);
    expect(await serverInbox.waitFor(1)).toEqual(['first']);
  });
});
