import { readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { UsageError } from './usage-error.ts';

/**
 * What `parley --serve` reads besides its command line: the `--config` JSON file, and the checks
 * of cluster mode's values (the NATS and PostgreSQL URLs, the node name, the shared key file).
 * Nothing here prints a password: URLs in errors and logs go through `redactUrl`.
 */

/** The numeric options' bounds, shared by the command line and the config file. */
export const SERVE_NUMBERS = {
  port: { min: 0, max: 65535 },
  history: { min: 1, max: 10_000_000 },
  'max-clients': { min: 1, max: 1_000_000 },
  'max-per-ip': { min: 1, max: 1_000_000 },
  // Below 1 GiB of ciphertext, the most host info may announce.
  'max-file-mb': { min: 0, max: 1000 },
  'file-quota-mb': { min: 1, max: 100_000_000 },
  'file-retention-days': { min: 0, max: 36_500 },
  // One process per core is the point; more than 64 on one machine is a mistake.
  workers: { min: 1, max: 64 },
} as const;

export type NumericOption = keyof typeof SERVE_NUMBERS;

/** `user:secret@` → `user:****@`, in URLs and in text that only looks like one. */
export function redactUrl(text: string): string {
  return text.replace(/(\/\/[^/?#@:\s]*):\S*@/g, '$1:****@');
}

const NATS_PROTOCOLS = new Set(['nats:', 'tls:']);
const DATABASE_PROTOCOLS = new Set(['postgres:', 'postgresql:']);

function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

/** `--cluster`: one NATS server, `nats://[user:pass@]host[:port]` or `tls://…`. */
export function checkNatsUrl(text: string, from = '--cluster'): string {
  const url = parseUrl(text);
  if (
    url === undefined ||
    !NATS_PROTOCOLS.has(url.protocol) ||
    url.hostname === '' ||
    (url.pathname !== '' && url.pathname !== '/') ||
    url.search !== '' ||
    url.hash !== ''
  ) {
    throw new UsageError(
      `${from} must be a NATS server's URL, nats://HOST:PORT or tls://HOST:PORT ` +
        `(USER:PASSWORD@ before HOST if it needs them), not "${redactUrl(text)}"`,
    );
  }
  return text;
}

/**
 * `--database`: `postgres://[user[:pass]@]host[:port][/database][?sslmode=…]` (or
 * `postgresql://`). A Unix socket is named by `?host=/run/postgresql` with no host before it.
 */
export function checkDatabaseUrl(text: string, from = '--database'): string {
  const url = parseUrl(text);
  const hasHost = url !== undefined && (url.hostname !== '' || url.searchParams.has('host'));
  if (url === undefined || !DATABASE_PROTOCOLS.has(url.protocol) || !hasHost || url.hash !== '') {
    throw new UsageError(
      `${from} must be a PostgreSQL URL, postgres://HOST:PORT/DATABASE ` +
        `(USER:PASSWORD@ before HOST), not "${redactUrl(text)}"`,
    );
  }
  return text;
}

/** A node's name in logs and in the log entries it writes. */
export function checkNodeName(text: string, from = '--node-name'): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(text)) {
    throw new UsageError(
      `${from} must be 1 to 64 characters: letters, digits, . _ - (starting with a letter or digit), not "${text}"`,
    );
  }
  return text;
}

/**
 * The default node name, unique on this machine and across machines with distinct names:
 * `<hostname>-<pid>` (each worker of `--workers` has its own pid). The host name's first label
 * only, with anything a node name may not hold replaced.
 */
export function defaultNodeName(pid = process.pid, host = hostname()): string {
  const label = (host.split('.')[0] ?? '').replace(/[^A-Za-z0-9_-]/g, '-').replace(/^-+/, '');
  return `${(label || 'node').slice(0, 50)}-${pid}`;
}

/**
 * Every node of a cluster loads the same host key, which they cannot create (each would make
 * its own): it must exist, be a file, and be readable by its owner only — a key others on the
 * machine can read is a host identity they can take.
 */
export function checkClusterKeyFile(path: string): void {
  let stat;
  try {
    stat = statSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(
      code === 'ENOENT'
        ? `the key file ${path} does not exist: every node of a cluster loads the same host key; ` +
            'copy it from the first host (docs/hosting.md, "Running a cluster")'
        : `cannot read the key file ${path}: ${code ?? (error as Error).message}`,
    );
  }
  if (!stat.isFile()) throw new UsageError(`the key file ${path} is not a file`);
  const mode = stat.mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new UsageError(
      `the key file ${path} has mode ${mode.toString(8).padStart(4, '0')}: others on this ` +
        `machine may read the host's private key; make it 0600 (chmod 600 ${path})`,
    );
  }
}

const count = (name: NumericOption) =>
  z
    .number({ error: 'must be a whole number' })
    .int({ error: 'must be a whole number' })
    .min(SERVE_NUMBERS[name].min, {
      error: `must be from ${SERVE_NUMBERS[name].min} to ${SERVE_NUMBERS[name].max}`,
    })
    .max(SERVE_NUMBERS[name].max, {
      error: `must be from ${SERVE_NUMBERS[name].min} to ${SERVE_NUMBERS[name].max}`,
    });
const text = z.string({ error: 'must be a string' }).min(1, { error: 'must not be empty' });
const flag = z.boolean({ error: 'must be true or false' });

/** The config file: each key an option's name in camelCase (`--data-dir` → `dataDir`). */
const ServeConfig = z.strictObject({
  host: text.optional(),
  port: count('port').optional(),
  dataDir: text.optional(),
  rooms: z.array(text, { error: 'must be a list of room names' }).min(1).optional(),
  open: flag.optional(),
  noE2ee: flag.optional(),
  name: text.optional(),
  history: count('history').optional(),
  maxClients: count('max-clients').optional(),
  maxPerIp: count('max-per-ip').optional(),
  maxFileMb: count('max-file-mb').optional(),
  fileQuotaMb: count('file-quota-mb').optional(),
  fileRetentionDays: count('file-retention-days').optional(),
  publicHost: text.optional(),
  cert: text.optional(),
  logLevel: z
    .enum(['debug', 'info', 'warn', 'error'], {
      error: 'must be debug, info, warn or error',
    })
    .optional(),
  cluster: text.optional(),
  database: text.optional(),
  nodeName: text.optional(),
  keyFile: text.optional(),
  workers: count('workers').optional(),
});

type ServeConfig = z.infer<typeof ServeConfig>;

/** The config file's settings as the command line's option values (`dataDir` → 'data-dir'). */
export interface ConfigValues {
  readonly host?: string;
  readonly port?: string;
  readonly 'data-dir'?: string;
  readonly room?: string[];
  readonly open?: boolean;
  readonly 'no-e2ee'?: boolean;
  readonly name?: string;
  readonly history?: string;
  readonly 'max-clients'?: string;
  readonly 'max-per-ip'?: string;
  readonly 'max-file-mb'?: string;
  readonly 'file-quota-mb'?: string;
  readonly 'file-retention-days'?: string;
  readonly 'public-host'?: string;
  readonly cert?: string;
  readonly 'log-level'?: string;
  readonly cluster?: string;
  readonly database?: string;
  readonly 'node-name'?: string;
  readonly 'key-file'?: string;
  readonly workers?: string;
}

/** Where a JSON.parse error is, without the file's text (it may hold a password). */
function jsonErrorPlace(source: string, error: unknown): string {
  const at = /position (\d+)/.exec(error instanceof Error ? error.message : '')?.[1];
  if (at === undefined) return '';
  const before = source.slice(0, Number(at)).split('\n');
  return ` (line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1})`;
}

/**
 * Reads and checks `--config FILE`: a JSON object whose keys are the options in camelCase;
 * unknown keys are errors (a misspelt setting must not be silently ignored).
 */
export function readServeConfig(file: string): ConfigValues {
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(
      `cannot read --config ${file}: ${code === 'ENOENT' ? 'no such file' : (code ?? 'error')}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(source);
  } catch (error) {
    throw new UsageError(`--config ${file} is not valid JSON${jsonErrorPlace(source, error)}`);
  }
  const parsed = ServeConfig.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    if (issue?.code === 'unrecognized_keys') {
      throw new UsageError(
        `--config ${file}: unknown setting ${issue.keys.map((k) => `"${k}"`).join(', ')} ` +
          `(the settings are ${Object.keys(ServeConfig.shape).join(', ')})`,
      );
    }
    const where = issue?.path.length ? issue.path.join('.') : 'the file';
    const message = issue?.path.length ? issue.message : 'must be a JSON object of settings';
    throw new UsageError(`--config ${file}: ${where} ${message}`);
  }
  return toOptionValues(parsed.data, dirname(resolve(file)), file);
}

function toOptionValues(c: ServeConfig, folder: string, file: string): ConfigValues {
  const number = (n: number | undefined) => (n === undefined ? undefined : String(n));
  // Files named in the config are relative to its folder, not the working directory.
  const path = (p: string | undefined) => (p === undefined ? undefined : resolve(folder, p));
  const where = `--config ${file}:`;
  return {
    host: c.host,
    port: number(c.port),
    'data-dir': path(c.dataDir),
    room: c.rooms,
    open: c.open,
    'no-e2ee': c.noE2ee,
    name: c.name,
    history: number(c.history),
    'max-clients': number(c.maxClients),
    'max-per-ip': number(c.maxPerIp),
    'max-file-mb': number(c.maxFileMb),
    'file-quota-mb': number(c.fileQuotaMb),
    'file-retention-days': number(c.fileRetentionDays),
    'public-host': c.publicHost,
    cert: path(c.cert),
    'log-level': c.logLevel,
    cluster: c.cluster === undefined ? undefined : checkNatsUrl(c.cluster, `${where} cluster`),
    database:
      c.database === undefined ? undefined : checkDatabaseUrl(c.database, `${where} database`),
    'node-name':
      c.nodeName === undefined ? undefined : checkNodeName(c.nodeName, `${where} nodeName`),
    'key-file': path(c.keyFile),
    workers: number(c.workers),
  };
}
