import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningHost, startHost } from '../../../src-main/server/host.ts';
import { HostDatabase } from '../../../src-main/server/host-database.ts';
import { connectWireClient } from '../../support/wire-client.ts';
import { newKeyPair } from '../../support/loopback.ts';
import { cleanupsAfterEach } from '../../support/lifecycle.ts';

// New nicknames are bound in one transaction per event-loop turn (one fsync for a burst of new
// users); a returning user's nickname is only read. The rule itself must not change.

const cleanups = cleanupsAfterEach();

async function host(dataDir = mkdtempSync(join(tmpdir(), 'parley-claims-'))) {
  const h: RunningHost = await startHost({ host: '127.0.0.1', port: 0, dataDir });
  cleanups.push(async () => {
    await h.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return { h, dataDir };
}

describe('nickname claims in bursts', () => {
  it('welcomes a burst of new users, and gives a contested name to exactly one key', async () => {
    const { h } = await host();
    const connect = (nick: string) => connectWireClient(h.address.port, h.publicKey, nick);
    const fresh = await Promise.all(Array.from({ length: 20 }, (_, i) => connect(`user${i}`)));
    const contested = await Promise.all([connect('same'), connect('same'), connect('same')]);
    for (const c of [...fresh, ...contested]) cleanups.push(() => c.close());
    await Promise.all(fresh.map((c) => c.waitFor('welcome')));
    const outcomes = await Promise.all(
      contested.map((c) =>
        Promise.race([
          c.waitFor('welcome').then(() => 'welcome'),
          c.closed.then((info) => info.code),
        ]),
      ),
    );
    expect(outcomes.filter((o) => o === 'welcome')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'nick-taken')).toHaveLength(2);
  });

  it('lets a returning key in under its name, and keeps the name bound across restarts', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'parley-claims-'));
    const keyPair = newKeyPair();
    const first = await startHost({ host: '127.0.0.1', port: 0, dataDir });
    const c = await connectWireClient(first.address.port, first.publicKey, 'carol', { keyPair });
    await c.waitFor('welcome');
    c.close();
    await first.stop();
    const db = HostDatabase.open(join(dataDir, 'history.sqlite'));
    expect(db.nickOwner('Carol')).toEqual(keyPair.publicKey);
    db.close();

    const { h } = await host(dataDir);
    const again = await connectWireClient(h.address.port, h.publicKey, 'carol', { keyPair });
    cleanups.push(() => again.close());
    await again.waitFor('welcome');
    const other = await connectWireClient(h.address.port, h.publicKey, 'carol');
    expect(await other.closed).toMatchObject({ by: 'peer', code: 'nick-taken' });
  });
});
