// Child process for test/integration/server/model.test.ts: the real host (startHost, real SQLite,
// real TCP on 127.0.0.1 port 0) in a process of its own, so a crash ends this process and not the
// test. `--serve` has no flags for the request budgets, and the model test pings every
// connection after every step, so the per-connection request allowance is raised; every other
// limit is the host's default unless the limits JSON says otherwise.
// The model's rooms are open (ROOMS), but for PRIVATE_ROOM, made private by a first start that
// has only it: members get in by invite, as the operator hands out the ones printed at start.
// Usage: node host-process.ts <data dir> <limits JSON>
// Prints `invite <room> <role> <link>` for each invite made at start (first start: a member
// invite and an owner invite; then an owner invite at every start while the room has no owner),
// then `listening <port>` and `key <base64url host key>` on stdout; logs (warn and up) on stderr.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { encodeBase64Url } from '../../../src-shared/base64url.ts';
import { type StartInvite, startHost } from '../../../src-main/server/host.ts';
import type { HostLimits } from '../../../src-main/server/host-limits.ts';
import { createStderrLog } from '../../../src-main/server/host-log.ts';
import { PRIVATE_ROOM, ROOMS } from './model.ts';

const [dataDir, limitsJson] = process.argv.slice(2);
if (dataDir === undefined) throw new Error('usage: host-process.ts <data dir> <limits JSON>');
const limits = JSON.parse(limitsJson ?? '{}') as Partial<HostLimits>;

// Registered before anything else, so a SIGTERM right after start still stops the host cleanly.
let stop: () => void = () => process.exit(0);
process.once('SIGTERM', () => stop());

const invites: StartInvite[] = [];
if (!existsSync(join(dataDir, 'history.sqlite'))) {
  const first = await startHost({ host: '127.0.0.1', port: 0, dataDir, rooms: [PRIVATE_ROOM] });
  invites.push(...first.startInvites);
  await first.stop();
}
const host = await startHost({
  host: '127.0.0.1',
  port: 0,
  dataDir,
  rooms: [...ROOMS],
  // Any key may join these; PRIVATE_ROOM, not named here, stays as it is.
  openRooms: true,
  limits,
  log: createStderrLog('warn'),
});
invites.push(...host.startInvites);
for (const invite of invites.filter((i) => i.room === PRIVATE_ROOM)) {
  process.stdout.write(`invite ${invite.room} ${invite.role} ${invite.link}\n`);
}
process.stdout.write(`listening ${host.address.port}\nkey ${encodeBase64Url(host.publicKey)}\n`);
stop = () => void host.stop().then(() => process.exit(0));
// The test holds our stdin: when it ends (the test process died or timed out), so do we.
process.stdin.on('end', () => stop());
process.stdin.resume();
