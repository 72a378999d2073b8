// `npm run dev:web`: the renderer in a browser, with hot reload, over the bridge, which runs
// the real desktop service layer (DesktopService). Options:
//   --port N        the page and the bridge (default 5174)
//   --data-dir DIR  this "install": identity, known hosts, history (default .parley-dev/web)
//   --with-host     also host a room here (data in .parley-dev/host) and print its invite
//   --seed N        with --with-host: the host's history is replaced by N messages in #lobby,
//                   written before it starts, to try a long room (its key is kept, so the
//                   install still trusts it; pair with a fresh --data-dir for a clean timeline)
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
  },
});

const cleanups: (() => Promise<void>)[] = [];
const seed = values.seed === undefined ? undefined : Number(values.seed);
if (seed !== undefined && (!Number.isSafeInteger(seed) || seed < 1 || !values['with-host'])) {
  console.error('--seed takes a number of messages, 1 or more, and goes with --with-host');
  process.exit(2);
}

if (values['with-host']) {
  const dataDir = resolve(projectRoot, '.parley-dev/host');
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
    port: Number(values['host-port']),
    dataDir,
    rooms: ['lobby', 'random', 'release'],
    name: 'Parley dev host',
    limits,
  });
  cleanups.push(() => host.stop());
  console.log(`host on 127.0.0.1:${host.address.port}, fingerprint ${host.fingerprint}`);
  console.log(`invite: ${host.invite('lobby')}`);
}
const { openServiceBackend } = await import('./service-backend.ts');
const backend = await openServiceBackend({ dataDir: resolve(values['data-dir']) });
cleanups.unshift(() => backend.close());

const bridge = await startBridge({ backend, page: { kind: 'vite' }, port: Number(values.port) });
cleanups.unshift(() => bridge.close());
console.log(`Parley (web) on ${bridge.url}`);

const stop = async (): Promise<void> => {
  for (const cleanup of cleanups) await cleanup();
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
