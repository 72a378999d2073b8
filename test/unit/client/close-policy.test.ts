import { describe, expect, it } from 'vitest';
import {
  afterClose,
  afterConnectFailure,
  connectFailure,
} from '../../../src-main/client/close-policy.ts';
import { HostKeyChangedUnvouched, InviteKeyMismatch } from '../../../src-main/client/host-trust.ts';
import { ProtocolError } from '../../../src-main/protocol/errors.ts';
import { HostKeyMismatch } from '../../../src-main/protocol/host-key.ts';
import { newKeyPair } from '../../support/loopback.ts';

// What the user reads when a connection cannot be made: the cause, in words, then the code.
const socketFailure = (code: string) =>
  new ProtocolError('connection-lost', 'the connection failed during the handshake', {
    cause: Object.assign(new Error(code), { code }),
  });

describe('why a connection could not be made', () => {
  it.each([
    ['ECONNREFUSED', /^connection refused: .* \(ECONNREFUSED\)$/],
    ['EHOSTUNREACH', /^no route to host \(EHOSTUNREACH\)$/],
    ['ENETUNREACH', /^no route to host: .* \(ENETUNREACH\)$/],
    ['ETIMEDOUT', /^timed out connecting: .* \(ETIMEDOUT\)$/],
    ['ENOTFOUND', /^host name not found \(ENOTFOUND\)$/],
    ['EWHATEVER', /^cannot connect \(EWHATEVER\)$/],
  ])('%s is said in words, not as a failed handshake', (code, wording) => {
    const disposition = afterConnectFailure(socketFailure(code));
    expect(disposition.kind).toBe('retry');
    if (disposition.kind !== 'retry') return;
    expect(disposition.reason).toMatch(wording);
    expect(disposition.reason).not.toMatch(/handshake/);
  });

  it('keeps the protocol reason when the socket did not fail', () => {
    const disposition = afterConnectFailure(
      new ProtocolError('handshake-timeout', 'the host did not finish the handshake in time'),
    );
    expect(disposition).toMatchObject({
      kind: 'retry',
      reason: 'handshake-timeout: the host did not finish the handshake in time',
    });
  });
});

describe('how an attempt to connect failed', () => {
  const socketError = (code: string) => Object.assign(new Error(code), { code });

  it.each([
    ['ECONNREFUSED', 'refused'],
    ['EHOSTUNREACH', 'unreachable'],
    ['ENETUNREACH', 'unreachable'],
    ['ENETDOWN', 'unreachable'],
    ['ETIMEDOUT', 'timeout'],
    ['ENOTFOUND', 'not-found'],
    ['EAI_AGAIN', 'not-found'],
    ['ECONNRESET', 'other'],
    ['EADDRNOTAVAIL', 'other'],
  ])("%s is %s, as the socket error or as the handshake's cause", (code, failure) => {
    expect(connectFailure(socketError(code))).toBe(failure);
    expect(connectFailure(socketFailure(code))).toBe(failure);
    expect(afterConnectFailure(socketFailure(code))).toMatchObject({ kind: 'retry', failure });
    expect(afterConnectFailure(socketError(code))).toMatchObject({ kind: 'retry', failure });
  });

  it("the client's own deadline is a timeout, whether connecting or in the handshake", () => {
    for (const message of [
      'timed out connecting: the host did not answer',
      'the host did not finish the handshake in time',
    ]) {
      const disposition = afterConnectFailure(new ProtocolError('handshake-timeout', message));
      expect(disposition).toMatchObject({ kind: 'retry', failure: 'timeout' });
    }
  });

  it('anything else is other', () => {
    const cases = [
      new ProtocolError('connection-lost', 'the peer closed the connection during the handshake'),
      new ProtocolError('host-refused', 'the host is busy', { hostCode: 'busy' }),
      new Error('something'),
      undefined,
    ];
    for (const error of cases) {
      expect(afterConnectFailure(error)).toMatchObject({ kind: 'retry', failure: 'other' });
    }
  });

  it('a connection that was up and ended is lost, however it ended', () => {
    for (const info of [
      { by: 'peer', code: 'shutdown', reason: 'the host is restarting' },
      { by: 'error', code: 'connection-lost', reason: 'no traffic from the host for 30.0 s' },
      { by: 'peer', code: 'flooding', reason: '' },
    ] as const) {
      expect(afterClose(info)).toMatchObject({ kind: 'retry', failure: 'lost' });
    }
  });
});

describe('a refused host key says whose key was expected', () => {
  const [expected, actual] = [newKeyPair().publicKey, newKeyPair().publicKey];

  it.each([
    ['the invite link', new InviteKeyMismatch(expected, actual), 'invite'],
    ['a pin', new HostKeyMismatch(expected, actual), 'pinned'],
    [
      'a pin, with a certificate that did not vouch for the new key',
      new HostKeyChangedUnvouched(expected, actual, {
        code: 'certificate-unknown-authority',
        message: 'no imported authority issued it',
      }),
      'pinned',
    ],
  ])('%s', (_, error, expectedFrom) => {
    expect(afterConnectFailure(error)).toMatchObject({
      kind: 'fatal',
      fatal: { code: 'host-key-mismatch', expectedFrom },
    });
  });
});
