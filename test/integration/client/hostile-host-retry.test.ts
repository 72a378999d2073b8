import { describe, expect, it } from 'vitest';
import type { ChatSession } from '../../../src-main/client/chat-session.ts';
import { startHostileHost } from '../../support/hostile-host.ts';
import { cleanupsAfterEach, until } from '../../support/lifecycle.ts';
import { recordedSession } from '../../support/recorded-session.ts';

// A host's `retryAfterMs` is any non-negative integer on the wire. Past 2^31-1 ms a timer
// does not wait at all (Node warns and fires it after 1 ms): believed as is, a refusal would
// make the client wake every millisecond for as long as the host says.

const cleanups = cleanupsAfterEach();

async function sessionWith(h: Awaited<ReturnType<typeof startHostileHost>>): Promise<ChatSession> {
  // The default backoff: what a real client waits between attempts.
  const { s } = await recordedSession(
    cleanups,
    { address: h.address, hostKey: h.publicKey },
    { reconnect: {} },
  );
  return s;
}

/** Node's warnings that a timer was asked to wait longer than it can (it then fires at once). */
function timerOverflows(): string[] {
  const overflows: string[] = [];
  const onWarning = (warning: Error) => {
    if (warning.name === 'TimeoutOverflowWarning') overflows.push(warning.message);
  };
  process.on('warning', onWarning);
  cleanups.push(() => void process.off('warning', onWarning));
  return overflows;
}

describe('the client core told to wait longer than a timer can', () => {
  it('waits instead of spinning, and keeps the message for later', async () => {
    const h = await startHostileHost({
      onMessage: (connection, message) => {
        if (message.t !== 'send') return;
        connection.send({
          t: 'error',
          code: 'rate-limited',
          message: 'wait',
          ref: message.id,
          retryAfterMs: 2 ** 31 + 1000,
        });
      },
    });
    cleanups.push(() => h.close());
    const session = await sessionWith(h);
    const overflows = timerOverflows();
    let synced = false;
    let refused = false;
    let toldWait: number | undefined;
    session.on('synced', () => (synced = true));
    session.on('error', (error) => {
      if (error.code !== 'rate-limited') return;
      refused = true;
      toldWait = error.retryAfterMs;
    });

    session.start();
    await until(() => synced, 'synced');
    session.send('lobby', 'hello');
    await until(() => refused, 'the refusal');
    await new Promise((r) => setTimeout(r, 500));

    expect(overflows).toEqual([]);
    expect(session.pending.map((p) => p.text)).toEqual(['hello']);
    // What the user is told is the wait the client will do: a minute, not 24 days.
    expect(toldWait).toBe(60_000);
  });

  it('paces at a rate advertised too slow for a timer without spinning', async () => {
    // 1e-9 messages per second: the second message may leave in some 30 years.
    const h = await startHostileHost({ limits: { messagesPerSecond: 1e-9, messageBurst: 1 } });
    cleanups.push(() => h.close());
    const session = await sessionWith(h);
    const overflows = timerOverflows();
    let synced = false;
    session.on('synced', () => (synced = true));

    session.start();
    await until(() => synced, 'synced');
    session.send('lobby', 'first');
    session.send('lobby', 'second');
    await new Promise((r) => setTimeout(r, 500));

    expect(overflows).toEqual([]);
    expect(session.pending.map((p) => p.text)).toEqual(['first', 'second']);
  });
});
