import { describe, expect, it } from 'vitest';
import { backends } from '../../../src-main/protocol/crypto/all-backends.ts';
import { HandshakeState } from '../../../src-main/protocol/noise/handshake-state.ts';
import type { CipherState } from '../../../src-main/protocol/noise/cipher-state.ts';
import {
  type NoiseVector,
  hex,
  loadNoiseVectors,
  toHex,
  withFixedEphemerals,
} from '../../support/vectors.ts';

function keyPair(backend: (typeof backends)['node'], privateHex: string | undefined) {
  if (!privateHex) return undefined;
  const privateKey = hex(privateHex);
  return { privateKey, publicKey: backend.publicKeyOf(privateKey) };
}

function runVector(vector: NoiseVector, backendName: 'node' | 'noble') {
  const base = backends[backendName];
  const initiator = new HandshakeState({
    protocol: vector.protocol_name,
    initiator: true,
    prologue: hex(vector.init_prologue),
    s: keyPair(base, vector.init_static),
    rs: vector.init_remote_static ? hex(vector.init_remote_static) : undefined,
    backend: withFixedEphemerals(base, [hex(vector.init_ephemeral)]),
  });
  const responder = new HandshakeState({
    protocol: vector.protocol_name,
    initiator: false,
    prologue: hex(vector.resp_prologue),
    s: keyPair(base, vector.resp_static),
    rs: vector.resp_remote_static ? hex(vector.resp_remote_static) : undefined,
    backend: withFixedEphemerals(base, vector.resp_ephemeral ? [hex(vector.resp_ephemeral)] : []),
  });

  let transport: { i2r: [CipherState, CipherState]; r2i: [CipherState, CipherState] } | undefined;
  vector.messages.forEach((message, index) => {
    const payload = hex(message.payload);
    if (!transport) {
      const [sender, receiver] = index % 2 === 0 ? [initiator, responder] : [responder, initiator];
      const ciphertext = sender.writeMessage(payload);
      expect(toHex(ciphertext), `message ${index}`).toBe(message.ciphertext);
      expect(toHex(receiver.readMessage(ciphertext))).toBe(message.payload);
      if (initiator.isComplete()) {
        expect(responder.isComplete()).toBe(true);
        const [ic1, ic2] = initiator.split();
        const [rc1, rc2] = responder.split();
        transport = { i2r: [ic1, rc1], r2i: [rc2, ic2] };
        expect(toHex(initiator.getHandshakeHash())).toBe(toHex(responder.getHandshakeHash()));
        if (vector.handshake_hash) {
          expect(toHex(initiator.getHandshakeHash())).toBe(vector.handshake_hash);
        }
      }
      return;
    }
    // After the handshake: alternate initiator/responder, except one-way patterns.
    const oneWay = /^Noise_(N|X|K)_/.test(vector.protocol_name);
    const [send, receive] = oneWay || index % 2 === 0 ? transport.i2r : transport.r2i;
    const ciphertext = send.encryptWithAd(new Uint8Array(0), payload);
    expect(toHex(ciphertext), `transport message ${index}`).toBe(message.ciphertext);
    expect(toHex(receive.decryptWithAd(new Uint8Array(0), ciphertext))).toBe(message.payload);
  });
  expect(transport, 'the handshake completed').toBeDefined();
}

for (const file of ['noise-cacophony.json', 'noise-snow.json'] as const) {
  const vectors = loadNoiseVectors(file);
  describe(`Noise vectors: ${file}`, () => {
    it('has vectors to run', () => expect(vectors.length).toBeGreaterThanOrEqual(10));
    for (const backendName of ['node', 'noble'] as const) {
      for (const vector of vectors) {
        it(`${vector.protocol_name} on ${backendName}`, () => runVector(vector, backendName));
      }
    }
  });
}
