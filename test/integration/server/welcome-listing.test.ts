import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { type RunningHost, startHost } from '../../../src-main/server/host.ts';
import type { KeyPair } from '../../../src-main/protocol/crypto/crypto-backend.ts';
import { HostDatabase } from '../../../src-main/server/host-database.ts';
import { type WireClient, connectWireClient } from '../../support/wire-client.ts';
import { cleanupsAfterEach } from '../../support/lifecycle.ts';

// Most welcomes list the same open rooms, so the host keeps that listing while its database is
// unchanged. Whatever changes a room between two connections — here, through the host, or in the
// file by another process — the next welcome must say so, and a key's own bans still count.

const cleanups = cleanupsAfterEach();

async function client(h: RunningHost, nick: string, keyPair?: KeyPair): Promise<WireClient> {
  const c = await connectWireClient(h.address.port, h.publicKey, nick, keyPair ? { keyPair } : {});
  cleanups.push(() => c.close());
  await c.waitFor('welcome');
  await c.waitFor('rooms');
  return c;
}

/** What a new connection of `keyPair` is offered at its welcome: room name → topic. */
async function offered(h: RunningHost, nick: string, keyPair?: KeyPair) {
  const c = await client(h, nick, keyPair);
  const rooms = c.of('rooms')[0]?.rooms ?? [];
  await c.close();
  return Object.fromEntries(rooms.map((r) => [r.room, r.topic ?? '']));
}

describe('the open rooms a welcome lists', () => {
  it('follow every change between two connections, and each key’s bans', async () => {
    const dataDir = cleanups.tempDir('parley-welcome-listing-');
    const h = await startHost({
      host: '127.0.0.1',
      port: 0,
      rooms: ['lobby'],
      openRooms: true,
      dataDir,
    });
    cleanups.push(() => h.stop());
    const owner = h.startInvites.find((i) => i.role === 'owner');
    if (!owner) throw new Error('no owner invite');
    const alice = await client(h, 'alice');
    await alice.redeem(owner.link);

    const carol = await client(h, 'carol');
    await carol.close();
    // Twice each time: the first welcome after a change, then one that may use the kept listing.
    const again = async () => {
      const first = await offered(h, 'carol', carol.keyPair);
      expect(await offered(h, 'carol', carol.keyPair)).toEqual(first);
      return first;
    };
    expect(await again()).toEqual({ lobby: '' });
    expect(await again()).toEqual({ lobby: '' });

    expect(await alice.request({ t: 'topic', room: 'lobby', topic: 'Plans' })).toMatchObject({
      t: 'done',
    });
    expect(await again()).toEqual({ lobby: 'Plans' });

    expect((await alice.request({ t: 'create', room: 'square', open: true })).t).toBe('room');
    expect(await again()).toEqual({ lobby: 'Plans', square: '' });

    // A ban on carol's key (she was never a member): gone for her, still there for others.
    await alice.request({ t: 'remove', room: 'square', key: carol.keyText, ban: true });
    expect(await again()).toEqual({ lobby: 'Plans' });
    expect(await offered(h, 'dave')).toEqual({ lobby: 'Plans', square: '' });
    expect(await again()).toEqual({ lobby: 'Plans' });
    await alice.request({ t: 'unban', room: 'square', key: carol.keyText });
    expect(await again()).toEqual({ lobby: 'Plans', square: '' });

    // Written by another process on the same file (as `parley host` does).
    const db = HostDatabase.open(join(dataDir, 'history.sqlite'), { busyTimeoutMs: 5000 });
    try {
      db.rooms.setTopic('square', 'from outside', undefined, Date.now());
    } finally {
      db.close();
    }
    expect(await again()).toEqual({ lobby: 'Plans', square: 'from outside' });

    expect(await alice.request({ t: 'set-open', room: 'lobby', open: false })).toMatchObject({
      t: 'done',
    });
    expect(await again()).toEqual({ square: 'from outside' });

    // A member of an open room is not offered it again (it is listed among its own rooms).
    const joining = await client(h, 'carol', carol.keyPair);
    await joining.join('square');
    await joining.close();
    const member = await client(h, 'carol', carol.keyPair);
    expect(member.of('rooms')[0]?.rooms.map((r) => [r.room, r.role ?? null])).toEqual([
      ['square', 'member'],
    ]);
  });

  it('a member who comes back under another nickname is listed under it', async () => {
    const h = await startHost({
      host: '127.0.0.1',
      port: 0,
      rooms: ['lobby'],
      dataDir: cleanups.tempDir('parley-welcome-rename-'),
    });
    cleanups.push(() => h.stop());
    const link = (role: string) => h.startInvites.find((i) => i.role === role)?.link ?? '';
    const alice = await client(h, 'alice');
    await alice.redeem(link('owner'));
    const bob = await client(h, 'bob');
    await bob.redeem(link('member'));
    await bob.close();
    // The same nickname again changes nothing; another one is what the room shows from then on.
    (await client(h, 'bob', bob.keyPair)).close();
    (await client(h, 'robert', bob.keyPair)).close();
    await alice.join('lobby');
    const members = alice.of('members').flatMap((m) => m.members);
    expect(members.map((m) => [m.nick, m.role])).toEqual([
      ['alice', 'owner'],
      ['robert', 'member'],
    ]);
  });
});
