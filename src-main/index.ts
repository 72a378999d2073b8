// The one entry. `--serve`, `--connect` and `ca` run under plain Node and never load Electron;
// anything else starts the desktop app, reached only through a dynamic import so that
// 'electron' (which throws under plain Node) is never loaded by the headless modes.
import { once } from 'node:events';

const argv = process.argv.slice(2);

async function main(): Promise<number> {
  if (argv[0] === 'ca') {
    const { runCa } = await import('./cli/ca-command.ts');
    return runCa(argv, { stdout: process.stdout, stderr: process.stderr, env: process.env });
  }
  if (argv.includes('--serve')) {
    const { runServe } = await import('./cli/serve-command.ts');
    const stopSignal = Promise.race(
      (['SIGINT', 'SIGTERM'] as const).map((signal) => once(process, signal).then(() => signal)),
    );
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
    (asked ? process.stdout : process.stderr).write(USAGE);
    return asked ? 0 : 2;
  }
  await import('./app/main.ts');
  return -1; // the desktop app owns the process from here
}

const USAGE = `Usage:
  parley --serve [options]               host rooms (parley --serve --help)
  parley --connect <invite> --nick NAME  chat from a terminal (parley --connect --help)
  parley ca <command>                    certificate authorities for hosts (parley ca --help)
  parley [parley://invite]               the desktop app (needs Electron)
`;

const code = await main();
if (code >= 0) {
  process.exitCode = code;
  // Let stdout drain, then leave even if a stray handle lingers.
  setTimeout(() => process.exit(code), 100).unref();
}
