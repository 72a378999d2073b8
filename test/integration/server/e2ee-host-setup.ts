// The E2EE host tests' common setup: a real in-process E2EE host on 127.0.0.1 port 0, stopped
// after each test, wire clients of MLS installs connected to it, and #lobby owned by alice with
// bob a member. Kept in one place so the suites set up the host the same way.
import { expect } from 'vitest';
import { type HostOptions, type RunningHost, startHost } from '../../../src-main/server/host.ts';
import type { Cleanups } from '../../support/lifecycle.ts';
import type { WireClient } from '../../support/wire-client.ts';
import { type Install, connectInstall, keyPackages, newInstall } from './e2ee-kit.ts';

export interface E2eeHostSetup {
  /** An E2EE host with #lobby; `stop` stops it before the test ends (e.g. to restart it). */
  host(options?: Partial<HostOptions>): Promise<E2eeTestHost>;
  /** `install`'s wire client, its hello naming its device (or `device`; null: none). */
  connect(
    h: RunningHost,
    nick: string,
    install: Install,
    device?: string | null,
  ): Promise<WireClient>;
  /** The link of the host's start invite for `role` in `room`. */
  invite(h: RunningHost, role: 'owner' | 'member', room?: string): string;
  /** #lobby owned by alice, with bob a member; both have published `kpCount` KeyPackages. */
  aliceAndBob(options: Partial<HostOptions>, kpCount: number): Promise<AliceAndBob>;
}

export interface E2eeTestHost {
  readonly h: RunningHost;
  readonly dataDir: string;
  stop(): Promise<void>;
}

export interface AliceAndBob extends E2eeTestHost {
  readonly alice: WireClient;
  readonly bob: WireClient;
  readonly aliceInstall: Install;
  readonly bobInstall: Install;
}

export function e2eeHostSetup(cleanups: Cleanups, dirPrefix: string): E2eeHostSetup {
  async function host(options: Partial<HostOptions> = {}): Promise<E2eeTestHost> {
    const dataDir = options.dataDir ?? cleanups.tempDir(dirPrefix);
    const h = await startHost({
      host: '127.0.0.1',
      port: 0,
      rooms: ['lobby'],
      e2ee: true,
      ...options,
      dataDir,
    });
    let stopped = false;
    cleanups.push(async () => {
      if (!stopped) await h.stop();
    });
    return {
      h,
      dataDir,
      stop: async () => {
        stopped = true;
        await h.stop();
      },
    };
  }

  async function connect(
    h: RunningHost,
    nick: string,
    install: Install,
    device?: string | null,
  ): Promise<WireClient> {
    const c = await connectInstall(
      h.address.port,
      h.publicKey,
      nick,
      install,
      device === undefined ? install.device.deviceText : device,
    );
    cleanups.push(() => c.close());
    return c;
  }

  function invite(h: RunningHost, role: 'owner' | 'member', room = 'lobby'): string {
    const found = h.startInvites.find((i) => i.role === role && i.room === room);
    if (!found) throw new Error(`no ${role} invite for ${room}`);
    return found.link;
  }

  async function aliceAndBob(options: Partial<HostOptions>, kpCount: number): Promise<AliceAndBob> {
    const t = await host(options);
    const aliceInstall = await newInstall();
    const bobInstall = await newInstall();
    const alice = await connect(t.h, 'alice', aliceInstall);
    expect(await alice.redeem(invite(t.h, 'owner'))).toMatchObject({ t: 'redeemed' });
    const bob = await connect(t.h, 'bob', bobInstall);
    expect(await bob.redeem(invite(t.h, 'member'))).toMatchObject({ t: 'redeemed' });
    for (const [c, install] of [
      [alice, aliceInstall],
      [bob, bobInstall],
    ] as const) {
      const kps = await keyPackages(install, kpCount);
      expect(await c.request({ t: 'kp-publish', kps })).toMatchObject({ t: 'done' });
    }
    return { ...t, alice, bob, aliceInstall, bobInstall };
  }

  return { host, connect, invite, aliceAndBob };
}
