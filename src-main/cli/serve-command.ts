import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ClusterOptions } from '../server/cluster/cluster-options.ts';
import { DM_ROOM_PREFIX, isValidRoomName } from '../../src-shared/identifiers.ts';
import { parseHostAddress } from '../../src-shared/invite.ts';
import { DEFAULT_HOST_PORT, type RunningHost, startHost } from '../server/host.ts';
import { DEFAULT_LIMITS, fileLimits } from '../server/host-limits.ts';
import { type LogLevel, createStderrLog } from '../server/host-log.ts';
import { defaultDataDir } from '../store/app-paths.ts';
import {
  type ConfigValues,
  type NumericOption,
  SERVE_NUMBERS,
  checkClusterKeyFile,
  checkDatabaseUrl,
  checkNatsUrl,
  checkNodeName,
  defaultNodeName,
  readServeConfig,
  redactUrl,
} from './cluster-config.ts';
import { EXIT, UsageError, parseOptions } from './usage-error.ts';

export const SERVE_HELP = `Usage: parley --serve [options]

Hosts chat rooms. Prints, one line each on stdout:
  listening <address>:<port>
  fingerprint <host key fingerprint>
  data <folder>                   (the host key, history, members and invites: back it up)
then for each room:
  owner-invite <invite link>      (a room with no owner yet: whoever opens this link first
                                   becomes its owner; one use, valid for 7 days)
  invite <invite link>            (the first start of a room: anyone with this link becomes a
                                   member; give it to the people you want in the room)
  link <link>                     (always: the room's link without an invite; it lets members,
                                   and anyone into an open room, connect)
Rooms are private: only their members see them, and people become members with an invite.
Private rooms, and direct messages, are end-to-end encrypted: members' devices encrypt each
message (MLS) and this host relays and stores ciphertext it cannot read. Open rooms are not
(anyone may join and read them), nor are rooms an earlier version created.
Invite links hold a secret: share them only with the people they are meant for.
Logs go to stderr and never contain message text, keys or invites.

Options:
  --host ADDR          address to bind (default 0.0.0.0)
  --port N             TCP port (default ${DEFAULT_HOST_PORT}; 0 picks a free one)
  --data-dir DIR       host key and history (default ${join('<app data>', 'host')})
  --room NAME          a room to host; repeat for more (default lobby)
  --open               make these rooms open: anyone who connects may join them
  --no-e2ee            rooms and direct messages created from now on are not end-to-end
                       encrypted: the host can read them (for bridges and older clients)
  --name TEXT          the host's display name
  --history N          messages kept per room (default ${DEFAULT_LIMITS.historyLimit})
  --max-clients N      connections in total (default ${DEFAULT_LIMITS.maxClients})
  --max-per-ip N       connections from one address (default ${DEFAULT_LIMITS.maxClientsPerIp})
  --max-file-mb N      the largest file people may send, in MiB (default 25; 0: no files).
                       Files are stored encrypted; in end-to-end encrypted rooms the
                       host cannot read them
  --file-quota-mb N    what all files may take together, in MiB (default 1024); each
                       person's files a quarter of it
  --file-retention-days N
                       files are deleted this many days after they were sent (default 30;
                       0: kept as long as their message)
  --public-host HOST   the address to put in invite links
  --cert FILE          a PEM certificate chain for this host's key (its certificate first,
                       then intermediates), for clients that trust an authority: prints
                       certificate <names> expires <time> sha256 <fingerprint>
  --log-level LEVEL    debug, info, warn or error (default info)
  --key-file FILE      the host's private key (default <data dir>/host.key; created on the
                       first start, except in a cluster)
  --config FILE        a JSON file of these settings, each named in camelCase ("dataDir",
                       "maxPerIp", "rooms": [...], "noE2ee": true, "cluster", "database",
                       "nodeName", "keyFile", "workers", ...); options given here win.
                       Keep URLs with passwords in it (mode 0600), not on the command line
  --help               show this help

Cluster (docs/hosting.md, "Running a cluster"): several nodes, on one machine or many, serve
the same rooms to their own connections; PostgreSQL keeps the cluster's ordered log and NATS
carries it to every node.
  --cluster URL        the NATS server: nats://[USER:PASSWORD@]HOST:PORT or tls://...
  --database URL       the PostgreSQL database: postgres://USER:PASSWORD@HOST:PORT/DATABASE
                       (?sslmode=verify-full to check its certificate); needed with --cluster
  --node-name NAME     this node's name in logs and in the log it writes (default
                       <hostname>-<pid>; with --workers, NAME-<worker number>)
  --workers N          run N cluster nodes (1 to 64) in this process's children, sharing
                       the port; they are restarted when they die. Needs --cluster
  Every node loads the same --key-file, which must exist and be readable by its owner only
  (mode 0600). Start lines are printed once; logs say which worker wrote them.
`;

interface ServeIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly env: NodeJS.ProcessEnv;
  /** Resolves when the process is asked to stop (SIGINT/SIGTERM). */
  readonly stopSignal: Promise<string>;
}

function positiveInt(name: NumericOption, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const { min, max } = SERVE_NUMBERS[name];
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, not "${value}"`);
  }
  return n;
}

/** The host for invite links: a DNS name or an IP address (IPv6 with or without brackets), no port. */
function parsePublicHost(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const bare = /^\[(.*)\]$/.exec(text)?.[1] ?? text;
  const parsed = parseHostAddress(bare.includes(':') ? `[${bare}]` : bare);
  if (!parsed.ok || bare === '') {
    throw new UsageError(
      `--public-host must be a host name or an IP address (no port), not "${text}"`,
    );
  }
  return parsed.value.host;
}

export function parseServeArgs(argv: string[]) {
  const cli = parseOptions(
    argv,
    {
      serve: { type: 'boolean' },
      host: { type: 'string' },
      port: { type: 'string' },
      'data-dir': { type: 'string' },
      room: { type: 'string', multiple: true },
      open: { type: 'boolean' },
      'no-e2ee': { type: 'boolean' },
      name: { type: 'string' },
      history: { type: 'string' },
      'max-clients': { type: 'string' },
      'max-per-ip': { type: 'string' },
      'max-file-mb': { type: 'string' },
      'file-quota-mb': { type: 'string' },
      'file-retention-days': { type: 'string' },
      'public-host': { type: 'string' },
      cert: { type: 'string' },
      'log-level': { type: 'string' },
      'key-file': { type: 'string' },
      config: { type: 'string' },
      cluster: { type: 'string' },
      database: { type: 'string' },
      'node-name': { type: 'string' },
      workers: { type: 'string' },
      help: { type: 'boolean' },
    },
    {
      host: 'an address to bind',
      port: 'a port number',
      'data-dir': 'a folder',
      room: 'a room name',
      name: 'a name',
      'public-host': 'a host name or IP address',
      'max-file-mb': 'a number of MiB',
      'file-quota-mb': 'a number of MiB',
      'file-retention-days': 'a number of days',
      cert: 'a PEM file',
      'log-level': 'debug, info, warn or error',
      'key-file': 'a key file',
      config: 'a JSON file',
      cluster: 'a NATS URL (nats://HOST:PORT)',
      database: 'a PostgreSQL URL (postgres://HOST:PORT/DATABASE)',
      'node-name': 'a name',
      workers: 'a number of workers',
    },
  );
  // The command line wins over the file, setting by setting.
  const fromFile = cli.config === undefined ? {} : readServeConfig(cli.config);
  return parseServeValues({ ...fromFile, ...cli });
}

type ServeValues = ConfigValues & { readonly help?: boolean };

function parseServeValues(values: ServeValues) {
  const rooms = values.room ?? ['lobby'];
  for (const room of rooms) {
    if (!isValidRoomName(room)) {
      throw new UsageError(
        `"${room}" is not a room name: use a-z, 0-9, . _ - (up to 64, starting with a letter or digit)`,
      );
    }
    if (room.startsWith(DM_ROOM_PREFIX)) {
      // Such a name could take the place of two people's direct messages.
      throw new UsageError(
        `"${room}": names starting with ${DM_ROOM_PREFIX} are for direct messages`,
      );
    }
  }
  const logLevel = values['log-level'] ?? 'info';
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel)) {
    throw new UsageError(`--log-level must be debug, info, warn or error, not "${logLevel}"`);
  }
  if (values['data-dir'] === '') throw new UsageError('--data-dir must name a folder');
  if (values['key-file'] === '') throw new UsageError('--key-file must name a file');
  const cluster = parseCluster(values);
  const publicHost = parsePublicHost(values['public-host']);
  if (values.name !== undefined && (values.name.length === 0 || values.name.length > 100)) {
    throw new UsageError('--name must be 1 to 100 characters');
  }
  return {
    help: values.help ?? false,
    host: values.host ?? '0.0.0.0',
    port: positiveInt('port', values.port) ?? DEFAULT_HOST_PORT,
    dataDir: values['data-dir'],
    rooms,
    open: values.open ?? false,
    e2ee: !(values['no-e2ee'] ?? false),
    name: values.name,
    historyLimit: positiveInt('history', values.history),
    maxClients: positiveInt('max-clients', values['max-clients']),
    maxClientsPerIp: positiveInt('max-per-ip', values['max-per-ip']),
    maxFileMb: positiveInt('max-file-mb', values['max-file-mb']),
    fileQuotaMb: positiveInt('file-quota-mb', values['file-quota-mb']),
    fileRetentionDays: positiveInt('file-retention-days', values['file-retention-days']),
    publicHost,
    certFile: values.cert,
    logLevel: logLevel as LogLevel,
    keyFile: values['key-file'],
    ...cluster,
  };
}

/** The cluster options: --cluster and --database together, and what only they allow. */
function parseCluster(values: ServeValues) {
  const natsUrl = values.cluster === undefined ? undefined : checkNatsUrl(values.cluster);
  const databaseUrl = values.database === undefined ? undefined : checkDatabaseUrl(values.database);
  if (natsUrl !== undefined && databaseUrl === undefined) {
    throw new UsageError(
      '--cluster needs --database postgres://…: the cluster keeps its log in PostgreSQL',
    );
  }
  if (databaseUrl !== undefined && natsUrl === undefined) {
    throw new UsageError(
      '--database needs --cluster nats://…: a database is used only by a cluster node',
    );
  }
  const nodeName =
    values['node-name'] === undefined ? undefined : checkNodeName(values['node-name']);
  const workers = positiveInt('workers', values.workers);
  if (natsUrl === undefined || databaseUrl === undefined) {
    if (workers !== undefined) {
      throw new UsageError(
        '--workers needs --cluster and --database: workers are cluster nodes that share the log',
      );
    }
    if (nodeName !== undefined) throw new UsageError('--node-name needs --cluster and --database');
    return { cluster: undefined, workers: undefined };
  }
  return { cluster: { natsUrl, databaseUrl, nodeName }, workers };
}

/** `parley --serve`: runs until SIGINT/SIGTERM, then shuts down gracefully. Returns the exit code. */
export async function runServe(argv: string[], io: ServeIo): Promise<number> {
  const usage = (error: UsageError): number => {
    io.stderr.write(
      `parley --serve: ${redactUrl(error.message)}\nRun "parley --serve --help" for the options.\n`,
    );
    return EXIT.usage;
  };
  let args;
  try {
    args = parseServeArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    return usage(error);
  }
  if (args.help) {
    io.stdout.write(SERVE_HELP);
    return EXIT.ok;
  }
  const dataDir = resolve(args.dataDir ?? join(defaultDataDir(io.env), 'host'));
  const keyFile = args.keyFile === undefined ? undefined : resolve(args.keyFile);
  if (args.cluster) {
    try {
      checkClusterKeyFile(keyFile ?? join(dataDir, 'host.key'));
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      return usage(error);
    }
  }
  const log = createStderrLog(args.logLevel, (line) => io.stderr.write(line));
  let certificateChain: Uint8Array[] | undefined;
  if (args.certFile !== undefined) {
    try {
      const { readCertificateChainPem } = await import('../trust/host-certificate.ts');
      certificateChain = readCertificateChainPem(
        await readFile(args.certFile, 'utf8'),
        args.certFile,
      );
    } catch (error) {
      io.stderr.write(
        `parley --serve: cannot use --cert ${args.certFile}: ${(error as Error).message}\n`,
      );
      return EXIT.failure;
    }
  }
  // With --workers, this process forks the nodes (it has checked what they will check, so a
  // mistake is reported once, here) and each worker runs this same command as one node.
  let cluster: ClusterOptions | undefined;
  let report = (lines: readonly string[]): void => {
    for (const line of lines) io.stdout.write(`${line}\n`);
  };
  if (args.cluster) {
    let nodeName = args.cluster.nodeName ?? defaultNodeName();
    if (args.workers !== undefined) {
      const { default: nodeCluster } = await import('node:cluster');
      const workers = await import('./serve-workers.ts');
      if (nodeCluster.isPrimary) {
        return workers.runPrimary({
          workers: args.workers,
          stdout: io.stdout,
          log,
          stopSignal: io.stopSignal,
        });
      }
      // Workers share the command line, so a --node-name needs each one's number to be unique.
      const slot = io.env[workers.WORKER_SLOT_ENV] ?? String(nodeCluster.worker?.id ?? 0);
      if (args.cluster.nodeName !== undefined) nodeName = `${args.cluster.nodeName}-${slot}`;
      report = workers.reportStarted;
    }
    cluster = { ...args.cluster, nodeName };
    log('info', 'cluster-node', {
      node: nodeName,
      nats: redactUrl(cluster.natsUrl),
      database: redactUrl(cluster.databaseUrl),
    });
  }
  let host;
  try {
    host = await startHost({
      host: args.host,
      port: args.port,
      dataDir,
      rooms: args.rooms,
      ...(args.open ? { openRooms: true } : {}),
      e2ee: args.e2ee,
      ...(args.name ? { name: args.name } : {}),
      ...(args.publicHost ? { publicHost: args.publicHost } : {}),
      ...(certificateChain ? { certificateChain } : {}),
      ...(keyFile !== undefined ? { keyFile } : {}),
      ...(cluster ? { cluster } : {}),
      limits: {
        ...(args.historyLimit ? { historyLimit: args.historyLimit } : {}),
        ...(args.maxClients ? { maxClients: args.maxClients } : {}),
        ...(args.maxClientsPerIp ? { maxClientsPerIp: args.maxClientsPerIp } : {}),
        ...fileLimits(args),
      },
      log,
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const hint =
      code === 'EADDRINUSE'
        ? `port ${args.port} is already in use (choose another with --port, or 0 for any free port)`
        : code === 'EACCES'
          ? `not allowed to listen on ${args.host}:${args.port}`
          : (error as Error).message;
    io.stderr.write(`parley --serve: cannot start: ${redactUrl(hint)}\n`);
    return EXIT.failure;
  }
  report(startLines(host, dataDir));

  const signal = await io.stopSignal;
  log('info', 'shutdown-requested', { signal });
  await host.stop('the host is shutting down');
  return EXIT.ok;
}

/** What a host prints once it serves (SERVE_HELP): its address, key, folder, and rooms. */
function startLines(host: RunningHost, dataDir: string): string[] {
  const lines: string[] = [];
  const address = host.address.host.includes(':') ? `[${host.address.host}]` : host.address.host;
  lines.push(`listening ${address}:${host.address.port}`);
  lines.push(`fingerprint ${host.fingerprint}`);
  lines.push(`data ${dataDir}`);
  if (host.certificate) {
    const { names, notAfter, fingerprint } = host.certificate;
    lines.push(
      `certificate ${names.join(',') || '-'} expires ${notAfter.toISOString()} sha256 ${fingerprint}`,
    );
  }
  // Each room's lines together: its owner invite, its member invite, its link.
  const rooms = [...new Set([...host.rooms, ...host.startInvites.map((invite) => invite.room)])];
  for (const room of rooms) {
    for (const invite of host.startInvites) {
      if (invite.room !== room) continue;
      lines.push(`${invite.role === 'owner' ? 'owner-invite' : 'invite'} ${invite.link}`);
    }
    lines.push(`link ${host.link(room)}`);
  }
  return lines;
}
