// A stand-in for `parley --serve` in a worker of serve-workers.test.ts: it listens like a host
// (so the workers share a port as real nodes do), answers each connection with its pid, and
// reports its start lines to the primary as serve-command.ts does. argv[2] says how it behaves:
//   serve         listen, report, stop on SIGTERM or SIGINT (exit 0)
//   die-once DIR  the first worker of slot 0 exits with 1 before it starts (DIR/died marks it)
//   refuse        exit 2 at once, as a worker refusing its arguments would
import { existsSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { WORKER_SLOT_ENV, reportStarted } from '../../../src-main/cli/serve-workers.ts';

const [mode, dir] = process.argv.slice(2);
const slot = process.env[WORKER_SLOT_ENV] ?? '?';

if (mode === 'refuse') process.exit(2);
if (mode === 'die-once' && slot === '0' && dir !== undefined) {
  const marker = join(dir, 'died');
  if (!existsSync(marker)) {
    writeFileSync(marker, String(process.pid));
    process.exit(1);
  }
}

const server = net.createServer((socket) => socket.end(`${process.pid}\n`));
server.listen(0, '127.0.0.1', () => {
  const address = server.address() as net.AddressInfo;
  reportStarted([`listening 127.0.0.1:${address.port}`, `slot ${slot}`]);
});
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
