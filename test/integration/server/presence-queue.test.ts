import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningHost, startHost } from '../../../src-main/server/host.ts';
import type { HostMessage } from '../../../src-main/protocol/wire/messages.ts';
import { type WireClient, connectWireClient } from '../../support/wire-client.ts';
import { cleanupsAfterEach } from '../../support/lifecycle.ts';

// Presence is told at the end of the event-loop turn, coalesced per key. These tests put
// several requests into one turn (the host runs in this process, so nothing is read until
// the test yields) and check that what a member is told adds up to who is really there.

const cleanups = cleanupsAfterEach();

async function host(): Promise<RunningHost> {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-presence-'));
  const h = await startHost({ host: '127.0.0.1', port: 0, rooms: ['lobby'], dataDir });
  cleanups.push(async () => {
    await h.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return h;
}

async function client(
  h: RunningHost,
  nick: string,
  options: Parameters<typeof connectWireClient>[3] = {},
): Promise<WireClient> {
  const c = await connectWireClient(h.address.port, h.publicKey, nick, options);
  cleanups.push(() => c.close());
  await c.waitFor('welcome');
  // Rooms are private: a client becomes a member with the invite the host printed.
  await c.redeem(h.startInvites.find((i) => i.role === 'member')?.link ?? '');
  return c;
}

/** Who is in `room` as a client sees it: its member list's online ones, then each presence event. */
function view(c: WireClient, room = 'lobby'): Map<string, string> {
  const members = new Map<string, string>();
  let listing = false;
  for (const m of c.received as HostMessage[]) {
    if (!('room' in m) || m.room !== room) continue;
    if (m.t === 'members') {
      if (!listing) members.clear();
      listing = !m.last;
      // Members who are not in the room now are listed too (online: false): not present.
      for (const member of m.members) {
        if (member.online !== false) members.set(member.key, member.nick);
      }
    } else if (m.t === 'presence') {
      if (m.event === 'joined') members.set(m.key, m.nick);
      else if (m.event === 'renamed') members.set(m.key, m.newNick ?? m.nick);
      else members.delete(m.key);
    }
  }
  return members;
}

/** A message through the room: everything told to `observer` before it has arrived. */
async function roundTrip(sender: WireClient, observer: WireClient, id: string): Promise<void> {
  sender.send({ t: 'send', room: 'lobby', id, text: 'marker' });
  await observer.waitFor('msg', (m) => m.id === id, 10_000);
}

describe('presence within one turn', () => {
  it('a rename sent together with a join reaches the room after the join, so members see the new name', async () => {
    const h = await host();
    const observer = await client(h, 'observer');
    observer.send({ t: 'join', room: 'lobby' });
    await observer.waitFor('synced');
    const kay = await client(h, 'kay');

    kay.send({ t: 'nick', nick: 'kay2' });
    kay.send({ t: 'join', room: 'lobby' });
    await kay.waitFor('nick', (m) => m.nick === 'kay2', 10_000);
    await kay.waitFor('synced', undefined, 10_000);
    await roundTrip(kay, observer, 'presence-order-0001');

    expect(view(observer).get(kay.keyText)).toBe('kay2');
  });

  it('a member who joins between another key leaving on one connection and joining on another is told it is there', async () => {
    const h = await host();
    const first = await client(h, 'kay');
    first.send({ t: 'join', room: 'lobby' });
    await first.waitFor('synced');
    const second = await client(h, 'kay', { keyPair: first.keyPair });
    const newcomer = await client(h, 'newcomer');

    // One turn: the key leaves (its only connection in the room), the newcomer is listed the
    // room without it, then the key is back on its other connection.
    first.send({ t: 'leave', room: 'lobby' });
    newcomer.send({ t: 'join', room: 'lobby' });
    second.send({ t: 'join', room: 'lobby' });
    await newcomer.waitFor('synced', undefined, 10_000);
    await second.waitFor('synced', undefined, 10_000);
    await roundTrip(second, newcomer, 'presence-order-0002');

    expect(view(newcomer).get(first.keyText)).toBe('kay');
  });
});
