import { describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend } from '../../../src-main/protocol/crypto/select-backend.ts';
import type { HostMessage } from '../../../src-main/protocol/wire/messages.ts';
import { loadOrCreateKeyPair } from '../../../src-main/store/key-file.ts';
import { encodeBase64Url } from '../../../src-shared/base64url.ts';
import { formatInvite, parseInvite } from '../../../src-shared/invite.ts';
import { canary, findInFiles } from '../../support/e2ee-canary.ts';
import { startE2eeRelay } from '../../support/e2ee-relay.ts';
import { flipByte } from '../../support/e2ee-wire.ts';
import { type HostProcess, spawnHost } from '../../support/host-process.ts';
import { TIME, type LineProcess, spawnLineClient } from './line-process.ts';
import { cleanupsAfterEach } from '../../support/lifecycle.ts';

// Two line clients (real `node src-main/index.ts --connect` processes) in an end-to-end
// encrypted room of a real host process: they read each other, the host's files do not hold
// what they said, and /verify shows both the same safety number.

const SAFETY_NUMBER = String.raw`\d{5}(?: \d{5}){11}`;

const cleanups = cleanupsAfterEach();

function tempDir(prefix = 'parley-line-e2ee-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function e2eeHost(): Promise<HostProcess & { invite: string }> {
  const h = await spawnHost({
    e2ee: true,
    rooms: ['lobby'],
    limits: { messagesPerSecond: 1000, messageBurst: 1000 },
  });
  cleanups.push(() => h.stop());
  if (!h.memberInvite) throw new Error('the host made no member invite');
  return { ...h, invite: h.memberInvite };
}

const lineClient = (args: string[]): LineProcess =>
  spawnLineClient(cleanups, args, { defaultTimeoutMs: 30_000 });

describe('the line client in an end-to-end encrypted room', () => {
  it('two clients read each other, the host keeps only ciphertext, and /verify agrees on both sides', async () => {
    const h = await e2eeHost();
    const aliceDir = tempDir();
    const alice = lineClient(['--connect', h.invite, '--nick', 'alice', '--data-dir', aliceDir]);
    await alice.waitForLine(/^\*\*\* \S+ #lobby synced: live messages follow$/);
    expect(await alice.waitForLine(/#lobby e2ee encrypted: /)).toMatch(
      new RegExp(
        `^\\*\\*\\* ${TIME} #lobby e2ee encrypted: messages here are end-to-end encrypted`,
      ),
    );
    const bob = lineClient(['--connect', h.invite, '--nick', 'bob', '--data-dir', tempDir()]);
    // Bob is in the room before he is in its group: alice's client adds his device.
    await bob.waitForLine(/#lobby e2ee encrypted: /);

    const fromAlice = canary('alice');
    const fromBob = canary('bob');
    alice.proc.stdin.write(`${fromAlice}\n`);
    expect(await bob.waitForLine(new RegExp(`alice: ${fromAlice}`))).toMatch(
      new RegExp(`^msg ${TIME} #lobby #\\d+ alice: ${fromAlice}$`),
    );
    bob.proc.stdin.write(`${fromBob}\n`);
    expect(await alice.waitForLine(new RegExp(`bob: ${fromBob}`))).toMatch(
      new RegExp(`^msg ${TIME} #lobby #\\d+ bob: ${fromBob}$`),
    );

    // The room list says which rooms are end-to-end encrypted.
    alice.proc.stdin.write('/rooms\n');
    await alice.waitForLine(/^\*\*\* \S+ rooms 1: #lobby \(member, e2ee\)$/);

    // The same 60 digits on both sides, and nothing about it went to the host.
    alice.proc.stdin.write('/verify bob\n');
    bob.proc.stdin.write('/verify alice\n');
    const number = (line: string) => new RegExp(`: (${SAFETY_NUMBER}) \\(`).exec(line)?.[1];
    const aliceSees = await alice.waitForLine(/ e2ee safety-number bob /);
    const bobSees = await bob.waitForLine(/ e2ee safety-number alice /);
    expect(aliceSees).toMatch(
      new RegExp(
        `^\\*\\*\\* ${TIME} e2ee safety-number bob \\([A-Z2-7 ]+\\): ${SAFETY_NUMBER} \\(`,
      ),
    );
    expect(number(aliceSees)).toBeDefined();
    expect(number(aliceSees)).toBe(number(bobSees));
    alice.proc.stdin.write('/verify nobody\n');
    await alice.waitForLine(/verify: nobody called nobody seen here/);

    // A second line client on alice's data folder would fork her device's group state.
    const twin = lineClient(['--connect', h.invite, '--nick', 'alice', '--data-dir', aliceDir]);
    expect(await twin.exited).toBe(1);
    expect(twin.stderr()).toMatch(/^parley --connect: the E2EE store .* is in use by process \d+/);
    expect(twin.lines).toEqual([]);

    alice.proc.stdin.end('/quit\n');
    bob.proc.stdin.end('/quit\n');
    expect(await alice.exited).toBe(0);
    expect(await bob.exited).toBe(0);
    expect(alice.stderr()).toBe('');
    expect(bob.stderr()).toBe('');

    // The line client's own store: a 0600 key file, and no plaintext on either side's disk but
    // the line client's (its outbox is empty once everything was acknowledged).
    expect(statSync(join(aliceDir, 'e2ee-line', 'store.key')).mode & 0o777).toBe(0o600);
    expect(findInFiles(join(aliceDir, 'e2ee-line'), [fromAlice, fromBob])).toEqual([]);
    expect(findInFiles(h.dataDir, [fromAlice, fromBob])).toEqual([]);
  }, 90_000);

  it('shows a message the host tampered with as not decrypted, and a new device of a member', async () => {
    const h = await e2eeHost();
    const aliceDir = tempDir();
    const alice = lineClient(['--connect', h.invite, '--nick', 'alice', '--data-dir', aliceDir]);
    await alice.waitForLine(/#lobby e2ee encrypted: /);

    // Bob reaches the host through a relay that flips one bit of alice's first message.
    const bobDir = tempDir();
    const bobIdentity = await loadOrCreateKeyPair(join(bobDir, 'identity.key'), selectBackend());
    let tampered = 0;
    const relay = await startE2eeRelay({
      identity: bobIdentity,
      hostPort: h.port,
      hostKey: h.publicKey,
      rewrite: (message: HostMessage) => {
        if (message.t !== 'msg' || !message.mls || message.from !== 'alice' || tampered > 0) {
          return undefined;
        }
        tampered++;
        return [{ ...message, mls: flipByte(message.mls) }];
      },
    });
    cleanups.push(() => relay.close());
    const invite = parseInvite(h.invite);
    if (!invite.ok) throw new Error(invite.error.message);
    const viaRelay = formatInvite({ ...invite.value, port: relay.port, hostKey: relay.publicKey });
    const bob = lineClient(['--connect', viaRelay, '--nick', 'bob', '--data-dir', bobDir]);
    await bob.waitForLine(/#lobby e2ee encrypted: /);

    const first = canary('first');
    const second = canary('second');
    alice.proc.stdin.write(`${first}\n${second}\n`);
    expect(await bob.waitForLine(new RegExp(`alice: ${second}`))).toMatch(
      new RegExp(`^msg ${TIME} #lobby #\\d+ alice: ${second}$`),
    );
    expect(tampered).toBe(1);
    expect(bob.lines.filter((line) => line.includes(' alice: '))).toEqual([
      expect.stringMatching(
        new RegExp(`^msg ${TIME} #lobby #\\d+ alice: \\[not decrypted: tampered\\]$`),
      ),
      expect.stringMatching(new RegExp(`alice: ${second}$`)),
    ]);

    // Alice on a second install (her identity copied): everyone is told of the new device.
    const laptopDir = tempDir();
    copyFileSync(join(aliceDir, 'identity.key'), join(laptopDir, 'identity.key'));
    const laptop = lineClient(['--connect', h.invite, '--nick', 'alice', '--data-dir', laptopDir]);
    const newDevice = new RegExp(
      `^\\*\\*\\* ${TIME} #lobby e2ee new-device alice \\([A-Z2-7 ]+\\): [A-Za-z0-9_-]{43}, 2 devices now `,
    );
    await bob.waitForLine(newDevice);
    await alice.waitForLine(newDevice);
    await laptop.waitForLine(/#lobby e2ee encrypted: /);
    expect(bob.lines.filter((line) => line.includes('new-device'))).toHaveLength(1);
    expect(bob.lines.filter((line) => line.includes('key-changed'))).toEqual([]);

    for (const client of [alice, bob, laptop]) client.proc.stdin.end('/quit\n');
    for (const client of [alice, bob, laptop]) expect(await client.exited).toBe(0);
  }, 90_000);

  it('a script piping lines into an encrypted room it just joined gets them all through, exit 0', async () => {
    const h = await e2eeHost();
    const alice = lineClient(['--connect', h.invite, '--nick', 'alice', '--data-dir', tempDir()]);
    await alice.waitForLine(/#lobby e2ee encrypted: /);
    // The lines wait until the bot's device is in the group, then go out encrypted.
    const lines = [canary('one'), canary('two'), canary('three')];
    const bot = lineClient(['--connect', h.invite, '--nick', 'bot', '--data-dir', tempDir()]);
    bot.proc.stdin.end(lines.map((line) => `${line}\n`).join(''));
    expect(await bot.exited).toBe(0);
    expect(bot.stderr()).toBe('');
    for (const line of lines)
      await alice.waitForLine(new RegExp(`^msg ${TIME} #lobby #\\d+ bot: ${line}$`));
    expect(findInFiles(h.dataDir, lines)).toEqual([]);
    alice.proc.stdin.end('/quit\n');
    expect(await alice.exited).toBe(0);
  }, 90_000);

  it('warns once when the person key of a member is not the one pinned, and still reads them', async () => {
    const h = await e2eeHost();
    const aliceDir = tempDir();
    const aliceKey = await loadOrCreateKeyPair(join(aliceDir, 'identity.key'), selectBackend());
    // Bob's pins say another person key for alice's Parley key: what he would have if a host
    // had shown him a device of its own in her name before.
    const bobDir = tempDir();
    const pinned = encodeBase64Url(new Uint8Array(32).fill(7));
    writeFileSync(
      join(bobDir, 'member-pins.json'),
      JSON.stringify({ version: 1, pins: { [encodeBase64Url(aliceKey.publicKey)]: pinned } }),
      { mode: 0o600 },
    );
    const alice = lineClient(['--connect', h.invite, '--nick', 'alice', '--data-dir', aliceDir]);
    await alice.waitForLine(/#lobby e2ee encrypted: /);
    const bob = lineClient(['--connect', h.invite, '--nick', 'bob', '--data-dir', bobDir]);
    expect(await bob.waitForLine(/ e2ee key-changed /)).toMatch(
      new RegExp(
        `^\\*\\*\\* ${TIME} e2ee key-changed alice \\([A-Z2-7 ]+\\): their messages now come from a device signed by another person key .* \\(/verify alice\\)`,
      ),
    );
    await bob.waitForLine(/#lobby e2ee encrypted: /);
    const text = canary('changed');
    alice.proc.stdin.write(`${text}\n`);
    await bob.waitForLine(new RegExp(`^msg ${TIME} #lobby #\\d+ alice: ${text}$`));
    expect(bob.lines.filter((line) => line.includes('key-changed'))).toHaveLength(1);
    for (const client of [alice, bob]) client.proc.stdin.end('/quit\n');
    for (const client of [alice, bob]) expect(await client.exited).toBe(0);
  }, 90_000);
});
