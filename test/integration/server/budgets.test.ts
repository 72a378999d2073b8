import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { DEFAULT_LIMITS } from '../../../src-main/server/host-limits.ts';
import { type HostProcess, spawnHost } from '../../support/host-process.ts';
import { type WireClient, connectWireClient } from '../../support/wire-client.ts';
import { cleanupsAfterEach, sleep } from '../../support/lifecycle.ts';

// Fair budgets per key (docs/protocol.md §10), against a host process at its default limits
// (only the per-address connection limit is raised: every client here shares 127.0.0.1).
// Abusers go as fast as the per-connection request limit allows — just under it, so they are
// throttled rather than disconnected — while a bystander's pings are timed.

const cleanups = cleanupsAfterEach();

async function host(): Promise<HostProcess> {
  const h = await spawnHost({ limits: { maxClientsPerIp: 1000 }, openRooms: true });
  cleanups.push(() => h.stop());
  return h;
}

async function member(h: HostProcess, nick: string): Promise<WireClient> {
  const c = await connectWireClient(h.port, h.publicKey, nick);
  cleanups.push(() => c.close());
  await c.waitFor('welcome');
  c.send({ t: 'join', room: 'lobby' });
  await c.waitFor('synced');
  return c;
}

/** Pings every 10 ms until `stop`, and returns the round trips in ms. */
function timePings(c: WireClient): { stop: () => Promise<number[]> } {
  const rtts: number[] = [];
  let running = true;
  const done = (async () => {
    let n = 0;
    while (running) {
      const id = ++n;
      const sentAt = performance.now();
      c.send({ t: 'ping', n: id });
      await c.waitFor('pong', (p) => p.n === id, 20_000);
      rtts.push(performance.now() - sentAt);
      await sleep(10);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await done;
      return rtts;
    },
  };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** Requests per 10 ms tick that stay under the per-connection request limit (200/s). */
const PER_TICK = Math.floor((DEFAULT_LIMITS.requestsPerSecond * 0.9) / 100);

describe('budgets per key', () => {
  it('8 connections renaming as fast as allowed are throttled; a bystander is still answered', async () => {
    const h = await host();
    const bystander = await member(h, 'bystander');
    const abusers = await Promise.all(
      Array.from({ length: 8 }, (_, i) => member(h, `renamer${i}`)),
    );
    const pings = timePings(bystander);
    let sent = 0;
    const started = Date.now();
    while (Date.now() - started < 5000) {
      for (const [i, abuser] of abusers.entries()) {
        for (let k = 0; k < PER_TICK; k++) abuser.send({ t: 'nick', nick: `r${i}n${++sent}` });
      }
      await sleep(10);
    }
    await sleep(200);
    const rtts = await pings.stop();

    const granted = abusers.reduce((n, a) => n + a.of('nick').length, 0);
    const refused = abusers.reduce(
      (n, a) => n + a.of('error').filter((e) => e.code === 'rate-limited').length,
      0,
    );
    const p50 = percentile(rtts, 50);
    const p99 = percentile(rtts, 99);
    console.log(
      `rename storm: ${sent} renames sent by 8 keys in 5 s, ${granted} granted, ${refused} ` +
        `refused (rate-limited); bystander ping p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms ` +
        `over ${rtts.length} pings`,
    );
    // Each key: its burst, plus what refills in 5 s.
    const allowance = DEFAULT_LIMITS.renameBurst + (DEFAULT_LIMITS.renamesPerMinute / 60) * 6;
    expect(granted).toBeLessThanOrEqual(8 * Math.ceil(allowance));
    expect(refused).toBeGreaterThan(sent / 2);
    expect(abusers.every((a) => !a.channel.closed)).toBe(true); // throttled, not thrown out
    expect(p99).toBeLessThan(1000); // was 6.3 s before budgets: one fsync per rename
    // The registry holds the names granted, not the ~20 000 an unbudgeted storm claimed.
    const db = new DatabaseSync(join(h.dataDir, 'history.sqlite'), { readOnly: true });
    const names = Number(db.prepare('SELECT count(*) AS n FROM nicks').get()?.['n']);
    db.close();
    expect(names).toBeLessThanOrEqual(9 + 8 * Math.ceil(allowance));
  }, 30_000);

  it('one connection toggling join/leave reaches the others as a trickle of presence, coalesced', async () => {
    const h = await host();
    const watcher = await member(h, 'watcher');
    const toggler = await member(h, 'toggler');
    await watcher.waitFor('presence', (p) => p.nick === 'toggler');
    const before = watcher.of('presence').length;

    // Within one turn, join and leave cancel out: nothing to tell.
    for (let i = 0; i < 5; i++) {
      toggler.send({ t: 'leave', room: 'lobby' });
      toggler.send({ t: 'join', room: 'lobby' });
    }
    await toggler.waitFor('synced', (_s) => toggler.of('synced').length >= 2);
    await sleep(100);
    expect(watcher.of('presence').length).toBe(before);

    // Toggling across turns, as fast as the request limit allows, for 3 s.
    const started = Date.now();
    let toggles = 0;
    while (Date.now() - started < 3000) {
      toggler.send({ t: toggles % 2 === 0 ? 'leave' : 'join', room: 'lobby' });
      toggles++;
      await sleep(5);
    }
    await sleep(200);
    const seen = watcher.of('presence').length - before;
    const allowance = DEFAULT_LIMITS.membershipBurst + DEFAULT_LIMITS.membershipPerSecond * 3.5;
    console.log(
      `join/leave toggling: ${toggles} requests in 3 s, the watcher got ${seen} presence events`,
    );
    expect(seen).toBeLessThanOrEqual(Math.ceil(allowance));
    expect(toggler.of('error').some((e) => e.code === 'rate-limited' && e.retryAfterMs)).toBe(true);
    expect(toggler.channel.closed).toBe(false);
  }, 30_000);

  it('history pages and typing have budgets of their own', async () => {
    const h = await host();
    const reader = await member(h, 'reader');
    const other = await member(h, 'other');
    for (let i = 0; i < 100; i++) {
      reader.send({ t: 'history', room: 'lobby', before: Number.MAX_SAFE_INTEGER, limit: 500 });
      reader.send({ t: 'typing', room: 'lobby' });
    }
    await sleep(500);
    const answered = reader.of('history-end').length;
    const refused = reader.of('error').filter((e) => e.code === 'rate-limited').length;
    expect(answered).toBeLessThanOrEqual(DEFAULT_LIMITS.historyBurst + 5);
    expect(answered + refused).toBe(100);
    expect(other.of('typing').length).toBeLessThanOrEqual(1);
    // Spending the history budget costs nothing else: messages still go through.
    reader.send({ t: 'send', room: 'lobby', id: 'budget-msg-01', text: 'hi' });
    await reader.waitFor('ack', (a) => a.id === 'budget-msg-01');
  });
});
