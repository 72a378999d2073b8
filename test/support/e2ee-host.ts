import { spawn } from 'node:child_process';
import { once } from 'node:events';
import type { Cleanups } from './lifecycle.ts';

const HOST_MODULE = new URL('../../src-main/server/host.ts', import.meta.url).href;
const LOG_MODULE = new URL('../../src-main/server/host-log.ts', import.meta.url).href;

/**
 * A real host with end-to-end encrypted rooms (`startHost({ e2ee: true })`) in its own Node
 * process, as `parley --serve` runs it, logging at every level (debug included) to its stderr:
 * the canary tests read everything the host wrote. Its #lobby is private and E2EE; the start
 * invites are its owner invite and a reusable member invite.
 */
export interface E2eeHost {
  readonly port: number;
  readonly publicKey: Uint8Array;
  readonly dataDir: string;
  readonly ownerInvite: string;
  readonly memberInvite: string;
  /** Everything the process wrote, from its start. */
  readonly stdout: string[];
  readonly stderr: string[];
  alive(): boolean;
  stop(): Promise<void>;
}

export async function spawnE2eeHost(
  cleanups: Cleanups,
  options: { rooms?: readonly string[] } = {},
): Promise<E2eeHost> {
  const dataDir = cleanups.tempDir('parley-e2ee-host-');
  const script = `
    const { startHost } = await import(${JSON.stringify(HOST_MODULE)});
    const { createStderrLog } = await import(${JSON.stringify(LOG_MODULE)});
    const h = await startHost({
      host: '127.0.0.1', port: 0, dataDir: process.env.PARLEY_TEST_DATA_DIR, e2ee: true,
      rooms: JSON.parse(process.env.PARLEY_TEST_ROOMS),
      limits: { messagesPerSecond: 1000, messageBurst: 1000 },
      log: createStderrLog('debug'),
    });
    process.stdout.write('ready ' + h.address.port + ' ' + Buffer.from(h.publicKey).toString('hex') + '\\n');
    for (const invite of h.startInvites) process.stdout.write('invite ' + invite.role + ' ' + invite.link + '\\n');
    process.stdout.write('invites-end\\n');
    process.on('SIGTERM', () => h.stop().then(() => process.exit(0)));
  `;
  const child = spawn(
    process.execPath,
    ['--disable-warning=ExperimentalWarning', '--input-type=module', '-e', script],
    {
      env: {
        ...process.env,
        PARLEY_TEST_DATA_DIR: dataDir,
        PARLEY_TEST_ROOMS: JSON.stringify(options.rooms ?? ['lobby']),
      },
      stdio: 'pipe',
    },
  );
  const stdout: string[] = [];
  const stderr: string[] = [];
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => stdout.push(chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
  const alive = () => child.exitCode === null && child.signalCode === null;
  const stop = async () => {
    if (alive()) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  };
  cleanups.push(stop);
  const start = Date.now();
  while (!/^invites-end$/m.test(stdout.join(''))) {
    if (!alive() || Date.now() - start > 15_000) {
      await stop();
      throw new Error(`the E2EE host did not start: ${stderr.join('')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const out = stdout.join('');
  const [, port, key] = /^ready (\d+) ([0-9a-f]+)$/m.exec(out) ?? [];
  const invites = [...out.matchAll(/^invite (\w+) (\S+)$/gm)];
  const ownerInvite = invites.find(([, role]) => role === 'owner')?.[2];
  const memberInvite = invites.find(([, role]) => role === 'member')?.[2];
  if (!port || !key || !ownerInvite || !memberInvite) {
    await stop();
    throw new Error('the E2EE host printed no address or invites');
  }
  return {
    port: Number(port),
    publicKey: new Uint8Array(Buffer.from(key, 'hex')),
    dataDir,
    ownerInvite,
    memberInvite,
    stdout,
    stderr,
    alive,
    stop,
  };
}
