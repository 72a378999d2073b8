// Child process for test/integration/server/model.test.ts: the real host (startHost, real SQLite,
// real TCP on 127.0.0.1 port 0) in a process of its own, so a crash ends this process and not the
// test. `--serve` has no flags for the request budgets, and the model test pings every
// connection after every step, so the per-connection request allowance is raised; every other
// limit is the host's default unless the limits JSON says otherwise.
// Usage: node host-process.ts <data dir> <limits JSON>
// Prints `listening <port>` and `key <base64url host key>` on stdout; logs (warn and up) on stderr.
import { encodeBase64Url } from '../../../src-shared/base64url.ts';
import { startHost } from '../../../src-main/server/host.ts';
import type { HostLimits } from '../../../src-main/server/host-limits.ts';
import { createStderrLog } from '../../../src-main/server/host-log.ts';
import { ROOMS } from './model.ts';

const [dataDir, limitsJson] = process.argv.slice(2);
if (dataDir === undefined) throw new Error('usage: host-process.ts <data dir> <limits JSON>');
const limits = JSON.parse(limitsJson ?? '{}') as Partial<HostLimits>;

// Registered before anything else, so a SIGTERM right after start still stops the host cleanly.
let stop: () => void = () => process.exit(0);
process.once('SIGTERM', () => stop());

const host = await startHost({
  host: '127.0.0.1',
  port: 0,
  dataDir,
  rooms: [...ROOMS],
  // The model knows nothing of membership yet: its rooms are open, so any key may join them.
  openRooms: true,
  limits,
  log: createStderrLog('warn'),
});
process.stdout.write(`listening ${host.address.port}\nkey ${encodeBase64Url(host.publicKey)}\n`);
stop = () => void host.stop().then(() => process.exit(0));
// The test holds our stdin: when it ends (the test process died or timed out), so do we.
process.stdin.on('end', () => stop());
process.stdin.resume();
