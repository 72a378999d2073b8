import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_ITEM_LEN } from '../../../src-main/protocol/records.ts';
import { encodeMessage } from '../../../src-main/protocol/wire/codec.ts';
import { HostDatabase } from '../../../src-main/server/host-database.ts';
import { runsWithin } from '../../fuzz/kit.ts';
import { type HostProcess, spawnHost } from '../../support/host-process.ts';
import { newKeyPair } from '../../support/loopback.ts';
import { type WireClient, connectWireClient } from '../../support/wire-client.ts';
import { cleanupsAfterEach, until } from '../../support/lifecycle.ts';

// What one client sends must never end the host: a text within the byte limit can still make a
// `msg` too large for one record once JSON escapes it (a control character is 1 byte in UTF-8
// and 6 in JSON). Such a send is refused before it is stored; an entry like it that an earlier
// version stored is skipped when replayed. Every host here is a real process.

const cleanups = cleanupsAfterEach();

/** The longest names the host allows: 32 astral letters (4 UTF-8 bytes each), 64-char room. */
const LONGEST_NICK_A = '𝒜'.repeat(32);
const LONGEST_NICK_B = '𝒞'.repeat(31) + 'b';
const LONGEST_ROOM = 'r'.repeat(64);

async function host(dataDir?: string): Promise<HostProcess> {
  const h = await spawnHost({
    rooms: ['lobby', LONGEST_ROOM],
    openRooms: true, // who may join is not what is under test here
    // The property sends many messages: a rate limit is not what is under test here.
    limits: { messagesPerSecond: 10_000, messageBurst: 10_000, requestBurst: 10_000 },
    ...(dataDir ? { dataDir } : {}),
  });
  cleanups.push(() => h.stop());
  return h;
}

async function member(h: HostProcess, nick: string, room: string): Promise<WireClient> {
  const c = await connectWireClient(h.port, h.publicKey, nick);
  cleanups.push(() => c.close());
  await c.waitFor('welcome');
  c.send({ t: 'join', room });
  await c.waitFor('synced', (s) => s.room === room);
  return c;
}

let ids = 0;
const newId = () => `poison-${String(++ids).padStart(8, '0')}`;

describe('a message that fits the byte limit but not a record once escaped', () => {
  it('is refused with text-too-long, stored nowhere, and the host stays up', async () => {
    const h = await host();
    const alice = await member(h, LONGEST_NICK_A, LONGEST_ROOM);
    const bob = await member(h, LONGEST_NICK_B, LONGEST_ROOM);
    const poison = '\u0001'.repeat(10_870); // 10 870 bytes of UTF-8, 65 220 of JSON
    const id = newId();
    alice.send({ t: 'send', room: LONGEST_ROOM, id, text: poison });
    const refusal = await alice.waitFor('error', (e) => e.ref === id);
    expect(refusal.code).toBe('text-too-long');
    expect(refusal.message).toMatch(/escaped/);

    // The host is alive and serving: an ordinary message still goes through, and nothing of
    // the poison was stored (a newcomer's replay holds only the ordinary one).
    const fine = newId();
    alice.send({ t: 'send', room: LONGEST_ROOM, id: fine, text: 'still here' });
    await alice.waitFor('ack', (a) => a.id === fine);
    await bob.waitFor('msg', (m) => m.id === fine);
    expect(bob.of('msg').map((m) => m.id)).toEqual([fine]);
    const carol = await member(h, 'carol', LONGEST_ROOM);
    expect(carol.of('msg').map((m) => m.text)).toEqual(['still here']);
    expect(h.alive()).toBe(true);
  });

  it('arbitrary Unicode at and around every limit: refused with a clear code or delivered intact', async () => {
    const h = await host();
    const alice = await member(h, LONGEST_NICK_A, LONGEST_ROOM);
    const bob = await member(h, LONGEST_NICK_B, LONGEST_ROOM);
    const unit = fc.oneof(
      fc.constantFrom('\u0000', '\u0001', '\u001b', '\u007f', '\u0085', '\u009b', '"', '\\'),
      fc.constantFrom('\ud800', '\udfff', '\u{1F600}', '\u202e', '\u2066', '\u200f', 'é', 'a'),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 4 }),
    );
    // Long runs of one unit reach the limits fast; the mix makes the escaped size vary.
    const text = fc
      .tuple(
        fc.array(fc.tuple(unit, fc.integer({ min: 1, max: 17_000 })), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.integer({ min: 1000, max: 17_000 }),
      )
      .map(([runs, cap]) =>
        runs
          .map(([u, n]) => u.repeat(Math.ceil(n / u.length)))
          .join('')
          .slice(0, cap),
      )
      .filter((t) => t.length > 0);

    let delivered = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(text, async (sent) => {
        // A refusal never costs the connection: the host answers, it does not hang up.
        expect(alice.channel.closeInfo).toBeUndefined();
        const id = newId();
        const request = { t: 'send', room: LONGEST_ROOM, id, text: sent } as const;
        // A request that does not fit one item cannot be sent at all (the client refuses it).
        fc.pre(encodeMessage(request).length <= MAX_ITEM_LEN);
        alice.send(request);
        const answer = await Promise.race([
          alice.waitFor('ack', (a) => a.id === id, 10_000),
          alice.waitFor('error', (e) => e.ref === id, 10_000),
        ]);
        if (answer.t === 'error') {
          expect(answer.code).toBe('text-too-long');
          refused++;
        } else {
          const got = await bob.waitFor('msg', (m) => m.id === id, 10_000);
          expect(got.text).toBe(sent.toWellFormed());
          delivered++;
        }
        expect(h.alive()).toBe(true);
      }),
      runsWithin(25, 400, 0.002),
    );
    // Both outcomes were exercised, and the host never sent an item over the record bound.
    expect(delivered).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
    expect(h.log.filter((line) => /"client-failed"|"message-too-large/.test(line))).toEqual([]);
    expect(MAX_ITEM_LEN).toBe(65516);
  }, 120_000);
});

describe('a history that already holds an entry too large to send (written by an earlier version)', () => {
  it('is served without it, on join and in history pages, and the host stays up', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'parley-poisoned-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const db = HostDatabase.open(join(dataDir, 'history.sqlite'));
    const sender = newKeyPair().publicKey;
    const entry = (text: string, n: number) => ({
      room: 'lobby',
      senderKey: sender,
      nick: 'old',
      text,
      clientMsgId: `legacy-${String(n).padStart(8, '0')}`,
      sentAt: Date.now(),
    });
    db.appendMessages([
      entry('before', 1),
      entry('\u0001'.repeat(16_000), 2), // what an earlier version accepted
      entry('after', 3),
    ]);
    db.close();

    const h = await host(dataDir);
    const bob = await member(h, 'bob', 'lobby');
    expect(bob.of('msg').map((m) => m.text)).toEqual(['before', 'after']);
    const after = bob.of('msg')[1]!;
    bob.send({ t: 'history', room: 'lobby', before: after.seq, limit: 10 });
    await bob.waitFor('history-end');
    expect(bob.of('msg').map((m) => m.text)).toEqual(['before', 'after', 'before']);
    // Twice more, as every restart and every joiner would: still up, still skipping.
    await member(h, 'carol', 'lobby');
    expect(h.alive()).toBe(true);
    // The host's log arrives on its stderr a little after the answers it logged.
    const skipped = () => h.log.filter((l) => l.includes('"message-too-large-skipped"')).length;
    await until(() => skipped() >= 3, 'three skips in the host log', 5000);
    expect(skipped()).toBe(3);
  });
});
