import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CryptoBackend, KeyPair } from '../../../src-main/protocol/crypto/crypto-backend.ts';
import { backends } from '../../../src-main/protocol/crypto/all-backends.ts';
import { ProtocolError } from '../../../src-main/protocol/errors.ts';
import { HandshakeState } from '../../../src-main/protocol/noise/handshake-state.ts';
import { encodePreface } from '../../../src-main/protocol/preface.ts';
import { SUITES, type Suite } from '../../../src-main/protocol/suites.ts';
import {
  FUZZ_TIMEOUT_MS,
  concat,
  fuzzCase,
  mutate,
  mutationsArb,
  reportStats,
  runs,
} from '../../fuzz/kit.ts';

// Handshake messages arrive before anyone is authenticated. Each property replays a real Noise
// XX handshake (real keys, real HandshakeState) up to the message under test, then feeds it
// arbitrary or mutated bytes in place of the real one. The only acceptable outcomes are the
// genuine payload — for the genuine message, and only for it — or a ProtocolError with a code
// the handshake documents. Both crypto backends are exercised (node:crypto and @noble).

reportStats();

const HANDSHAKE_CODES = ['handshake-failed', 'invalid-key', 'frame-too-large'];
const isHandshakeError = (error: unknown) =>
  error instanceof ProtocolError && HANDSHAKE_CODES.includes(error.code);

const encoder = new TextEncoder();
const HOST_INFO = encoder.encode(
  '{"v":1,"name":"Parley","software":"parley/0.1.0","rooms":["lobby"],"limits":{"maxTextBytes":16384,"messagesPerSecond":10}}',
);
const HELLO = encoder.encode('{"v":1,"nick":"alice","software":"parley/0.1.0"}');

/** A backend whose "fresh" ephemeral is always the same pair: the transcript is then fixed. */
function fixedEphemeral(backend: CryptoBackend, pair: KeyPair): CryptoBackend {
  return { ...backend, generateKeyPair: () => pair };
}

interface Transcript {
  readonly suite: Suite;
  readonly backend: CryptoBackend;
  readonly prologue: Uint8Array;
  readonly host: KeyPair;
  readonly client: KeyPair;
  readonly hostE: KeyPair;
  readonly clientE: KeyPair;
  readonly msg1: Uint8Array;
  readonly msg2: Uint8Array;
  readonly msg3: Uint8Array;
}

function transcript(suite: Suite, backendName: 'node' | 'noble'): Transcript {
  const backend = backends[backendName];
  const [host, client, hostE, clientE] = [1, 2, 3, 4].map(() => backend.generateKeyPair()) as [
    KeyPair,
    KeyPair,
    KeyPair,
    KeyPair,
  ];
  const prologue = encodePreface(suite);
  const t = { suite, backend, prologue, host, client, hostE, clientE };
  const initiator = newInitiator(t);
  const responder = newResponder(t);
  const msg1 = initiator.writeMessage(new Uint8Array(0));
  responder.readMessage(msg1);
  const msg2 = responder.writeMessage(HOST_INFO);
  initiator.readMessage(msg2);
  const msg3 = initiator.writeMessage(HELLO);
  responder.readMessage(msg3);
  return { ...t, msg1, msg2, msg3 };
}

type Keys = Pick<
  Transcript,
  'suite' | 'backend' | 'prologue' | 'host' | 'client' | 'hostE' | 'clientE'
>;

function newInitiator(t: Keys): HandshakeState {
  return new HandshakeState({
    protocol: t.suite,
    initiator: true,
    prologue: t.prologue,
    s: t.client,
    backend: fixedEphemeral(t.backend, t.clientE),
  });
}

function newResponder(t: Keys): HandshakeState {
  return new HandshakeState({
    protocol: t.suite,
    initiator: false,
    prologue: t.prologue,
    s: t.host,
    backend: fixedEphemeral(t.backend, t.hostE),
  });
}

// @noble's pure-JS X25519 is ~20x slower than node:crypto: it gets a fifth of the cases.
const transcriptArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...SUITES.map((suite) => transcript(suite, 'node'))) },
  { weight: 1, arbitrary: fc.constantFrom(...SUITES.map((suite) => transcript(suite, 'noble'))) },
);

/** Known low-order X25519 points (and their non-canonical twins): all-zero shared secrets. */
const LOW_ORDER = [
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000000',
  'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800',
  '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
].map((h) => new Uint8Array(Buffer.from(h, 'hex')));

/** Candidate bytes for a message slot: arbitrary, the real one mutated, or a low-order key. */
function candidates(real: (t: Transcript) => Uint8Array) {
  return fc
    .tuple(
      transcriptArb,
      fc.oneof(
        {
          weight: 2,
          arbitrary: fc
            .uint8Array({ maxLength: 300 })
            .map((b) => ({ kind: 'arbitrary' as const, b })),
        },
        { weight: 5, arbitrary: mutationsArb.map((m) => ({ kind: 'mutated' as const, m })) },
        {
          weight: 1,
          arbitrary: fc
            .tuple(fc.constantFrom(...LOW_ORDER), fc.uint8Array({ maxLength: 100 }))
            .map(([e, tail]) => ({ kind: 'low-order' as const, b: concat(e, tail) })),
        },
        { weight: 1, arbitrary: fc.constant({ kind: 'genuine' as const }) },
      ),
    )
    .map(([t, c]) => {
      const bytes =
        c.kind === 'mutated' ? mutate(real(t), c.m) : c.kind === 'genuine' ? real(t) : c.b;
      return { t, bytes, kind: c.kind };
    });
}

const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

/** After a failure the state must refuse to go on: no split, no further message. */
function expectDead(state: HandshakeState): void {
  expect(() => state.split()).toThrow(ProtocolError);
  expect(() => state.writeMessage(new Uint8Array(0))).toThrow(ProtocolError);
}

describe('handshake message 1 at the host (fuzz)', () => {
  it(
    'read msg 1, then write msg 2 (the DH with the sender’s key): a message, or a typed error',
    () => {
      fc.assert(
        fc.property(
          candidates((t) => t.msg1),
          ({ t, bytes, kind }) => {
            const responder = newResponder(t);
            const out = fuzzCase(
              'handshake msg1',
              () => {
                const payload = responder.readMessage(bytes);
                // The host refuses a payload in msg 1 (it would be unencrypted).
                if (payload.length !== 0) return { payload, msg2: undefined };
                return { payload, msg2: responder.writeMessage(HOST_INFO) };
              },
              isHandshakeError,
            );
            if (out.ok) {
              expect(bytes.length).toBeGreaterThanOrEqual(32);
              expect(out.value.payload.length).toBe(bytes.length - 32);
            } else if (kind === 'low-order') {
              expect(out.error).toMatchObject({ code: 'invalid-key' });
            }
            if (!out.ok) expectDead(responder);
            if (kind === 'genuine')
              expect(out.ok && out.value.msg2 && same(out.value.msg2, t.msg2)).toBe(true);
          },
        ),
        runs(),
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});

describe('handshake message 2 at the client (fuzz)', () => {
  it(
    'only the genuine msg 2 is accepted; anything else is a typed error and a dead state',
    () => {
      fc.assert(
        fc.property(
          candidates((t) => t.msg2),
          ({ t, bytes }) => {
            const initiator = newInitiator(t);
            initiator.writeMessage(new Uint8Array(0));
            const out = fuzzCase(
              'handshake msg2',
              () => initiator.readMessage(bytes),
              isHandshakeError,
            );
            if (out.ok) {
              // Accepted: it must be the host's own message, proving the host's own key.
              expect(same(bytes, t.msg2)).toBe(true);
              expect(same(out.value, HOST_INFO)).toBe(true);
              expect(same(initiator.remoteStaticKey!, t.host.publicKey)).toBe(true);
            } else {
              expect(same(bytes, t.msg2)).toBe(false);
              expectDead(initiator);
            }
          },
        ),
        runs(),
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});

describe('handshake message 3 at the host (fuzz)', () => {
  it(
    'only the genuine msg 3 is accepted; anything else is a typed error and a dead state',
    () => {
      fc.assert(
        fc.property(
          candidates((t) => t.msg3),
          ({ t, bytes }) => {
            const responder = newResponder(t);
            responder.readMessage(t.msg1);
            responder.writeMessage(HOST_INFO);
            const out = fuzzCase(
              'handshake msg3',
              () => responder.readMessage(bytes),
              isHandshakeError,
            );
            if (out.ok) {
              expect(same(bytes, t.msg3)).toBe(true);
              expect(same(out.value, HELLO)).toBe(true);
              expect(same(responder.remoteStaticKey!, t.client.publicKey)).toBe(true);
              expect(responder.split()).toHaveLength(2);
            } else {
              expect(same(bytes, t.msg3)).toBe(false);
              expectDead(responder);
            }
          },
        ),
        runs(),
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});
