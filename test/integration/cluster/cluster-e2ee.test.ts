import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDevice } from '../../support/e2ee-device.ts';
import {
  type HostTarget,
  type Member,
  startMember,
  untilAllShow,
  untilGroupComplete,
} from '../../support/e2ee-members.ts';
import { type Cluster, startCluster } from '../../support/cluster.ts';
import { cleanupsAfterEach, until } from '../../support/lifecycle.ts';
import { newKeyPair } from '../../support/loopback.ts';

// An end-to-end encrypted room (#19) served by a three-node cluster, with real clients (the
// ChatSession and its MLS devices, behind decrypting relays) each on another node. The host is
// the group's Delivery Service: it orders commits and relays Welcomes. In a cluster the commits
// reach it through different nodes, so the order must still be one, cluster-wide (one commit per
// epoch; the loser told stale-epoch), and a Welcome made through one node must reach a device
// connected to another.

const cleanups = cleanupsAfterEach();
const ROOM = 'lobby';
let cluster: Cluster;

beforeAll(async () => {
  // `parley --serve` as an operator runs it: private rooms are end-to-end encrypted.
  cluster = await startCluster({ nodes: 3, rooms: [ROOM] });
}, 90_000);

afterAll(async () => {
  await cluster?.stopAll();
}, 60_000);

function node(i: number): HostTarget {
  const n = cluster.nodes[i];
  if (!n) throw new Error(`no node ${i}`);
  return { port: n.port, publicKey: cluster.hostKey };
}

/** A member on a device of its own, connected to node `i`. */
async function install(
  i: number,
  nick: string,
  invite: string | undefined,
  more: { delayMs?: (m: { t: string }) => number } = {},
): Promise<Member> {
  const identity = newKeyPair();
  const device = await openDevice(cleanups, identity);
  return startMember(cleanups, node(i), {
    nick,
    identity,
    ...(invite ? { invite } : {}),
    ...(more.delayMs ? { delayMs: more.delayMs } : {}),
    session: device.options,
  });
}

/** Once the group holds them all, each says a line; every other member reads each, decrypted. */
async function everyoneReadsEveryone(members: readonly Member[], tag: string): Promise<void> {
  await untilGroupComplete(members, ROOM);
  const lines = members.map((m) => `${tag}: ${m.nick} speaking`);
  members.forEach((m, i) => m.s.send(ROOM, lines[i] ?? ''));
  for (const [i, line] of lines.entries()) {
    await untilAllShow(members, members[i] as Member, ROOM, line, 30_000);
  }
  for (const reader of members) {
    for (const line of lines) {
      for (const m of reader.shown(ROOM, line)) expect(m.e2ee).toMatchObject({ status: 'ok' });
    }
  }
}

describe('an end-to-end encrypted room on three nodes', () => {
  it('members on different nodes form one group; commits racing through two nodes end in one', async () => {
    const [n1] = cluster.nodes;
    const ownerInvite = n1?.start.ownerInvites.get(ROOM);
    const memberInvite = n1?.start.memberInvites.get(ROOM);
    if (!ownerInvite || !memberInvite) throw new Error('n1 printed no invites for the lobby');
    // alice and bob hear of others' commits 800 ms late: both commit before seeing the other's,
    // alice through n1, bob through n2.
    const slowCommits = { delayMs: (m: { t: string }) => (m.t === 'commit' ? 800 : 0) };
    const alice = await install(0, 'alice', ownerInvite, slowCommits);
    const bob = await install(1, 'bob', memberInvite, slowCommits);
    await everyoneReadsEveryone([alice, bob], 'two');
    // carol (n3) and dave (n2) redeem at once: alice's and bob's reconciles both want to add
    // them, through different nodes; the cluster takes one commit per epoch, as one host does,
    // and the Welcomes reach devices on nodes other than the committer's.
    const [carol, dave] = await Promise.all([
      install(2, 'carol', memberInvite),
      install(1, 'dave', memberInvite),
    ]);
    const four = [alice, bob, carol, dave];
    await everyoneReadsEveryone(four, 'four');
    await until(
      () =>
        four.every(
          (m) => (m.devices.filter((d) => d.room === ROOM).at(-1)?.members.length ?? 0) === 4,
        ),
      'every roster at four members',
    );
    const rosters = four.map((m) =>
      (m.devices.filter((d) => d.room === ROOM).at(-1)?.members ?? [])
        .map((g) => `${g.key}:${[...g.devices].sort().join(',')}`)
        .sort(),
    );
    for (const roster of rosters) expect(roster).toEqual(rosters[0]);
    const stale = [alice, bob].flatMap((m) =>
      m.relay.fromHostParsed.filter((i) => i.t === 'error' && i.code === 'stale-epoch'),
    );
    // The race did happen, through two nodes: a commit was refused as stale.
    expect(stale.length).toBeGreaterThan(0);
    for (const m of four) expect(m.of('error').filter((e) => e.code === 'e2ee-failed')).toEqual([]);
    for (const m of four) expect(m.encryptionOf(ROOM)).toBe('encrypted');
    // Nothing the members said reached a node's log.
    for (const n of cluster.nodes) {
      expect(n.stderr.filter((line) => / speaking/.test(line))).toEqual([]);
    }
    expect(cluster.errorLines()).toEqual([]);
  }, 90_000);
});
