import { describe, expect, it } from 'vitest';
import { backends } from '../../../src-main/protocol/crypto/all-backends.ts';
import { HandshakeState } from '../../../src-main/protocol/noise/handshake-state.ts';

// A client reuses what it learnt of a host key it met before (handshake-state.ts keeps the
// recent ones so the backend's import of them is cached). Whatever it keeps, every handshake must
// still report, and use, the key that peer proved in that handshake.

const EMPTY = new Uint8Array(0);

function handshake(
  backendName: 'node' | 'noble',
  client: { publicKey: Uint8Array; privateKey: Uint8Array },
  host: { publicKey: Uint8Array; privateKey: Uint8Array },
) {
  const backend = backends[backendName];
  const protocol = 'Noise_XX_25519_ChaChaPoly_SHA256';
  const prologue = new TextEncoder().encode('test');
  const i = new HandshakeState({ protocol, initiator: true, prologue, s: client, backend });
  const r = new HandshakeState({ protocol, initiator: false, prologue, s: host, backend });
  r.readMessage(i.writeMessage(EMPTY));
  i.readMessage(r.writeMessage(EMPTY));
  r.readMessage(i.writeMessage(new TextEncoder().encode('hello')));
  const [i2r] = i.split();
  const [r2i] = r.split();
  // The transport keys agree only if both sides mixed the same DHs.
  const sealed = i2r.encryptWithAd(EMPTY, new TextEncoder().encode('ping'));
  expect(new TextDecoder().decode(r2i.decryptWithAd(EMPTY, sealed))).toBe('ping');
  return { seenByClient: i.remoteStaticKey, seenByHost: r.remoteStaticKey };
}

describe.each(['node', 'noble'] as const)('static keys met again (%s)', (backendName) => {
  it('each handshake reports and uses the key its peer proved, host after host', () => {
    const backend = backends[backendName];
    const client = backend.generateKeyPair();
    const hostA = backend.generateKeyPair();
    const hostB = backend.generateKeyPair();
    for (const host of [hostA, hostA, hostB, hostA, hostB]) {
      const { seenByClient, seenByHost } = handshake(backendName, client, host);
      expect(seenByClient).toEqual(host.publicKey);
      expect(seenByHost).toEqual(client.publicKey);
    }
  });

  it('a caller that alters the key it was given changes nothing for the next handshake', () => {
    const backend = backends[backendName];
    const client = backend.generateKeyPair();
    const host = backend.generateKeyPair();
    const first = handshake(backendName, client, host).seenByClient;
    first?.fill(0);
    expect(handshake(backendName, client, host).seenByClient).toEqual(host.publicKey);
  });
});
