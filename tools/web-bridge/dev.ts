// `npm run dev:web`: the renderer in a browser, with hot reload, over the bridge, which runs
// the real desktop service layer (DesktopService). Options:
//   --port N        the page and the bridge (default 5174)
//   --data-dir DIR  this "install": identity, known hosts, history (default .parley-dev/web)
//   --with-host     also host a room here (data in .parley-dev/host) and print its invite
//   --fake          an in-memory pretend host instead of the service (no network at all);
//                   --seed N invents N messages, --demo makes people chat; type `drop` + Enter
//                   to simulate a lost connection
// Open a second browser profile on another port with another --data-dir to be two people.
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import type { BridgeBackend } from './backend.ts';
import { startBridge } from './server.ts';
import { projectRoot } from './vite-config.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '5174' },
    'data-dir': { type: 'string', default: resolve(projectRoot, '.parley-dev/web') },
    'with-host': { type: 'boolean', default: false },
    'host-port': { type: 'string', default: '7878' },
    fake: { type: 'boolean', default: false },
    seed: { type: 'string' },
    demo: { type: 'boolean', default: false },
  },
});

const cleanups: (() => Promise<void>)[] = [];
let backend: BridgeBackend;
let drop: (() => void) | undefined;

if (values.fake) {
  const { FakeService } = await import('./fake-service.ts');
  const fake = new FakeService({
    demo: values.demo,
    ...(values.seed ? { seed: Number(values.seed) } : {}),
  });
  drop = () => fake.simulateDrop();
  backend = fake;
} else {
  if (values['with-host']) {
    const { startHost } = await import('../../src-main/server/host.ts');
    const host = await startHost({
      host: '127.0.0.1',
      port: Number(values['host-port']),
      dataDir: resolve(projectRoot, '.parley-dev/host'),
      rooms: ['lobby', 'random', 'release'],
      name: 'Parley dev host',
    });
    cleanups.push(() => host.stop());
    console.log(`host on 127.0.0.1:${host.address.port}, fingerprint ${host.fingerprint}`);
    console.log(`invite: ${host.invite('lobby')}`);
  }
  const { openServiceBackend } = await import('./service-backend.ts');
  backend = await openServiceBackend({ dataDir: resolve(values['data-dir']) });
}
cleanups.unshift(() => backend.close());

const bridge = await startBridge({ backend, page: { kind: 'vite' }, port: Number(values.port) });
cleanups.unshift(() => bridge.close());
console.log(`Parley (web${values.fake ? ', fake host' : ''}) on ${bridge.url}`);

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (line.trim() === 'drop') drop?.();
});

const stop = async (): Promise<void> => {
  lines.close();
  for (const cleanup of cleanups) await cleanup();
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
