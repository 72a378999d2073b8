import { describe, expect, it } from 'vitest';
import { once } from 'node:events';
import net from 'node:net';
import { join } from 'node:path';
import type { HostAddress } from '../../../src-shared/invite.ts';
import type { ConnectionState } from '../../../src-shared/ipc/domain.ts';
import type { ChatSessionOptions } from '../../../src-main/client/chat-session.ts';
import { createHostVerifier } from '../../../src-main/client/host-trust.ts';
import type { StateChange } from '../../../src-main/client/session-events.ts';
import { type Timers, realTimers } from '../../../src-main/client/timers.ts';
import { type HostOptions, type RunningHost, startHost } from '../../../src-main/server/host.ts';
import { nextConnectionState } from '../../../src-main/service/connection-state.ts';
import { HostConnection } from '../../../src-main/service/host-connection.ts';
import { KnownHosts, hostId } from '../../../src-main/store/known-hosts.ts';
import { cleanupsAfterEach } from '../../support/lifecycle.ts';
import { newKeyPair } from '../../support/loopback.ts';
import { recordedSession } from '../../support/recorded-session.ts';

// Reconnecting as a person sees it, over real TCP on 127.0.0.1: how an attempt failed, whether
// the host was ever reached, "Retry now", and whose key a refused host did not present.

const cleanups = cleanupsAfterEach();

async function host(
  options: Partial<HostOptions> = {},
): Promise<RunningHost & { dataDir: string }> {
  const dataDir = options.dataDir ?? cleanups.tempDir('parley-host-');
  const h = await startHost({
    host: '127.0.0.1',
    port: 0,
    rooms: ['lobby'],
    openRooms: true,
    ...options,
    dataDir,
  });
  cleanups.push(() => h.stop());
  return Object.assign(h, { dataDir });
}

/** A loopback port nothing listens on: connecting there is refused at once. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

/** A host that was there once and stopped: its address and key, free for it to start again. */
async function stoppedHost() {
  const probe = await host();
  await probe.stop();
  return { address: probe.address, publicKey: probe.publicKey, dataDir: probe.dataDir };
}

/** Real timers that remember which waits were cancelled before they ran. */
function watchedTimers() {
  const waits: { handle: unknown; ms: number }[] = [];
  const cancelled = new Set<unknown>();
  const timers: Timers = {
    setTimeout(callback, ms) {
      const handle = realTimers.setTimeout(callback, ms);
      waits.push({ handle, ms });
      return handle;
    },
    clearTimeout(handle) {
      cancelled.add(handle);
      realTimers.clearTimeout(handle);
    },
  };
  return {
    timers,
    /** Every wait of exactly `ms` was cancelled (and there was one). */
    cancelled: (ms: number) => {
      const matching = waits.filter((wait) => wait.ms === ms);
      return matching.length > 0 && matching.every((wait) => cancelled.has(wait.handle));
    },
  };
}

/**
 * A session as the desktop service holds it (in a HostConnection), with the states the UI
 * would be told (nextConnectionState) recorded next to the session's own events.
 */
async function watched(
  address: HostAddress,
  hostKey: Uint8Array,
  options: Partial<ChatSessionOptions> = {},
) {
  const recorded = await recordedSession(cleanups, { address, hostKey }, options);
  const live = new HostConnection({
    host: { id: hostId(address), address },
    viaInvite: true,
    roomsWithPast: [],
    ask: () => undefined,
    createSession: () => recorded.s,
  });
  const ui: ConnectionState[] = [];
  let previous: ConnectionState = { status: 'idle' };
  recorded.s.on('state', (change) => {
    const next = nextConnectionState(previous, live, change, Date.now());
    if (next) ui.push((previous = next));
  });
  const states = (state: StateChange['state']) =>
    recorded.of('state').filter((change) => change.state === state);
  return { ...recorded, live, ui, states };
}

describe('why a host is not connected', () => {
  it('a port where nothing listens: refused, never reached, and the UI says "can\'t reach"', async () => {
    const port = await closedPort();
    const alice = await watched({ host: '127.0.0.1', port }, newKeyPair().publicKey);
    alice.s.start();
    await alice.wait(() => alice.states('reconnecting').length >= 2, 'two refused attempts');

    expect(alice.states('connecting')[0]).toMatchObject({ neverReached: true });
    for (const change of alice.states('reconnecting')) {
      expect(change).toMatchObject({ failure: 'refused', neverReached: true });
      expect(change.reason).toMatch(/ECONNREFUSED/);
    }
    const shown = alice.ui.find((state) => state.status === 'reconnecting');
    expect(shown).toMatchObject({ failure: 'refused', neverReached: true, port });
    expect(shown?.reason).toMatch(
      new RegExp(`^can't reach 127\\.0\\.0\\.1:${port}: connection refused`),
    );
    expect(shown?.reason).not.toMatch(/lost/i);
    expect(alice.ui.find((state) => state.status === 'connecting')?.neverReached).toBe(true);
  });

  it('a host that accepts but never finishes the handshake: a timeout, never reached', async () => {
    const accepted = new Set<net.Socket>();
    const silent = net.createServer((socket) => void accepted.add(socket));
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    cleanups.push(() => {
      for (const socket of accepted) socket.destroy();
      silent.close();
    });
    const { port } = silent.address() as net.AddressInfo;
    const alice = await watched({ host: '127.0.0.1', port }, newKeyPair().publicKey, {
      handshakeTimeoutMs: 200,
    });
    alice.s.start();
    await alice.wait(() => alice.states('reconnecting').length >= 1, 'the attempt times out');

    expect(alice.states('reconnecting')[0]).toMatchObject({
      failure: 'timeout',
      neverReached: true,
    });
    expect(alice.ui.find((state) => state.status === 'reconnecting')?.reason).toMatch(
      new RegExp(`^can't reach 127\\.0\\.0\\.1:${port}: .*in time`),
    );
  });

  it('a host that went away after being reached: lost, then refused, never "never reached"', async () => {
    const h = await host();
    const alice = await watched(h.address, h.publicKey);
    alice.s.start();
    await alice.wait(() => alice.of('synced').length === 1, 'synced');
    expect(alice.ui.at(-1)).toMatchObject({ status: 'connected' });
    expect(alice.ui.at(-1)).not.toHaveProperty('neverReached');

    await h.stop();
    await alice.wait(() => alice.states('reconnecting').length >= 2, 'lost, then refused');
    const [lost, refused] = alice.states('reconnecting');
    expect(lost).toMatchObject({ failure: 'lost' });
    expect(lost).not.toHaveProperty('neverReached');
    expect(refused).toMatchObject({ failure: 'refused' });
    expect(refused).not.toHaveProperty('neverReached');
    const shown = alice.ui.filter((state) => state.status === 'reconnecting');
    expect(shown[0]).toMatchObject({ failure: 'lost' });
    expect(shown[0]?.reason).not.toMatch(/can't reach/);
    for (const state of shown) expect(state).not.toHaveProperty('neverReached');
    expect(shown[1]?.reason).toMatch(/^can't reach 127\.0\.0\.1:\d+: connection refused/);
  });
});

describe('Retry now', () => {
  it('during the wait: connects at once to a host back on the same port, long before the countdown ends', async () => {
    const { address, publicKey, dataDir } = await stoppedHost();
    const watch = watchedTimers();
    const alice = await watched(address, publicKey, {
      reconnect: { initialDelayMs: 60_000, maxDelayMs: 60_000 },
      random: () => 0.999,
      timers: watch.timers,
    });
    alice.s.start();
    await alice.wait(() => alice.s.state === 'reconnecting', 'the first attempt is refused');
    const waiting = alice.states('reconnecting')[0];
    expect(waiting).toMatchObject({ attempt: 1, retryInMs: 59_940, failure: 'refused' });

    await host({ dataDir, port: address.port });
    expect(alice.live.retryNow()).toBe(true);
    await alice.wait(() => alice.s.state === 'connected', 'connected', 10_000);

    // The minute-long wait was cancelled, not waited out.
    expect(watch.cancelled(59_940)).toBe(true);
    expect(alice.of('state').map((change) => change.state)).toEqual([
      'connecting',
      'reconnecting',
      'connecting',
      'connected',
    ]);
    expect(alice.ui.at(-1)).toMatchObject({ status: 'connected' });
    expect(alice.ui.at(-1)).not.toHaveProperty('neverReached');
    expect(alice.ui.at(-1)).not.toHaveProperty('failure');
  });

  it('while the host is still down: one attempt now, and the next wait grows as it would have', async () => {
    const port = await closedPort();
    const alice = await watched({ host: '127.0.0.1', port }, newKeyPair().publicKey, {
      reconnect: { initialDelayMs: 20_000, maxDelayMs: 60_000 },
      random: () => 0.999,
    });
    alice.s.start();
    await alice.wait(() => alice.states('reconnecting').length === 1, 'refused once');
    expect(alice.live.retryNow()).toBe(true);
    await alice.wait(() => alice.states('reconnecting').length === 2, 'refused again');
    expect(alice.s.retryNow()).toBe(true);
    await alice.wait(() => alice.states('reconnecting').length === 3, 'refused a third time');

    expect(alice.states('reconnecting').map((c) => [c.attempt, c.retryInMs, c.failure])).toEqual([
      [1, 19_980, 'refused'],
      [2, 39_960, 'refused'],
      [3, 59_940, 'refused'],
    ]);
    expect(alice.states('connecting')).toHaveLength(3);
    // The attempts asked for, and their failures, are marked: the UI tells them from the first.
    expect(alice.states('connecting').map((c) => c.retried === true)).toEqual([false, true, true]);
    expect(alice.states('reconnecting').map((c) => c.retried === true)).toEqual([
      false,
      true,
      true,
    ]);
  });

  it('does nothing while connecting or connected, nor after the user stopped', async () => {
    const h = await host();
    const alice = await watched(h.address, h.publicKey);
    alice.s.start();
    expect(alice.s.state).toBe('connecting');
    expect(alice.live.retryNow()).toBe(false);
    await alice.wait(() => alice.of('synced').length === 1, 'synced');

    const seen = alice.of('state').length;
    expect(alice.live.retryNow()).toBe(false);
    expect(alice.s.retryNow()).toBe(false);
    alice.s.send('lobby', 'still here');
    await alice.wait(() => alice.of('ack').length === 1, 'the same connection answers');
    expect(alice.of('state')).toHaveLength(seen);
    expect(alice.s.state).toBe('connected');
    expect(h.clientCount).toBe(1);

    await alice.live.stop();
    expect(alice.live.retryNow()).toBe(false);
    expect(alice.s.state).toBe('stopped');
  });
});

describe('a host that does not present the expected key', () => {
  it("says the key expected was the invite's: the link does not match this host", async () => {
    const h = await host();
    const impostor = await host();
    const alice = await watched(impostor.address, h.publicKey);
    alice.s.start();
    await alice.wait(() => alice.of('fatal').length === 1, 'refused');

    expect(alice.of('fatal')[0]).toMatchObject({
      code: 'host-key-mismatch',
      expectedFrom: 'invite',
      expectedFingerprint: h.fingerprint,
      actualFingerprint: impostor.fingerprint,
    });
    expect(alice.of('fatal')[0]?.message).toMatch(/does not match the invite link/);
    expect(impostor.clientCount).toBe(0);
    // A person must look at this: Retry now does not try the same host again.
    alice.live.fatalReason = alice.of('fatal')[0]?.message;
    expect(alice.live.retryNow()).toBe(false);
    expect(alice.s.retryNow()).toBe(false);
    expect(alice.s.state).toBe('stopped');
  });

  it('says the key expected was pinned: the host key changed', async () => {
    const h = await host();
    const impostor = await host();
    const knownHosts = await KnownHosts.load(
      join(cleanups.tempDir('parley-client-'), 'known-hosts.json'),
    );
    await knownHosts.pin(impostor.address, h.publicKey, 'first-use');
    const alice = await watched(impostor.address, h.publicKey, {
      trust: createHostVerifier({
        address: impostor.address,
        knownHosts,
        policy: { trustNewHost: true },
      }),
    });
    alice.s.start();
    await alice.wait(() => alice.of('fatal').length === 1, 'refused');

    expect(alice.of('fatal')[0]).toMatchObject({
      code: 'host-key-mismatch',
      expectedFrom: 'pinned',
      expectedFingerprint: h.fingerprint,
      actualFingerprint: impostor.fingerprint,
    });
    expect(alice.of('fatal')[0]?.message).toMatch(/key has changed/);
    expect(impostor.clientCount).toBe(0);
  });
});
