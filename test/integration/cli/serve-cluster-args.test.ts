import { afterEach, describe, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../support/processes.ts';

// `parley --serve` refuses wrong cluster settings before it connects to anything: each case is
// a real CLI run that must exit 2 with a clear line, with no NATS server or PostgreSQL around.
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'parley-cluster-args-'));
  dirs.push(d);
  return d;
};

/** Several CLI processes at once, on a machine that may be busy. */
const SPAWNS_TIMEOUT_MS = 60_000;
const NATS = 'nats://127.0.0.1:4222';
const SECRET = 'pa55-word-not-to-print';
const DATABASE = `postgres://parley:${SECRET}@127.0.0.1:5432/parley`;

/** Runs `parley --serve …` and returns its exit code and stderr. */
async function serveFails(args: string[]) {
  const proc = run(['--serve', ...args]);
  const { code } = await proc.exited();
  const stderr = proc.stderr.join('\n');
  // Whatever the mistake, the database password never reaches the screen.
  expect(stderr).not.toContain(SECRET);
  expect(proc.stdout).toEqual([]);
  return { code, stderr };
}

/** A data folder with a key file of this mode. */
function dataDirWithKey(mode: number): string {
  const dir = tempDir();
  writeFileSync(join(dir, 'host.key'), '{}\n');
  chmodSync(join(dir, 'host.key'), mode);
  return dir;
}

describe('parley --serve cluster options: mistakes are refused with exit code 2', () => {
  it(
    '--cluster and --database come together; --workers and --node-name need them',
    async () => {
      const cases: [string[], RegExp][] = [
        [['--cluster', NATS], /--cluster needs --database postgres:/],
        [['--database', DATABASE], /--database needs --cluster nats:/],
        [['--workers', '2'], /--workers needs --cluster and --database/],
        [['--node-name', 'a1'], /--node-name needs --cluster and --database/],
        [
          ['--cluster', NATS, '--database', DATABASE, '--workers', '0'],
          /--workers must be a whole number from 1 to 64, not "0"/,
        ],
        [
          ['--cluster', NATS, '--database', DATABASE, '--workers', '65'],
          /--workers must be .* 1 to 64/,
        ],
        [
          ['--cluster', NATS, '--database', DATABASE, '--node-name', 'a b'],
          /--node-name must be 1 to 64 characters/,
        ],
        [['--cluster', NATS, '--database'], /--database needs a PostgreSQL URL/],
      ];
      const results = await Promise.all(cases.map(([args]) => serveFails(args)));
      results.forEach(({ code, stderr }, i) => {
        expect(code).toBe(2);
        expect(stderr).toMatch(cases[i]![1]);
        expect(stderr).toMatch(/Run "parley --serve --help" for the options/);
      });
    },
    SPAWNS_TIMEOUT_MS,
  );

  it(
    'URLs that are not NATS or PostgreSQL ones are named, with their password hidden',
    async () => {
      const cases: [string[], RegExp][] = [
        [
          ['--cluster', 'http://127.0.0.1:4222', '--database', DATABASE],
          /--cluster must be a NATS server's URL.*not "http:\/\/127\.0\.0\.1:4222"/,
        ],
        [['--cluster', 'nats://', '--database', DATABASE], /--cluster must be a NATS server's URL/],
        [
          ['--cluster', NATS, '--database', `mysql://parley:${SECRET}@db/parley`],
          /--database must be a PostgreSQL URL.*not "mysql:\/\/parley:\*\*\*\*@db\/parley"/,
        ],
        [
          ['--cluster', NATS, '--database', `postgres://parley:${SECRET}@/parley`],
          /--database must be a PostgreSQL URL.*"postgres:\/\/parley:\*\*\*\*@\/parley"/,
        ],
        [['--cluster', NATS, '--database', 'not a url'], /--database must be a PostgreSQL URL/],
      ];
      const results = await Promise.all(cases.map(([args]) => serveFails(args)));
      results.forEach(({ code, stderr }, i) => {
        expect(code).toBe(2);
        expect(stderr).toMatch(cases[i]![1]);
      });
    },
    SPAWNS_TIMEOUT_MS,
  );

  it(
    'a cluster node refuses a key file others may read, and a missing one',
    async () => {
      const cluster = ['--cluster', NATS, '--database', DATABASE];
      const open = dataDirWithKey(0o644);
      const readable = dataDirWithKey(0o640);
      const absent = tempDir();
      const keyFile = join(dataDirWithKey(0o604), 'host.key');
      const [worldReadable, groupReadable, missing, named] = await Promise.all([
        serveFails([...cluster, '--data-dir', open]),
        serveFails([...cluster, '--data-dir', readable, '--workers', '2']),
        serveFails([...cluster, '--data-dir', absent]),
        serveFails([...cluster, '--data-dir', absent, '--key-file', keyFile]),
      ]);
      expect(worldReadable).toMatchObject({ code: 2 });
      expect(worldReadable.stderr).toContain(
        `the key file ${join(open, 'host.key')} has mode 0644: others on this machine may read the host's private key; make it 0600`,
      );
      expect(groupReadable).toMatchObject({ code: 2 });
      expect(groupReadable.stderr).toMatch(/has mode 0640/);
      expect(missing).toMatchObject({ code: 2 });
      expect(missing.stderr).toMatch(
        /the key file .*host\.key does not exist: every node of a cluster loads the same host key/,
      );
      expect(named).toMatchObject({ code: 2 });
      expect(named.stderr).toContain(`the key file ${keyFile} has mode 0604`);
    },
    SPAWNS_TIMEOUT_MS,
  );

  it(
    '--config: a file that cannot be read, is not JSON, has unknown or wrong settings',
    async () => {
      const dir = tempDir();
      const write = (name: string, text: string) => {
        writeFileSync(join(dir, name), text, { mode: 0o600 });
        return join(dir, name);
      };
      const cases: [string[], RegExp][] = [
        [
          ['--config', join(dir, 'missing.json')],
          /cannot read --config .*missing\.json: no such file/,
        ],
        // The syntax error's place, never the file's text (it holds the password).
        [
          ['--config', write('broken.json', `{"database": "${DATABASE}",\n  "port": 7878,,}`)],
          /--config .*broken\.json is not valid JSON \(line 2, column 16\)/,
        ],
        [
          ['--config', write('unknown.json', '{"cluster": "nats://h:4222", "databse": "x"}')],
          /--config .*unknown\.json: unknown setting "databse" \(the settings are .*database/,
        ],
        [
          ['--config', write('list.json', '["--port", "1"]')],
          /--config .*list\.json: the file must be a JSON object of settings/,
        ],
        [
          ['--config', write('port.json', '{"port": "7878"}')],
          /--config .*port\.json: port must be a whole number/,
        ],
        [
          ['--config', write('workers.json', '{"workers": 100}')],
          /--config .*workers\.json: workers must be from 1 to 64/,
        ],
        [
          [
            '--config',
            write(
              'url.json',
              `{"cluster": "${NATS}", "database": "${DATABASE.replace('postgres', 'mongodb')}"}`,
            ),
          ],
          /--config .*url\.json: database must be a PostgreSQL URL.*parley:\*\*\*\*@/,
        ],
        [['--config', write('alone.json', `{"cluster": "${NATS}"}`)], /--cluster needs --database/],
        [
          ['--config', write('workers-alone.json', '{"workers": 4}')],
          /--workers needs --cluster and --database/,
        ],
        // The command line wins over the file, setting by setting.
        [
          [
            '--config',
            write('wins.json', `{"cluster": "${NATS}", "database": "${DATABASE}"}`),
            '--database',
            'mysql://db',
          ],
          /--database must be a PostgreSQL URL.*"mysql:\/\/db"/,
        ],
      ];
      const results = await Promise.all(cases.map(([args]) => serveFails(args)));
      results.forEach(({ code, stderr }, i) => {
        expect(code).toBe(2);
        expect(stderr).toMatch(cases[i]![1]);
      });
    },
    SPAWNS_TIMEOUT_MS,
  );

  it('--help describes the cluster options', async () => {
    const proc = run(['--serve', '--help']);
    expect(await proc.exited()).toEqual({ code: 0, signal: null });
    const help = proc.stdout.join('\n');
    for (const option of [
      '--cluster URL',
      '--database URL',
      '--node-name NAME',
      '--workers N',
      '--key-file FILE',
      '--config FILE',
    ]) {
      expect(help).toContain(option);
    }
  });
});
