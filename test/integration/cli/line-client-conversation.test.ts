import { describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { type RunningHost, startHost } from '../../../src-main/server/host.ts';
import { canary, findInFiles } from '../../support/e2ee-canary.ts';
import { type HostProcess, spawnHost } from '../../support/host-process.ts';
import { cleanupsAfterEach } from '../../support/lifecycle.ts';
import { fileOutboxStore } from '../../../src-main/store/outbox-file.ts';
import { TIME, type LineProcess, spawnLineClient } from './line-process.ts';

// Two real line clients (`node src-main/index.ts --connect`) talking about earlier messages:
// replies, reactions, edits, deletions, files and search, each printed as one line with the
// message's #seq (docs/line-client.md), in a plaintext room of an in-process host and in an
// end-to-end encrypted room of a host process.

const cleanups = cleanupsAfterEach();

const tempDir = (prefix = 'parley-line-conv-'): string => cleanups.tempDir(prefix);

async function plaintextHost(maxFileBytes: number): Promise<RunningHost> {
  const h = await startHost({
    host: '127.0.0.1',
    port: 0,
    rooms: ['lobby'],
    openRooms: true,
    limits: { messagesPerSecond: 1000, messageBurst: 1000, maxFileBytes },
    dataDir: tempDir('parley-host-'),
  });
  cleanups.push(() => h.stop());
  return h;
}

const lineClient = (args: string[]): LineProcess =>
  spawnLineClient(cleanups, args, { defaultTimeoutMs: 30_000 });

/** A line client of its own as `nick` in #lobby of the plaintext host, once #lobby is synced. */
async function inLobby(h: RunningHost, nick: string): Promise<LineProcess> {
  const client = lineClient([
    '--connect',
    h.invite('lobby'),
    '--nick',
    nick,
    '--data-dir',
    tempDir(),
  ]);
  await client.waitForLine(/^\*\*\* \S+ #lobby synced: /);
  return client;
}

/** Types `line` and waits for the first line matching `pattern` that comes after it. */
async function say(client: LineProcess, line: string, pattern: RegExp, from = client) {
  const before = from.lines.length;
  client.proc.stdin.write(`${line}\n`);
  const start = Date.now();
  for (;;) {
    const found = from.lines.slice(before).find((l) => pattern.test(l));
    if (found !== undefined) return found;
    if (Date.now() - start > 30_000 || from.proc.exitCode !== null) {
      throw new Error(
        `no line matching ${pattern} after "${line}"; got:\n${from.lines.join('\n')}\n${from.stderr()}`,
      );
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

const seqOf = (line: string): number => Number(/^\S+ \S+ #\S+ #(\d+) /.exec(line)?.[1]);
/** The seq on our own message's `*** <time> #<room> sent #<seq>…` line. */
const sentSeq = (line: string): number =>
  Number(/^\*\*\* \S+ #\S+ sent #(\d+)[ :]/.exec(line)?.[1]);

describe('the line client: replies, reactions, edits, deletions, files, search', () => {
  it('round-trips every kind of message between two clients in a plaintext room', async () => {
    const h = await plaintextHost(256 * 1024);
    const alice = await inLobby(h, 'alice');
    const bob = await inLobby(h, 'bob');

    expect(await say(alice, '/help', /\/reply SEQ TEXT/)).toMatch(
      /^\*\*\* \S+ messages \(by the #SEQ on their line; yours: on their sent line\): \/reply SEQ TEXT, \/react SEQ EMOJI/,
    );
    await alice.waitForLine(/files: \/send-file PATH \[CAPTION\] .*\/search WORDS$/);
    // Our own line is not echoed as a message, but its `sent` line gives its #seq: the same
    // number the others see, so /edit and /delete can name it.
    const mine = await say(alice, 'the deploy failed again', /^\*\*\* \S+ #lobby sent #/);
    expect(mine).toMatch(
      new RegExp(`^\\*\\*\\* ${TIME} #lobby sent #\\d+: the deploy failed again$`),
    );
    const a = sentSeq(mine);
    const said = await bob.waitForLine(/alice: the deploy failed again$/);
    expect(said).toMatch(new RegExp(`^msg ${TIME} #lobby #${a} alice: the deploy failed again$`));

    const reply = await say(bob, `/reply ${a} on it`, /bob ↪ /, alice);
    expect(reply).toMatch(new RegExp(`^msg ${TIME} #lobby #\\d+ bob ↪ #${a}: on it$`));
    expect(seqOf(reply)).toBeGreaterThan(a);
    expect(await bob.waitForLine(/ sent #\d+ ↪ /)).toMatch(
      new RegExp(`^\\*\\*\\* ${TIME} #lobby sent #${seqOf(reply)} ↪ #${a}: on it$`),
    );

    // /react toggles: the second one takes the reaction back.
    expect(await say(bob, `/react #${a} 👍`, /reacted/, alice)).toMatch(
      new RegExp(`^msg ${TIME} #lobby #\\d+ \\* bob reacted 👍 to #${a}$`),
    );
    expect(await say(bob, `/react ${a} 👍`, /removed 👍/, alice)).toMatch(
      new RegExp(`^msg ${TIME} #lobby #\\d+ \\* bob removed 👍 from #${a}$`),
    );

    expect(await say(alice, `/edit ${a} the deploy worked`, /edited/, bob)).toMatch(
      new RegExp(`^msg ${TIME} #lobby #\\d+ \\* alice edited #${a}: the deploy worked$`),
    );
    // Only the author edits: the host refuses bob's.
    expect(await say(bob, `/edit ${a} hijacked`, /error /)).toMatch(
      /^\*\*\* \S+ #lobby error forbidden: .*\(that message was not sent\)$/,
    );

    // A file: bob sends it (a name with a space), alice saves it twice: never overwritten.
    const files = tempDir();
    const content = randomBytes(100_000);
    writeFileSync(join(files, 'notes v2.txt'), content);
    expect(
      await say(bob, `/send-file "${join(files, 'notes v2.txt')}" the notes`, /file sent|error/),
    ).toMatch(/^\*\*\* \S+ #lobby file sent "notes v2\.txt", 98 KB$/);
    const fileLine = await alice.waitForLine(/ bob \[file /);
    expect(fileLine).toMatch(
      new RegExp(`^msg ${TIME} #lobby #\\d+ bob \\[file "notes v2\\.txt", 98 KB\\]: the notes$`),
    );
    const f = seqOf(fileLine);
    expect(await bob.waitForLine(/ sent #\d+ \[file /)).toMatch(
      new RegExp(
        `^\\*\\*\\* ${TIME} #lobby sent #${f} \\[file "notes v2\\.txt", 98 KB\\]: the notes$`,
      ),
    );
    const into = join(tempDir(), 'downloads');
    mkdirSync(into);
    const saved = await say(alice, `/save ${f} ${into}`, /saved|error/);
    expect(saved).toBe(saved.replace(/ to .*/, ` to ${join(into, 'notes v2.txt')}`));
    expect(saved).toMatch(new RegExp(`^\\*\\*\\* ${TIME} #lobby saved #${f} to `));
    expect(readFileSync(join(into, 'notes v2.txt')).equals(content)).toBe(true);
    expect(statSync(join(into, 'notes v2.txt')).mode & 0o777).toBe(0o600);
    expect(await say(alice, `/save ${f} ${into}`, /saved|error/)).toMatch(
      / to .*\/notes v2 \(1\)\.txt$/,
    );
    expect(readFileSync(join(into, 'notes v2 (1).txt')).equals(content)).toBe(true);
    expect(await say(alice, `/save ${a}`, /error|saved/)).toMatch(
      new RegExp(`error no-such-file: no file #${a} seen here`),
    );

    // Over the host's limit: refused before anything is sent, and said so.
    writeFileSync(join(files, 'big.bin'), randomBytes(300 * 1024));
    expect(await say(bob, `/send-file ${join(files, 'big.bin')}`, /error /)).toMatch(
      /^\*\*\* \S+ #lobby error file-too-large: big\.bin has 300 KB; the host takes files of up to \d+ KB \(the file was not sent\)$/,
    );

    // Search: what this run has seen, with edits applied; prefixes ANDed; own messages too.
    expect(await say(alice, '/search deplo WORK', /^search |search 0 results/)).toMatch(
      new RegExp(`^search ${TIME} #lobby #${a} alice: the deploy worked$`),
    );
    expect(alice.lines.some((l) => /^\*\*\* \S+ search 1 result: deplo WORK$/.test(l))).toBe(true);
    expect(await say(bob, '/search notes', /^search .*notes/)).toMatch(
      new RegExp(`^search ${TIME} #lobby #${f} bob: notes v2\\.txt the notes$`),
    );

    // A deletion reaches the other side, and leaves the search index.
    expect(await say(alice, `/delete ${a}`, /deleted/, bob)).toMatch(
      new RegExp(`^msg ${TIME} #lobby #\\d+ \\* alice deleted #${a}$`),
    );
    expect(await say(bob, '/search deploy', /search \d+ result/)).toMatch(/search 0 results/);

    // A later reader's history: the deleted message is a tombstone, everything else as live.
    const carol = await inLobby(h, 'carol');
    expect(carol.lines.filter((l) => l.startsWith('history '))).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          new RegExp(`^history ${TIME} #lobby #${a} \\* alice deleted this message$`),
        ),
        expect.stringMatching(new RegExp(`^history ${TIME} #lobby #\\d+ bob ↪ #${a}: on it$`)),
        expect.stringMatching(
          new RegExp(
            `^history ${TIME} #lobby #${f} bob \\[file "notes v2\\.txt", 98 KB\\]: the notes$`,
          ),
        ),
      ]),
    );
    expect(carol.lines.join('\n')).not.toContain('deploy');

    for (const client of [alice, bob, carol]) client.proc.stdin.end('/quit\n');
    expect(await alice.exited).toBe(0);
    // Bob had a refused edit and a file over the limit: not everything went out.
    expect(await bob.exited).toBe(1);
    expect(await carol.exited).toBe(0);
    // One `sent` line per message said, none for edits, deletions, reactions or refusals.
    const sentLines = (client: LineProcess) => client.lines.filter((l) => / sent #/.test(l));
    expect(sentLines(alice)).toEqual([mine]);
    expect(sentLines(bob)).toHaveLength(2);
    expect(sentLines(carol)).toEqual([]);
    // Not a terminal: no progress on stderr, and no message text there.
    expect(bob.stderr()).not.toMatch(/%|notes/);
  }, 120_000);

  it('prints our lines from an earlier run once each, with the seq the host gave them', async () => {
    const h = await plaintextHost(0);
    const bob = await inLobby(h, 'bob');
    // A line an earlier run queued and never saw acknowledged.
    const dir = tempDir();
    const left = { id: 'earlier-run-0001', room: 'lobby', text: 'left over', queuedAt: 0 };
    await fileOutboxStore(dir, h.address).save([left]);
    const args = ['--connect', h.invite('lobby'), '--nick', 'alice', '--data-dir', dir];
    const first = spawnLineClient(cleanups, args, { input: '', defaultTimeoutMs: 30_000 });
    expect(await first.exited).toBe(0);
    const sent = first.lines.filter((l) => / sent #/.test(l));
    expect(sent).toEqual([
      expect.stringMatching(new RegExp(`^\\*\\*\\* ${TIME} #lobby sent #\\d+: left over$`)),
    ]);
    const seq = sentSeq(sent[0] ?? '');
    expect(await bob.waitForLine(/alice: left over$/)).toMatch(
      new RegExp(` #lobby #${seq} alice: `),
    );

    // Its acknowledgement was lost after all, say: the resend is a duplicate to the host, which
    // answers with the first seq. Printed once, and bob sees the message once.
    await fileOutboxStore(dir, h.address).save([left]);
    const again = spawnLineClient(cleanups, args, { input: '', defaultTimeoutMs: 30_000 });
    expect(await again.exited).toBe(0);
    expect(again.lines.filter((l) => / sent #/.test(l)).map(sentSeq)).toEqual([seq]);
    await say(bob, '/search left', /search \d+ result/);
    expect(bob.lines.filter((l) => / alice: left over$/.test(l))).toHaveLength(2); // msg, search
    bob.proc.stdin.end('/quit\n');
    expect(await bob.exited).toBe(0);
  }, 60_000);

  it('the same in an end-to-end encrypted room: the host keeps none of it readable', async () => {
    const h: HostProcess = await spawnHost({
      e2ee: true,
      rooms: ['lobby'],
      limits: { messagesPerSecond: 1000, messageBurst: 1000 },
    });
    cleanups.push(() => h.stop());
    const invite = h.memberInvite ?? '';
    const alice = lineClient(['--connect', invite, '--nick', 'alice', '--data-dir', tempDir()]);
    await alice.waitForLine(/#lobby e2ee encrypted: /);
    const bob = lineClient(['--connect', invite, '--nick', 'bob', '--data-dir', tempDir()]);
    await bob.waitForLine(/#lobby e2ee encrypted: /);

    const first = canary('first');
    const a = seqOf(await say(alice, first, new RegExp(`alice: ${first}$`), bob));
    const answer = canary('answer');
    expect(await say(bob, `/reply ${a} ${answer}`, / bob ↪ /, alice)).toMatch(
      new RegExp(`^msg ${TIME} #lobby #\\d+ bob ↪ #${a}: ${answer}$`),
    );
    const edited = canary('edited');
    expect(await say(alice, `/edit ${a} ${edited}`, /edited/, bob)).toMatch(
      new RegExp(`^msg ${TIME} #lobby #\\d+ \\* alice edited #${a}: ${edited}$`),
    );
    expect(await say(bob, `/react ${a} 🎉`, /reacted/, alice)).toMatch(
      new RegExp(`\\* bob reacted 🎉 to #${a}$`),
    );

    const files = tempDir();
    const secret = canary('file-content');
    writeFileSync(join(files, 'secret.txt'), secret);
    await say(bob, `/send-file ${join(files, 'secret.txt')}`, /file sent/);
    const fileLine = await alice.waitForLine(/ bob \[file "secret\.txt"/);
    const into = tempDir();
    await say(alice, `/save ${seqOf(fileLine)} ${into}`, /saved/);
    expect(readFileSync(join(into, 'secret.txt'), 'utf8')).toBe(secret);

    expect(await say(bob, `/search ${edited.slice(0, 12)}`, /^search /)).toMatch(
      new RegExp(`^search ${TIME} #lobby #${a} alice: ${edited}$`),
    );
    await say(alice, `/delete ${a}`, /deleted/, bob);

    for (const client of [alice, bob]) client.proc.stdin.end('/quit\n');
    for (const client of [alice, bob]) expect(await client.exited).toBe(0);
    // What they said, the file and the edit are nowhere in the host's files.
    expect(findInFiles(h.dataDir, [first, answer, edited, secret])).toEqual([]);
  }, 120_000);
});
