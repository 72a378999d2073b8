import { describe, expect, it } from 'vitest';
import { afterConnectFailure } from '../../../src-main/client/close-policy.ts';
import { ProtocolError } from '../../../src-main/protocol/errors.ts';

// What the user reads when a connection cannot be made: the cause, in words, then the code.
const failure = (code: string) =>
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
    const disposition = afterConnectFailure(failure(code));
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
