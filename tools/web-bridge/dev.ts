// `npm run dev:web`: the renderer in a browser, with hot reload, over the bridge, which runs
// the real desktop service layer (DesktopService). Options:
//   --port N        the page and the bridge (default 5174)
//   --data-dir DIR  this "install": identity, known hosts, history (default .parley-dev/web)
//   --with-host     also host rooms here (data in .parley-dev/host) and print invites: a
//                   one-use owner invite to #lobby (paste it first: you run the room) and a
//                   member invite for a second profile. The rooms are private, as a new
//                   host's are; with --open anyone who connects may join them. Private rooms
//                   are end-to-end encrypted (MLS), as a new host's are; open ones are not
//   --no-e2ee       with --with-host: the host makes its rooms without end-to-end encryption
//   --seed N        with --with-host: the host's history is replaced by N messages in #lobby,
//                   written before it starts, to try a long room (its key is kept, so the
//                   install still trusts it; pair with a fresh --data-dir for a clean timeline;
//                   the memberships go with the history: use the new owner invite). The
//                   seeded #lobby is NOT end-to-end encrypted (the host wrote its messages,
//                   so it can read them, and the header says so); for an encrypted room, make
//                   a private one with New room
//   --hosts N       with --with-host: N hosts (ports --host-port, +1, …; data in
//                   .parley-dev/host, host-2, …), each with its invites printed: to try the
//                   host rail with several hosts at once
// The hosts that were in the sidebar when the bridge last stopped are connected again at start.
// Open a second browser profile on another port with another --data-dir to be two people.
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_LIMITS } from '../../src-main/server/host-limits.ts';
import { startBridge } from './server.ts';
import { projectRoot } from './vite-config.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '5174' },
    'data-dir': { type: 'string', default: resolve(projectRoot, '.parley-dev/web') },
    'with-host': { type: 'boolean', default: false },
    'host-port': { type: 'string', default: '7878' },
    seed: { type: 'string' },
    open: { type: 'boolean', default: false },
    'no-e2ee': { type: 'boolean', default: false },
    hosts: { type: 'string', default: '1' },
  },
});

const cleanups: (() => Promise<void>)[] = [];
const seed = values.seed === undefined ? undefined : Number(values.seed);
if (seed !== undefined && (!Number.isSafeInteger(seed) || seed < 1 || !values['with-host'])) {
  console.error('--seed takes a number of messages, 1 or more, and goes with --with-host');
  process.exit(2);
}

/** Names with different initials, so the host rail tells them apart at a glance. */
const HOST_NAMES = ['Parley dev host', 'Book club', 'Garden crew', 'Open source', 'Kitchen'];
const hostCount = Number(values.hosts);
if (!Number.isSafeInteger(hostCount) || hostCount < 1 || hostCount > 9) {
  console.error('--hosts takes a number of hosts, 1 to 9');
  process.exit(2);
}
if (hostCount > 1 && !values['with-host']) {
  console.error('--hosts goes with --with-host');
  process.exit(2);
}

for (let index = 0; values['with-host'] && index < hostCount; index++) {
  const dataDir = resolve(
    projectRoot,
    index === 0 ? '.parley-dev/host' : `.parley-dev/host-${index + 1}`,
  );
  let limits = {};
  if (seed !== undefined) {
    // A fresh history each time: seeding on top of the last run would mix two of them.
    for (const suffix of ['', '-wal', '-shm']) {
      rmSync(join(dataDir, `history.sqlite${suffix}`), { force: true });
    }
    const { seedHostHistory } = await import('./seed-host.ts');
    const historyLimit = Math.max(seed, DEFAULT_LIMITS.historyLimit);
    seedHostHistory({ dataDir, room: 'lobby', count: seed, historyLimit });
    limits = { historyLimit };
  }
  const { startHost } = await import('../../src-main/server/host.ts');
  const host = await startHost({
    host: '127.0.0.1',
    port: Number(values['host-port']) + index,
    dataDir,
    rooms: ['lobby', 'random', 'release'],
    openRooms: values.open,
    // As `parley --serve` does: private rooms are end-to-end encrypted unless --no-e2ee.
    e2ee: !values['no-e2ee'],
    name: HOST_NAMES[index] ?? `Dev host ${index + 1}`,
    limits,
  });
  cleanups.push(() => host.stop());
  console.log(`host on 127.0.0.1:${host.address.port}, fingerprint ${host.fingerprint}`);
  // A fresh pair at every start (a member who redeems again keeps its role and spends no use);
  // each expires, so the host's list of live invites does not grow run after run.
  const day = 24 * 3600 * 1000;
  const owner = host.invite('lobby', { role: 'owner', uses: 1, expiresInMs: day });
  console.log(`owner invite (#lobby, one use): ${owner}`);
  console.log(`member invite (#lobby): ${host.invite('lobby', { expiresInMs: 7 * day })}`);
  console.log(`link (members only, no invite): ${host.link('lobby')}`);
}
const { openServiceBackend } = await import('./service-backend.ts');
const backend = await openServiceBackend({ dataDir: resolve(values['data-dir']) });
cleanups.unshift(() => backend.close());

const bridge = await startBridge({ backend, page: { kind: 'vite' }, port: Number(values.port) });
cleanups.unshift(() => bridge.close());
console.log(`Parley (web) on ${bridge.url}`);
// As the desktop app does once its window is ready: the hosts left open come back.
const restored = await backend.service.restoreHosts();
if (restored.length > 0) console.log(`reconnecting to ${restored.map((h) => h.hostId).join(', ')}`);

const stop = async (): Promise<void> => {
  for (const cleanup of cleanups) await cleanup();
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
