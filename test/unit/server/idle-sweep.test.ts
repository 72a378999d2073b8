import { describe, expect, it } from 'vitest';
import { encodeBase64Url } from '../../../src-shared/base64url.ts';
import { ConnectedClient } from '../../../src-main/server/connected-client.ts';
import { DEFAULT_LIMITS, type HostLimits } from '../../../src-main/server/host-limits.ts';
import { IdleSweep } from '../../../src-main/server/idle-sweep.ts';
import { KeyBudgets } from '../../../src-main/server/key-budgets.ts';
import { RecordingChannel } from '../../support/recording-channel.ts';

// The idle sweep on the host's clock: no timers, no sockets, the test moves time.

const limits: HostLimits = { ...DEFAULT_LIMITS, pingAfterMs: 30_000, idleTimeoutMs: 75_000 };

function setup() {
  const clock = { t: 5_000_000 };
  const now = () => clock.t;
  const failures: unknown[] = [];
  const host = { stalled: false };
  const sweep = new IdleSweep({
    limits,
    now,
    onClientFailure: (_client, error) => failures.push(error),
    hostStalled: () => host.stalled,
  });
  const budgets = new KeyBudgets(limits);
  let seed = 0;
  const connect = () => {
    const key = new Uint8Array(32).fill(++seed);
    const channel = new RecordingChannel(key);
    const client = new ConnectedClient(
      channel,
      `user${seed}`,
      limits,
      now(),
      budgets.for(encodeBase64Url(key), now()),
    );
    sweep.track(client);
    return { client, channel };
  };
  return { clock, sweep, connect, failures, host };
}

describe('IdleSweep', () => {
  it('pings a connection quiet for pingAfterMs once, and hangs up after idleTimeoutMs of silence', () => {
    const { clock, sweep, connect } = setup();
    const { channel } = connect();
    clock.t += 29_999;
    sweep.sweep();
    expect(channel.sent).toEqual([]);
    clock.t += 1;
    sweep.sweep();
    clock.t += 10_000;
    sweep.sweep(); // one ping outstanding is enough
    expect(channel.sent).toEqual([{ t: 'ping', n: clock.t - 10_000 }]);
    clock.t += 35_000; // 75 s since it was last heard
    sweep.sweep();
    expect(channel.closedWith).toMatchObject({ code: 'idle-timeout' });
  });

  it('counts from what the connection last said, and pings again after it answered', () => {
    const { clock, sweep, connect } = setup();
    const { client, channel } = connect();
    clock.t += 30_000;
    sweep.sweep();
    clock.t += 40_000;
    sweep.heard(client); // the pong, or any request
    clock.t += 29_999;
    sweep.sweep();
    expect(channel.of('ping')).toHaveLength(1);
    expect(channel.closed).toBe(false);
    clock.t += 1;
    sweep.sweep();
    expect(channel.of('ping')).toHaveLength(2);
  });

  it('leaves forgotten connections alone, and one that fails costs the others nothing', () => {
    const { clock, sweep, connect, failures } = setup();
    const gone = connect();
    const broken = connect();
    const fine = connect();
    sweep.forget(gone.client);
    broken.channel.send = () => {
      throw new Error('broken channel');
    };
    clock.t += 30_000;
    sweep.sweep();
    expect(gone.channel.sent).toEqual([]);
    expect(failures).toHaveLength(1);
    expect(fine.channel.of('ping')).toHaveLength(1);
  });

  it('does not count as silence the time the host stopped reading its clients (a slow disk)', () => {
    const { clock, sweep, connect, host } = setup();
    const start = clock.t;
    const { channel } = connect();
    const late = connect(); // heard in the middle of the stall (a frame read before it began)
    clock.t += 10_000;
    host.stalled = true;
    clock.t += 20_000;
    sweep.heard(late.client);
    clock.t += 70_000; // 100 s since the first was heard: long past the idle timeout
    sweep.sweep(); // while the host reads no one, no one is judged
    expect(channel.sent).toEqual([]);
    expect(channel.closed).toBe(false);
    host.stalled = false;
    sweep.excuse(start + 10_000, clock.t);
    sweep.sweep();
    expect(channel.sent).toEqual([]); // 10 s of its own silence, 90 s of the host's
    clock.t += 20_000;
    sweep.sweep();
    expect(channel.of('ping')).toHaveLength(1); // now 30 s of its own
    expect(late.channel.of('ping')).toHaveLength(0); // 20 s since the stall ended
    clock.t += 45_000;
    sweep.sweep();
    expect(channel.closedWith).toMatchObject({ code: 'idle-timeout' }); // 75 s of its own
    expect(late.channel.closed).toBe(false);
  });
});
