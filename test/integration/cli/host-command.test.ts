import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { fingerprint } from '../../../src-shared/fingerprint.ts';
import { nodeBackend } from '../../../src-main/protocol/crypto/node-backend.ts';
import { MIGRATIONS } from '../../../src-main/server/db/schema.ts';
import { loadOrCreateKeyPair } from '../../../src-main/store/key-file.ts';
import { parseInvite } from '../../../src-shared/invite.ts';
import { type Proc, run, serve } from '../../support/processes.ts';
import { connectWireClient } from '../../support/wire-client.ts';

// `parley host …` as an operator runs it: a real process on a real host's data folder, while
// that host runs (both write the one database), and clients that use the links it prints.

const TIMEOUT = 60_000;
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'parley-host-cli-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function started(proc: Proc): Proc {
  cleanups.push(() => {
    if (proc.child.exitCode === null) proc.kill('SIGKILL');
  });
  return proc;
}

/** Runs `parley host …` to its end: exit code, stdout and stderr lines. */
async function host(...args: string[]) {
  const proc = started(run(['host', ...args]));
  proc.child.stdin.end();
  const { code } = await proc.exited();
  await new Promise((resolve) => setTimeout(resolve, 20)); // the last chunks
  return { code, out: proc.stdout.filter(Boolean), err: proc.stderr.join('\n') };
}

/** A host running on 127.0.0.1 with rooms "team" and "open-room" (open). */
async function runningHost() {
  const dataDir = tempDir();
  const served = await serve(dataDir, ['--room', 'team']);
  started(served.proc);
  const invite = parseInvite(served.link);
  if (!invite.ok) throw new Error(invite.error.message);
  return { dataDir, port: served.port, hostKey: invite.value.hostKey, served };
}

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe('parley host', () => {
  it(
    'makes an invite while the host runs: the link reaches the host and admits its user once',
    async () => {
      const { dataDir, port, hostKey, served } = await runningHost();
      const before = Date.now();
      const made = await host('invite', '--room', 'team', '--data-dir', dataDir);
      expect(made.err).toBe('');
      expect(made.code).toBe(0);
      expect(made.out).toHaveLength(2);
      const [inviteLine = '', detail = ''] = made.out;
      expect(inviteLine).toMatch(
        /^invite parley:\/\/127\.0\.0\.1:\d+\/team\?invite=[\w-]{24}#[\w-]{43}$/,
      );
      const link = parseInvite(inviteLine.slice('invite '.length));
      if (!link.ok) throw new Error(link.error.message);
      expect(link.value.port).toBe(port);
      expect(fingerprint(link.value.hostKey)).toBe(served.fingerprint);
      const [, expires = '', id = ''] =
        /^expires (\S+) uses 1 role member id ([\w-]{12})$/.exec(detail) ?? [];
      expect(expires).toMatch(ISO);
      const ttl = Date.parse(expires) - before;
      expect(ttl).toBeGreaterThan(7 * 24 * 3600_000 - 60_000);
      expect(ttl).toBeLessThanOrEqual(7 * 24 * 3600_000 + 60_000);

      const listed = await host('invites', '--room', 'team', '--data-dir', dataDir);
      expect(listed.code).toBe(0);
      expect(listed.out).toContain(`${id} role member uses 1 expires ${expires} by host`);

      const bob = await connectWireClient(port, hostKey, 'bob');
      cleanups.push(() => bob.close());
      expect(await bob.redeem(inviteLine)).toMatchObject({ t: 'redeemed', room: 'team' });
      const carol = await connectWireClient(port, hostKey, 'carol');
      cleanups.push(() => carol.close());
      expect(await carol.redeem(inviteLine)).toMatchObject({ t: 'error', code: 'invite-used-up' });

      const afterUse = await host('invites', '--room', 'team', '--data-dir', dataDir);
      expect(afterUse.out.some((line) => line.startsWith(id))).toBe(false);
      const rooms = await host('rooms', '--data-dir', dataDir);
      expect(rooms.code).toBe(0);
      expect(rooms.out).toContain('team private members 1 owners 0');
    },
    TIMEOUT,
  );

  it(
    'revokes an invite the running host then refuses, and makes unlimited, never-expiring admin invites',
    async () => {
      const { dataDir, port, hostKey } = await runningHost();
      const made = await host(
        'invite',
        '--room',
        'team',
        '--role',
        'admin',
        '--uses',
        'unlimited',
        '--expires',
        'never',
        '--data-dir',
        dataDir,
      );
      expect(made.code).toBe(0);
      const id = /^expires never uses unlimited role admin id ([\w-]{12})$/.exec(
        made.out[1] ?? '',
      )?.[1];
      expect(id).toBeDefined();
      const revoked = await host(
        'revoke',
        '--room',
        'team',
        '--id',
        id ?? '',
        '--data-dir',
        dataDir,
      );
      expect(revoked).toMatchObject({ code: 0, out: [`revoked ${id}`] });
      const again = await host('revoke', '--room', 'team', '--id', id ?? '', '--data-dir', dataDir);
      expect(again.code).toBe(1);
      expect(again.err).toMatch(/no invite .* in team, or it was revoked already/);

      const bob = await connectWireClient(port, hostKey, 'bob');
      cleanups.push(() => bob.close());
      const link = (made.out[0] ?? '').slice('invite '.length);
      expect(await bob.redeem(link)).toMatchObject({ t: 'error', code: 'invite-revoked' });
    },
    TIMEOUT,
  );

  it(
    'several commands at once while the host runs: every invite is made and listed',
    async () => {
      const { dataDir } = await runningHost();
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          host(
            'invite',
            '--room',
            'team',
            '--uses',
            `${i + 1}`,
            '--expires',
            '1h',
            '--data-dir',
            dataDir,
          ),
        ),
      );
      expect(results.map((r) => r.code)).toEqual([0, 0, 0, 0, 0, 0]);
      const ids = results.map((r) => /id ([\w-]{12})$/.exec(r.out[1] ?? '')?.[1]);
      const listed = await host('invites', '--room', 'team', '--data-dir', dataDir);
      for (const id of ids) expect(listed.out.some((line) => line.startsWith(`${id} `))).toBe(true);
    },
    TIMEOUT,
  );

  it(
    'puts --public-host and --port in the link instead of the address the host recorded',
    async () => {
      const { dataDir } = await runningHost();
      const made = await host(
        'invite',
        '--room',
        'team',
        '--public-host',
        'chat.example.org',
        '--port',
        '443',
        '--expires',
        '90m',
        '--data-dir',
        dataDir,
      );
      expect(made.code).toBe(0);
      expect(made.out[0]).toMatch(/^invite parley:\/\/chat\.example\.org:443\/team\?invite=/);
      const v6 = await host(
        'invite',
        '--room',
        'team',
        '--public-host',
        '[::1]',
        '--data-dir',
        dataDir,
      );
      expect(v6.out[0]).toMatch(/^invite parley:\/\/\[::1\]:\d+\/team\?invite=/);
    },
    TIMEOUT,
  );

  it(
    'names the rooms there are when the room does not exist (exit 7)',
    async () => {
      const { dataDir } = await runningHost();
      for (const args of [
        ['invite', '--room', 'nope'],
        ['invites', '--room', 'nope'],
        ['revoke', '--room', 'nope', '--id', 'abcdefghijkl'],
      ]) {
        const result = await host(...args, '--data-dir', dataDir);
        expect(result.code).toBe(7);
        expect(result.err).toContain('there is no room "nope" here; rooms: team');
        expect(result.out).toEqual([]);
      }
    },
    TIMEOUT,
  );

  it('upgrades a host folder from before private rooms: the people who spoke are members', async () => {
    const dataDir = tempDir();
    await loadOrCreateKeyPair(join(dataDir, 'host.key'), nodeBackend);
    const raw = new DatabaseSync(join(dataDir, 'history.sqlite'));
    try {
      raw.exec(MIGRATIONS[0] ?? '');
      raw.exec('PRAGMA user_version = 1');
      raw.exec("INSERT INTO rooms VALUES ('lobby', 2), ('quiet', 0)");
      const insert = raw.prepare(
        `INSERT INTO messages (room, sender_key, nick, text, client_msg_id, sent_at)
         VALUES ('lobby', ?, ?, 'hi', ?, 1)`,
      );
      insert.run(new Uint8Array(32).fill(1), 'alice', 'msg-0001');
      insert.run(new Uint8Array(32).fill(2), 'bob', 'msg-0002');
    } finally {
      raw.close();
    }
    const rooms = await host('rooms', '--data-dir', dataDir);
    expect(rooms).toMatchObject({
      code: 0,
      out: ['lobby private members 2 owners 0', 'quiet private members 0 owners 0'],
    });
    const noAddress = await host(
      'invite',
      '--room',
      'lobby',
      '--role',
      'owner',
      '--data-dir',
      dataDir,
    );
    expect(noAddress.code).toBe(1);
    expect(noAddress.err).toMatch(/has not recorded its address yet.*--public-host HOST/);
    const made = await host(
      'invite',
      '--room',
      'lobby',
      '--role',
      'owner',
      '--public-host',
      'chat.example.org',
      '--data-dir',
      dataDir,
    );
    expect(made.out[0]).toMatch(/^invite parley:\/\/chat\.example\.org:7878\/lobby\?invite=/);
    expect(made.out[1]).toMatch(/ role owner id /);
  });

  it('refuses a folder that holds no host, and creates nothing there', async () => {
    const empty = tempDir();
    for (const args of [['invite', '--room', 'team'], ['invites', '--room', 'team'], ['rooms']]) {
      const result = await host(...args, '--data-dir', empty);
      expect(result.code).toBe(1);
      expect(result.err).toMatch(/no host in .* \(it has no host\.key\)/);
    }
    expect(existsSync(join(empty, 'history.sqlite'))).toBe(false);
  });

  it(
    'explains every bad argument, with exit code 2',
    async () => {
      const cases: [string[], RegExp][] = [
        [['invite'], /--room ROOM is required/],
        [['invite', '--room'], /--room needs a room name/],
        [['invite', '--room', 'Team!'], /"Team!" is not a room name/],
        [['invite', '--room', 'team', '--role', 'god'], /--role must be member, admin or owner/],
        [
          ['invite', '--room', 'team', '--uses', '0'],
          /--uses must be a whole number from 1 to 10000, or unlimited/,
        ],
        [['invite', '--room', 'team', '--uses', 'many'], /--uses must be/],
        [
          ['invite', '--room', 'team', '--expires', '31d'],
          /--expires must be never or a time from 1m to 30d/,
        ],
        [['invite', '--room', 'team', '--expires', 'soon'], /--expires must be/],
        [['invite', '--room', 'team', '--expires', '0m'], /--expires must be/],
        [
          ['invite', '--room', 'team', '--port', '70000'],
          /--port must be a whole number from 1 to 65535/,
        ],
        [['invite', '--room', 'team', '--public-host', 'a:b:c:7878x'], /--public-host must be/],
        [['invite', '--room', 'team', '--room', 'dev'], /--room was given more than once/],
        [['invite', '--room', 'team', 'extra'], /unexpected argument/],
        [['invite', '--room', 'team', '--colour', 'red'], /unknown option '--colour'/],
        [['revoke', '--room', 'team'], /--id ID is required/],
        [['revoke', '--room', 'team', '--id', 'x'], /"x" is not an invite id/],
        [['invites'], /--room ROOM is required/],
        [['rooms', '--room', 'team'], /unknown option '--room'/],
        [['dance'], /unknown command "dance"/],
        [['invite', '--room', 'team', '--data-dir', ''], /--data-dir/],
      ];
      const results = await Promise.all(cases.map(([args]) => host(...args)));
      for (const [i, [args, message]] of cases.entries()) {
        const result = results[i] ?? { code: undefined, out: [], err: '' };
        expect({ args, code: result.code }).toEqual({ args, code: 2 });
        expect(result.err).toMatch(message);
        expect(result.err).toContain('parley host --help');
        expect(result.out).toEqual([]);
      }
    },
    TIMEOUT,
  );

  it('prints its help, and parley --help mentions it', async () => {
    const help = await host('--help');
    expect(help.code).toBe(0);
    expect(help.out.join('\n')).toContain('parley host invite --room ROOM');
    const sub = await host('invite', '--help');
    expect(sub.out.join('\n')).toContain(
      'expires <ISO time|never> uses <N|unlimited> role <role> id <id>',
    );
    const top = started(run(['--help']));
    await top.exited();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(top.stdout.join('\n')).toMatch(/parley host <command> .*parley host --help/);
  });
});
