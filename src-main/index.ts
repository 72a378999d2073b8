// The one entry. `--serve`, `--connect`, `host` and `ca` run under plain Node and never load
// Electron; anything else starts the desktop app, reached only through a dynamic import so that
// 'electron' (which throws under plain Node) is never loaded by the headless modes.

const argv = process.argv.slice(2);

async function main(): Promise<number> {
  if (argv[0] === 'ca') {
    const { runCa } = await import('./cli/ca-command.ts');
    return runCa(argv, { stdout: process.stdout, stderr: process.stderr, env: process.env });
  }
  if (argv[0] === 'host') {
    const { runHost } = await import('./cli/host-command.ts');
    return runHost(argv, { stdout: process.stdout, stderr: process.stderr, env: process.env });
  }
  if (argv.includes('--serve')) {
    const { runServe } = await import('./cli/serve-command.ts');
    // The handlers stay for the whole shutdown: a second signal (Ctrl-C reaches both
    // `npx parley` and this process) must not fall back to Node's default and kill the host
    // before it has told its clients and closed its history.
    const stopSignal = new Promise<string>((resolve) => {
      for (const signal of ['SIGINT', 'SIGTERM'] as const)
        process.on(signal, () => resolve(signal));
    });
    return runServe(argv, {
      stdout: process.stdout,
      stderr: process.stderr,
      env: process.env,
      stopSignal,
    });
  }
  if (argv.some((arg) => arg === '--connect' || arg.startsWith('--connect='))) {
    const { runConnect } = await import('./cli/connect-command.ts');
    return runConnect(argv, {
      stdin: process.stdin,
      stdout: process.stdout,
      stderr: process.stderr,
      isTTY: Boolean(process.stdin.isTTY),
      env: process.env,
    });
  }
  if (!process.versions.electron) {
    // Plain Node cannot show the desktop app: say what this binary can do here instead.
    const asked = argv.includes('--help') || argv.includes('-h');
    if (asked) {
      process.stdout.write(USAGE);
      return 0;
    }
    process.stderr.write(`parley: ${withoutMode(argv)}\n${USAGE}`);
    return 2;
  }
  await import('./app/main.ts');
  return -1; // the desktop app owns the process from here
}

/** Why arguments without a mode (--serve, --connect, host, ca) do nothing under plain Node. */
function withoutMode(args: readonly string[]): string {
  const first = args[0];
  if (first === undefined) return 'choose a mode: the desktop app needs Electron';
  const shown = `'${first.replace(/[^\x20-\x7e]/g, '?')}'`;
  const name = first.split('=')[0] ?? first;
  if (MODE_OPTIONS.has(name)) return `${shown} belongs to a mode: add --connect TARGET or --serve`;
  if (first.startsWith('-')) return `unknown option ${shown}`;
  if (/^parley:/i.test(first)) return 'opening an invite needs the desktop app (Electron)';
  return `unexpected argument ${shown}`;
}

const MODE_OPTIONS = new Set([
  '--nick',
  '--room',
  '--data-dir',
  '--trust-new-host',
  '--host',
  '--port',
  '--name',
  '--history',
  '--max-clients',
  '--max-per-ip',
  '--public-host',
  '--cert',
  '--log-level',
  '--key-file',
  '--config',
  '--cluster',
  '--database',
  '--node-name',
  '--workers',
]);

const USAGE = `Usage:
  parley --serve [options]               host rooms (parley --serve --help)
  parley --connect <invite> --nick NAME  chat from a terminal (parley --connect --help)
  parley host <command>                  invites and rooms of your host (parley host --help)
  parley ca <command>                    certificate authorities for hosts (parley ca --help)
  parley [parley://invite]               the desktop app (needs Electron)
`;

const code = await main();
if (code >= 0) {
  process.exitCode = code;
  // Let stdout drain, then leave even if a stray handle lingers.
  setTimeout(() => process.exit(code), 100).unref();
}
