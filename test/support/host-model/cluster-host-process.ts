// Child process for test/integration/cluster/cluster-model.test.ts: one node of a host cluster
// (#19) — startHost with `cluster`, the shared key file, real TCP on 127.0.0.1 port 0 — set up as
// host-process.ts sets up the single host: the model's rooms open, PRIVATE_ROOM made private by
// a first start that has only it (on the first node of the cluster's first start), the raised
// request allowance of MODEL_LIMITS (`--serve` has no flag for it, hence startHost).
// Usage: node cluster-host-process.ts <data dir> <limits JSON> <key file> <node name> <first: 1|0>
// with PARLEY_TEST_NATS and PARLEY_TEST_DATABASE (the URLs; a password stays out of `ps`), and
// PARLEY_TEST_COMPACTION (JSON, ClusterOptions.compaction: the test compacts the log often).
// Prints what host-process.ts prints: `invite <room> <role> <link>`…, `listening <port>`,
// `key <base64url host key>`; logs (info and up) on stderr.
import { encodeBase64Url } from '../../../src-shared/base64url.ts';
import { type StartInvite, startHost } from '../../../src-main/server/host.ts';
import type { HostLimits } from '../../../src-main/server/host-limits.ts';
import { createStderrLog } from '../../../src-main/server/host-log.ts';
import type { CompactionPolicy } from '../../../src-main/server/cluster/log-compaction.ts';
import { PRIVATE_ROOM, ROOMS } from './model.ts';

const [dataDir, limitsJson, keyFile, nodeName, first] = process.argv.slice(2);
const natsUrl = process.env['PARLEY_TEST_NATS'];
const databaseUrl = process.env['PARLEY_TEST_DATABASE'];
if (!dataDir || !keyFile || !nodeName || !natsUrl || !databaseUrl) {
  throw new Error(
    'usage: cluster-host-process.ts <data dir> <limits JSON> <key file> <node name> <first>, ' +
      'with PARLEY_TEST_NATS and PARLEY_TEST_DATABASE',
  );
}
const limits = JSON.parse(limitsJson ?? '{}') as Partial<HostLimits>;
const compaction = JSON.parse(
  process.env['PARLEY_TEST_COMPACTION'] ?? '{}',
) as Partial<CompactionPolicy>;
const cluster = { natsUrl, databaseUrl, nodeName, compaction };

// Registered before anything else, so a SIGTERM right after start still stops the node cleanly.
let stop: () => void = () => process.exit(0);
process.once('SIGTERM', () => stop());

// Info too: the test counts the log's compactions (cluster-log-compacted).
const log = createStderrLog('info');
const invites: StartInvite[] = [];
if (first === '1') {
  const once = await startHost({
    host: '127.0.0.1',
    port: 0,
    dataDir,
    keyFile,
    cluster,
    rooms: [PRIVATE_ROOM],
    log,
  });
  invites.push(...once.startInvites);
  await once.stop();
}
const host = await startHost({
  host: '127.0.0.1',
  port: 0,
  dataDir,
  keyFile,
  cluster,
  rooms: [...ROOMS],
  openRooms: true,
  limits,
  log,
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
