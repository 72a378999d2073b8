import { describe, expect, it } from 'vitest';
import { startHost } from '../../../src-main/server/host.ts';
import { encodeMessage } from '../../../src-main/protocol/wire/codec.ts';
import { WIRE_VERSION } from '../../../src-main/protocol/wire/messages.ts';
import { connectWireClient } from '../../support/wire-client.ts';
import { cleanupsAfterEach } from '../../support/lifecycle.ts';

// The hello (handshake message 3's payload) is read once when it is well formed; a hello that is
// not is read again for its version, so a client of another version is told to update whatever
// shape its hello has, and any other client is told what is wrong with its hello.

const cleanups = cleanupsAfterEach();

async function host() {
  const h = await startHost({
    host: '127.0.0.1',
    port: 0,
    rooms: ['lobby'],
    openRooms: true,
    dataDir: cleanups.tempDir('parley-hello-'),
  });
  cleanups.push(() => h.stop());
  return h;
}

async function closeFor(hello: Uint8Array) {
  const h = await host();
  const client = await connectWireClient(h.address.port, h.publicKey, 'x', { hello });
  return client.closed;
}

describe('the hello', () => {
  it('of another version and another shape: told to update', async () => {
    expect(await closeFor(encodeMessage({ v: WIRE_VERSION + 1, name: 'future' }))).toMatchObject({
      by: 'peer',
      code: 'version',
      reason: `this host speaks Parley wire version ${WIRE_VERSION}; update Parley`,
    });
  });

  it('of this version with a bad field: told which field', async () => {
    const closed = await closeFor(
      encodeMessage({ v: WIRE_VERSION, nick: 'x'.repeat(500), software: 'test' }),
    );
    expect(closed).toMatchObject({ by: 'peer', code: 'bad-hello' });
    expect(closed.reason).toMatch(/^invalid nick/);
  });

  it('that is no JSON object: told so', async () => {
    expect(await closeFor(new TextEncoder().encode('[1, 2'))).toMatchObject({
      by: 'peer',
      code: 'bad-hello',
      reason: 'message is not UTF-8 JSON',
    });
    expect((await closeFor(encodeMessage([WIRE_VERSION]))).reason).toMatch(/^invalid message/);
  });

  it('that is well formed: welcomed with its nickname', async () => {
    const h = await host();
    const client = await connectWireClient(h.address.port, h.publicKey, 'hallo');
    expect((await client.waitFor('welcome')).nick).toBe('hallo');
  });
});
