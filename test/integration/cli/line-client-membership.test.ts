import { describe, expect, it } from 'vitest';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type HostOptions, type RunningHost, startHost } from '../../../src-main/server/host.ts';
import { cleanupsAfterEach, sleep } from '../../support/lifecycle.ts';

// The line client in private rooms, as users and scripts run it: real `parley --connect`
// processes against a real host on 127.0.0.1. Invites are made, printed and redeemed by
// other line clients; what happens to a room prints one line each.

const ENTRY = fileURLToPath(new URL('../../../src-main/index.ts', import.meta.url));
const TIME = String.raw`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z`;

const cleanups = cleanupsAfterEach();

async function host(options: Partial<HostOptions> = {}): Promise<RunningHost> {
  const h = await startHost({
    host: '127.0.0.1',
    port: 0,
    rooms: ['lobby'],
    limits: { messagesPerSecond: 1000, messageBurst: 1000 },
    ...options,
    dataDir: options.dataDir ?? cleanups.tempDir('parley-host-'),
  });
  cleanups.push(() => h.stop());
  return h;
}

interface LineProcess {
  readonly proc: ChildProcessWithoutNullStreams;
  readonly lines: string[];
  stderr(): string;
  readonly exited: Promise<number | null>;
  /** Writes lines to its stdin. */
  type(...lines: string[]): void;
  /** The first line (from `after` on) matching `pattern`, waiting for it. */
  waitForLine(pattern: RegExp, after?: number): Promise<string>;
}

function lineClient(
  link: string,
  nick: string,
  input?: string,
  dataDir = cleanups.tempDir('parley-line-'),
): LineProcess {
  const proc = spawn(
    process.execPath,
    [ENTRY, '--connect', link, '--nick', nick, '--data-dir', dataDir],
    { env: { ...process.env, PARLEY_CRYPTO_BACKEND: '' } },
  );
  cleanups.push(() => {
    if (proc.exitCode === null) proc.kill();
  });
  const lines: string[] = [];
  let partial = '';
  let errors = '';
  proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
  });
  proc.stderr.setEncoding('utf8').on('data', (chunk: string) => (errors += chunk));
  const exited = new Promise<number | null>((resolve) => proc.on('close', resolve));
  if (input !== undefined) proc.stdin.end(input);
  return {
    proc,
    lines,
    stderr: () => errors,
    exited,
    type: (...typed) => proc.stdin.write(typed.map((line) => `${line}\n`).join('')),
    async waitForLine(pattern, after = 0) {
      const start = Date.now();
      for (;;) {
        const line = lines.slice(after).find((l) => pattern.test(l));
        if (line !== undefined) return line;
        if (Date.now() - start > 15_000 || proc.exitCode !== null) {
          throw new Error(
            `${nick}: no line matching ${pattern}; got:\n${lines.join('\n')}\n${errors}`,
          );
        }
        await sleep(10);
      }
    },
  };
}

/** The link in an `invite` line. */
function linkIn(line: string): string {
  const link = /: (parley:\/\/\S+)$/.exec(line)?.[1];
  if (!link) throw new Error(`no link in ${line}`);
  return link;
}

describe('the line client in private rooms', () => {
  it('makes an invite another line client redeems; members, topic, DM, kick each print a line', async () => {
    const h = await host();
    const alice = lineClient(h.invite('lobby', { role: 'owner', uses: 1 }), 'alice');
    expect(await alice.waitForLine(/invite accepted/)).toMatch(
      new RegExp(`^\\*\\*\\* ${TIME} #lobby invite accepted: you are an owner of this room$`),
    );
    await alice.waitForLine(/#lobby synced/);

    alice.type('/invite uses 2 expires 1h');
    const invite = await alice.waitForLine(/#lobby invite \S+ member/);
    expect(invite).toMatch(
      new RegExp(
        `^\\*\\*\\* ${TIME} #lobby invite [A-Za-z0-9_-]{12} member, 2 uses left, expires ${TIME}: ` +
          `parley://127\\.0\\.0\\.1:${h.address.port}/lobby\\?invite=[A-Za-z0-9_-]{24}#[A-Za-z0-9_-]{43}$`,
      ),
    );
    const bob = lineClient(linkIn(invite), 'bob');
    await bob.waitForLine(/#lobby invite accepted: you are a member of this room$/);
    await bob.waitForLine(/#lobby synced/);
    expect(await alice.waitForLine(/^event .* #lobby bob joined$/)).toMatch(
      new RegExp(`^event ${TIME} #lobby bob joined$`),
    );

    alice.type('/invites');
    await alice.waitForLine(/#lobby invite \S+ member, 1 use left, expires \S+, by alice$/);

    let mark = alice.lines.length;
    alice.type('/members');
    expect(await alice.waitForLine(/#lobby members 2: /, mark)).toMatch(
      /members 2: (alice \([A-Z2-7 ]+\) owner online, bob \([A-Z2-7 ]+\) member online|bob .* member online, alice .* owner online)$/,
    );

    alice.type('/topic Friday   plans');
    expect(await bob.waitForLine(/set the topic/)).toMatch(
      new RegExp(`^event ${TIME} #lobby alice set the topic: Friday   plans$`),
    );
    mark = bob.lines.length;
    bob.type('/topic');
    await bob.waitForLine(/#lobby topic: Friday {3}plans$/, mark);

    // A member may not invite: the host's refusal is one clear line.
    bob.type('/invite');
    await bob.waitForLine(/#lobby error forbidden: /);

    alice.type('/dm bob', 'psst');
    const talking = await alice.waitForLine(/#dm\.[0-9a-f]+ talking here now$/);
    const dmRoom = /#(dm\.[0-9a-f]+)/.exec(talking)?.[1] ?? '';
    await bob.waitForLine(
      new RegExp(`#${dmRoom.replace('.', '\\.')} room direct messages with alice$`),
    );
    expect(await bob.waitForLine(/alice: psst$/)).toMatch(
      new RegExp(`^msg ${TIME} #${dmRoom.replace('.', '\\.')} #\\d+ alice: psst$`),
    );

    alice.type('/join lobby', '/kick bob');
    expect(await bob.waitForLine(/removed: /)).toMatch(
      new RegExp(`^\\*\\*\\* ${TIME} #lobby removed: alice removed you from the room$`),
    );
    await alice.waitForLine(/^event .* #lobby alice removed bob$/);
    // Bob's next line for the lobby is refused, not sent anywhere else.
    mark = alice.lines.length;
    bob.type('/join lobby');
    await bob.waitForLine(
      /cannot join lobby: no such room, or a private one you are not a member of/,
    );
    bob.type('still there?');
    await bob.waitForLine(/error no-room: that message was not sent: \/join lobby failed/);
    await sleep(100);
    expect(alice.lines.slice(mark).some((l) => l.includes('still there?'))).toBe(false);

    alice.proc.stdin.end('/quit\n');
    bob.proc.stdin.end('/quit\n');
    expect(await alice.exited).toBe(0);
  });

  it('says clearly that an invite is used up or expired, and exits 7', async () => {
    const h = await host();
    const once = h.invite('lobby', { uses: 1 });
    const first = lineClient(once, 'first', 'hello\n');
    expect(await first.exited).toBe(0);

    const second = lineClient(once, 'second', 'hello\n');
    expect(await second.exited).toBe(7);
    expect(second.lines.join('\n')).toMatch(
      new RegExp(
        `^\\*\\*\\* ${TIME} #lobby error invite-used-up: this invite has been used as often as it allows; ask for a new one$`,
        'm',
      ),
    );
    expect(second.stderr()).toContain(
      `cannot join #lobby on 127.0.0.1:${h.address.port}: the invite was refused (see above)`,
    );

    const expired = h.invite('lobby', { expiresInMs: 1 });
    await sleep(20);
    const late = lineClient(expired, 'late', '');
    expect(await late.exited).toBe(7);
    expect(late.lines.join('\n')).toMatch(
      /#lobby error invite-expired: this invite has expired; ask for a new one$/m,
    );
  });

  it('piped: waits for the answers before it ends, and sends the lines after /create there', async () => {
    const h = await host();
    const alice = lineClient(
      h.invite('lobby', { role: 'owner', uses: 1 }),
      'alice',
      '/invite uses unlimited expires never role admin\n/create team\nfirst in team\n',
    );
    expect(await alice.exited).toBe(0);
    expect(alice.lines.join('\n')).toMatch(
      /#lobby invite \S+ admin, unlimited uses, never expires: parley:\/\/\S+$/m,
    );
    expect(alice.lines.join('\n')).toMatch(/#team talking here now$/m);
    // The line after /create went to the new room: its history shows it.
    const reader = lineClient(h.invite('team'), 'reader', '');
    expect(await reader.exited).toBe(0);
    expect(reader.lines.join('\n')).toMatch(/^history \S+ #team #\d+ alice: first in team$/m);
    expect(alice.stderr()).toBe('');
  });

  it('prints usage for a malformed command and sends nothing', async () => {
    const h = await host();
    const alice = lineClient(h.invite('lobby', { role: 'owner', uses: 1 }), 'alice');
    await alice.waitForLine(/#lobby synced/);
    alice.type('/invite uses lots', '/promote', '/kick nobody', '/create Not-A-Room');
    await alice.waitForLine(
      /usage: \/invite \[uses N\|unlimited\] \[expires 1h\|1d\|7d\|30d\|never\]/,
    );
    await alice.waitForLine(/usage: \/promote NICK \[admin\|owner\]$/);
    await alice.waitForLine(/error not-member: nobody called nobody seen here/);
    await alice.waitForLine(/usage: \/create ROOM/);
    alice.type('/rooms');
    expect(await alice.waitForLine(/ rooms 1: /)).toMatch(
      new RegExp(`^\\*\\*\\* ${TIME} rooms 1: #lobby \\(owner\\)$`),
    );
    alice.proc.stdin.end('/quit\n');
    expect(await alice.exited).toBe(0);
  });

  describe('a script at the start', () => {
    /** #lobby with bob and carol as members (offline), and an owner invite for alice. */
    async function lobbyWithMembers() {
      const h = await host();
      const dirs = {
        bob: cleanups.tempDir('parley-line-'),
        carol: cleanups.tempDir('parley-line-'),
      };
      for (const nick of ['bob', 'carol'] as const) {
        const first = lineClient(h.invite('lobby'), nick, '', dirs[nick]);
        expect(await first.exited).toBe(0);
      }
      return { h, dirs, aliceLink: h.invite('lobby', { role: 'owner', uses: 1 }) };
    }

    /** What a member reading #lobby's history afterwards sees. */
    async function lobbyHistory(h: RunningHost, dataDir: string): Promise<string> {
      const reader = lineClient(h.link(), 'carol', '', dataDir);
      expect(await reader.exited).toBe(0);
      return reader.lines.join('\n');
    }

    it('a /dm refused by the host sends the lines behind it nowhere: not to the room before', async () => {
      const { h, dirs, aliceLink } = await lobbyWithMembers();
      const bob = lineClient(h.link(), 'bob', undefined, dirs.bob);
      await bob.waitForLine(/#lobby synced/);

      // The piped script of the report: bob is kicked, so the /dm fails, and "secret" (meant
      // for bob alone) must not reach #lobby.
      const alice = lineClient(aliceLink, 'alice', '/kick bob\n/invites\n/dm bob\nsecret\n');
      expect(await alice.exited).toBe(1);
      const out = alice.lines.join('\n');
      expect(out).toMatch(/^event \S+ #lobby alice removed bob$/m);
      expect(out).toMatch(/#lobby invites \d+$/m);
      expect(out).toMatch(
        /#lobby error not-member: you can message only people who share a room with you$/m,
      );
      expect(out).toMatch(
        new RegExp(
          `^\\*\\*\\* ${TIME} error no-room: that message was not sent: /dm failed, so no room is current \\(/join lobby to talk there again\\)$`,
          'm',
        ),
      );
      expect(out).not.toMatch(/talking here now/);
      expect(alice.stderr()).toContain('1 message was refused and not sent (see the error lines)');

      await bob.waitForLine(/#lobby removed: alice removed you from the room$/);
      const history = await lobbyHistory(h, dirs.carol);
      expect(history).toMatch(/^history-event \S+ #lobby alice removed bob$/m);
      for (const seen of [out, bob.lines.join('\n'), history]) expect(seen).not.toContain('secret');
      bob.proc.stdin.end('/quit\n');
      await bob.exited;
    });

    it('a /dm or /create refused on the spot: no room is current until /join', async () => {
      const { h, dirs, aliceLink } = await lobbyWithMembers();
      const alice = lineClient(
        aliceLink,
        'alice',
        '/dm nobody\nfirst secret\n/topic leaked\n/join lobby\nhello all\n' +
          '/create lobby\nsecond secret\n/create Bad-Name\nthird secret\n',
      );
      expect(await alice.exited).toBe(1);
      const out = alice.lines.join('\n');
      expect(out).toMatch(/#lobby error not-member: nobody called nobody seen here/);
      expect(out).toMatch(
        /error no-room: that message was not sent: \/dm failed, so no room is current \(\/join lobby to talk there again\)$/m,
      );
      expect(out).toMatch(
        /error no-room: \/topic was not run: \/dm failed, so no room is current \(\/join lobby/m,
      );
      expect(out).toMatch(/#lobby error room-exists: /);
      expect(out).toMatch(/error no-room: that message was not sent: \/create failed/);
      expect(out).toMatch(/usage: \/create ROOM/);
      expect(out.match(/error no-room: that message was not sent/g)).toHaveLength(3);
      expect(alice.stderr()).toContain('3 messages were refused and not sent');
      expect(alice.stderr()).toContain('1 command was not run');

      const history = await lobbyHistory(h, dirs.carol);
      expect(history).toMatch(/^history \S+ #lobby #\d+ alice: hello all$/m);
      expect(history).not.toMatch(/secret|leaked/);
    });

    it('waits for the members: /members and /rooms print them, /dm NICK finds a member', async () => {
      const { h, dirs, aliceLink } = await lobbyWithMembers();
      const bob = lineClient(h.link(), 'bob', undefined, dirs.bob);
      await bob.waitForLine(/#lobby synced/);
      const carol = lineClient(h.link(), 'carol', undefined, dirs.carol);
      await carol.waitForLine(/#lobby synced/);

      const alice = lineClient(aliceLink, 'alice', '/rooms\n/members\n/dm bob\nhello bob\n');
      expect(await alice.exited).toBe(0);
      const out = alice.lines.join('\n');
      // The invite is redeemed before /rooms is read: its room is listed.
      expect(out).toMatch(new RegExp(`^\\*\\*\\* ${TIME} rooms 1: #lobby \\(owner\\)$`, 'm'));
      // The join's own listing, then /members: both name everyone.
      const members = alice.lines.filter((l) => / #lobby members /.test(l));
      expect(members).toHaveLength(2);
      for (const line of members) {
        expect(line).toMatch(/#lobby members 3: /);
        for (const nick of ['alice', 'bob', 'carol']) expect(line).toContain(`${nick} (`);
      }
      const talking = /#(dm\.[0-9a-f]+) talking here now$/m.exec(out)?.[1];
      expect(talking).toBeDefined();
      expect(await bob.waitForLine(/alice: hello bob$/)).toMatch(
        // History: the message may be there before bob has joined the new room.
        new RegExp(
          `^(msg|history) ${TIME} #${(talking ?? '').replace('.', '\\.')} #\\d+ alice: hello bob$`,
        ),
      );
      expect(alice.stderr()).toBe('');
      await sleep(100);
      expect(carol.lines.join('\n')).not.toContain('hello bob');
      bob.proc.stdin.end('/quit\n');
      carol.proc.stdin.end('/quit\n');
      await Promise.all([bob.exited, carol.exited]);
    });
  });
});
