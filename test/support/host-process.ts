import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HostLimits } from '../../src-main/server/host-limits.ts';

const HOST_MODULE = new URL('../../src-main/server/host.ts', import.meta.url).href;

/** A real host (`startHost`) in its own Node process: its memory and event loop are its own. */
export interface HostProcess {
  readonly port: number;
  readonly publicKey: Uint8Array;
  readonly child: ChildProcessWithoutNullStreams;
  readonly dataDir: string;
  /** The invites the host made at start (`startHost`'s startInvites): role and link. */
  readonly startInvites: readonly { role: string; link: string }[];
  /** The first room's reusable member invite, on the host's first start. */
  readonly memberInvite: string | undefined;
  /** Resident memory of the host process, from /proc (Linux), in MiB. */
  rssMiB(): number;
  /** Its peak resident memory so far, in MiB. */
  peakRssMiB(): number;
  /** Its log, one JSON object per line: `{ event, ...fields }` (debug lines left out). */
  readonly log: string[];
  /** Whether the process is still running. */
  alive(): boolean;
  /** Kills it (if running) and removes its data folder unless `keepData`. */
  stop(): Promise<void>;
}

export interface HostProcessOptions {
  readonly limits?: Partial<HostLimits>;
  readonly rooms?: readonly string[];
  /** Rooms anyone may join (`--open`); default false: members only, by invite. */
  readonly openRooms?: boolean;
  /** Default: a new temporary folder, removed on stop(). */
  readonly dataDir?: string;
  /**
   * Rooms and DMs created not open are end-to-end encrypted (docs/protocol.md §12), as with
   * `parley --serve`. Default false (`--no-e2ee`): most tests are about plaintext rooms.
   */
  readonly e2ee?: boolean;
}

/** Starts a host in a child process with these limits (those not given keep their defaults). */
export async function spawnHost(options: HostProcessOptions = {}): Promise<HostProcess> {
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'parley-host-'));
  const script = `
    const { startHost } = await import(${JSON.stringify(HOST_MODULE)});
    const log = (level, event, fields) => {
      if (level !== 'debug') process.stderr.write(JSON.stringify({ event, ...fields }) + '\\n');
    };
    const h = await startHost({
      host: '127.0.0.1', port: 0, dataDir: process.env.PARLEY_TEST_DATA_DIR,
      rooms: JSON.parse(process.env.PARLEY_TEST_ROOMS),
      openRooms: process.env.PARLEY_TEST_OPEN === '1',
      e2ee: process.env.PARLEY_TEST_E2EE === '1',
      limits: JSON.parse(process.env.PARLEY_TEST_LIMITS), log,
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
        PARLEY_TEST_LIMITS: JSON.stringify(options.limits ?? {}),
        PARLEY_TEST_ROOMS: JSON.stringify(options.rooms ?? ['lobby']),
        PARLEY_TEST_OPEN: options.openRooms ? '1' : '0',
        PARLEY_TEST_E2EE: options.e2ee ? '1' : '0',
      },
      stdio: 'pipe',
    },
  );
  const log: string[] = [];
  child.stderr
    .setEncoding('utf8')
    .on('data', (chunk: string) => log.push(...chunk.split('\n').filter(Boolean)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
    if (ownDir) rmSync(dataDir, { recursive: true, force: true });
  };
  let out = '';
  child.stdout.setEncoding('utf8');
  const ready = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`host did not start: ${log.join('\n')}`));
    }, 15_000);
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      const line = /^ready .*$/m.exec(out)?.[0];
      if (line && /^invites-end$/m.test(out)) {
        clearTimeout(timer);
        resolve(line);
      }
    });
  });
  const [, port, key] = ready.split(' ');
  const startInvites = [...out.matchAll(/^invite (\w+) (\S+)$/gm)].map(([, role, link]) => ({
    role: role ?? '',
    link: link ?? '',
  }));
  const status = (field: string) => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(
      readFileSync(`/proc/${child.pid}/status`, 'utf8'),
    );
    return Number(match?.[1] ?? NaN) / 1024;
  };
  return {
    port: Number(port),
    publicKey: new Uint8Array(Buffer.from(key ?? '', 'hex')),
    child,
    dataDir,
    startInvites,
    memberInvite: startInvites.find((invite) => invite.role === 'member')?.link,
    rssMiB: () => status('VmRSS'),
    peakRssMiB: () => status('VmHWM'),
    log,
    alive: () => child.exitCode === null && child.signalCode === null,
    stop,
  };
}
