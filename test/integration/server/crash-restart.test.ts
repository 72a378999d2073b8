import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { encodeBase64Url } from '../../../src-shared/base64url.ts';
import { parseInvite } from '../../../src-shared/invite.ts';
import { ChatSession } from '../../../src-main/client/chat-session.ts';
import { createHostVerifier } from '../../../src-main/client/host-trust.ts';
import type { ChatMessage } from '../../../src-main/protocol/wire/messages.ts';
import { KnownHosts } from '../../../src-main/store/known-hosts.ts';
import { newKeyPair } from '../../support/loopback.ts';
import { type Proc, run } from '../../support/processes.ts';
import { cleanupsAfterEach, sleep } from '../../support/lifecycle.ts';

// The host — a real `--serve` process — is killed with SIGKILL at random moments while clients
// keep sending, and restarted on the same port and data folder, many times. Afterwards every
// message a client saw acknowledged is in the history exactly once, under the seq it was
// acknowledged with; the database passed an integrity check after every crash; and every
// client received every other client's messages exactly once — including those that were not
// yet acknowledged when the host died. (SIGKILL keeps the OS page cache: this proves the commit
// and resend protocol against process crashes, not fsync against power loss.)

const ROUNDS = Math.max(1, Number(process.env['PARLEY_CRASH_ROUNDS'] ?? 8));
const NICKS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank'];
/**
 * Each client writes 2.5 messages a second, well under the host's default rate (10/s), so the
 * backlog built while the host is down drains at once after a restart. (Much heavier, a client
 * that rejoins a few seconds after the others can miss messages: a join replays only the last
 * 100, and ChatSession does not page further back — see docs/reliability.md, section 5.)
 */
const SEND_EVERY_MS = 400;

const cleanups = cleanupsAfterEach();

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

async function serve(port: number, dataDir: string): Promise<Proc> {
  // History is kept in full (the default trims each room to 1000 messages; a long run writes more).
  const proc = run([
    '--serve',
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--data-dir',
    dataDir,
    '--history',
    '1000000',
    // Plaintext rooms: this test counts the texts the host stored.
    '--no-e2ee',
  ]);
  cleanups.push(async () => {
    if (proc.child.exitCode === null && proc.child.signalCode === null) {
      proc.kill('SIGKILL');
      await proc.exited();
    }
  });
  await proc.waitForLine(/^link /, 15_000); // the last line the host prints at start
  return proc;
}

/** Opens the file as the host would after a crash (WAL recovery) and checks it is sound. */
function integrityCheck(file: string): string {
  const db = new DatabaseSync(file);
  try {
    const rows = db.prepare('PRAGMA integrity_check').all();
    return rows.map((row) => String(row['integrity_check'])).join(',');
  } finally {
    db.close();
  }
}

interface Stored {
  seq: number;
  text: string;
  senderKey: string;
}

function storedMessages(file: string): Map<string, Stored[]> {
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    const byId = new Map<string, Stored[]>();
    for (const row of db
      // Chat messages only: room events (who joined) share the table, with no message id.
      .prepare('SELECT seq, sender_key, client_msg_id, text FROM messages WHERE event IS NULL')
      .all()) {
      const id = String(row['client_msg_id']);
      const entry = {
        seq: Number(row['seq']),
        text: String(row['text']),
        senderKey: encodeBase64Url(row['sender_key'] as Uint8Array),
      };
      byId.set(id, [...(byId.get(id) ?? []), entry]);
    }
    return byId;
  } finally {
    db.close();
  }
}

describe('the host killed with SIGKILL under load, and restarted', () => {
  it(
    `keeps every acknowledged message exactly once and delivers everything once, over ${ROUNDS} crashes`,
    async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'parley-crash-'));
      cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
      const file = join(dataDir, 'history.sqlite');
      const port = await freePort();
      let host = await serve(port, dataDir);
      const invite = parseInvite((host.stdout.find((l) => l.startsWith('invite ')) ?? '').slice(7));
      if (!invite.ok) throw new Error(invite.error.message);
      const address = { host: '127.0.0.1', port };

      // The clients, each with what it wrote, what the host acknowledged and what it received.
      const clients = await Promise.all(
        NICKS.map(async (nick) => {
          const identity = newKeyPair();
          const knownHosts = await KnownHosts.load(
            join(mkdtempSync(join(tmpdir(), 'parley-kh-')), 'kh.json'),
          );
          const session = new ChatSession({
            address,
            identity,
            nick,
            rooms: ['lobby'],
            // The member invite of the first start: redeemed once, then the key is a member.
            ...(invite.value.token ? { inviteToken: invite.value.token } : {}),
            trust: createHostVerifier({
              address,
              inviteKey: invite.value.hostKey,
              knownHosts,
              policy: { trustNewHost: false },
            }),
            reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
            handshakeTimeoutMs: 3000,
          });
          const client = {
            nick,
            key: encodeBase64Url(identity.publicKey),
            session,
            sent: new Map<string, string>(), // id → text
            acks: new Map<string, { seq: number; duplicate: boolean }>(),
            received: [] as ChatMessage[],
            fatal: [] as string[],
            rateLimited: 0,
          };
          session.on('ack', (ack) =>
            client.acks.set(ack.id, { seq: ack.seq, duplicate: ack.duplicate }),
          );
          session.on('message', (m) => client.received.push(m));
          session.on('fatal', (f) => client.fatal.push(f.code));
          session.on('error', (e) => void (e.code === 'rate-limited' && client.rateLimited++));
          cleanups.push(() => session.stop());
          session.start();
          return client;
        }),
      );

      let counter = 0;
      let sending = true;
      const senders = clients.map((client, i) =>
        (async () => {
          await sleep(i * 30);
          while (sending) {
            const text = `${client.nick} #${++counter}`;
            client.sent.set(client.session.send('lobby', text), text);
            await sleep(SEND_EVERY_MS);
          }
        })(),
      );

      // Crash, check, restart — ROUNDS times, at random moments (sometimes before the clients
      // are even back, sometimes in the middle of their traffic).
      const unackedAtCrash = new Set<string>();
      let checks = 0;
      for (let round = 0; round < ROUNDS; round++) {
        await sleep(100 + Math.random() * 600);
        // Every other round, one message from each client right before the kill: a crash that
        // lands on messages in flight whatever the timing of the restarts (without it, a host
        // that restarts quickly may be killed between messages, and nothing crosses a crash).
        if (round % 2 === 0) {
          for (const client of clients) {
            const text = `${client.nick} #${++counter} (at the crash)`;
            client.sent.set(client.session.send('lobby', text), text);
          }
          await sleep(0);
        }
        host.kill('SIGKILL');
        expect((await host.exited()).signal).toBe('SIGKILL');
        for (const client of clients)
          for (const entry of client.session.pending) unackedAtCrash.add(entry.id);
        expect(integrityCheck(file)).toBe('ok');
        checks++;
        host = await serve(port, dataDir);
      }

      // Let everything settle: stop writing, wait until every message is acknowledged and every
      // client has received every other client's messages.
      sending = false;
      await Promise.all(senders);
      const missing = () =>
        clients.flatMap((c) => {
          const got = new Set(c.received.map((m) => m.id));
          const lost = clients.flatMap((o) =>
            o === c ? [] : [...o.sent.keys()].filter((id) => !got.has(id)),
          );
          return lost.length > 0
            ? [`${c.nick} misses ${lost.length}: ${lost.slice(0, 5).join(' ')}`]
            : [];
        });
      const settle = async (what: string, done: () => boolean) => {
        const deadline = Date.now() + 20_000;
        while (!done()) {
          if (Date.now() > deadline) {
            throw new Error(`timed out waiting for ${what}: ${missing().join('; ')}`);
          }
          await sleep(20);
        }
      };
      await settle('every message acknowledged', () =>
        clients.every((c) => c.session.pending.length === 0),
      );
      const everything = clients.flatMap((c) => [...c.sent.keys()]);
      await settle('every message received by every other client', () => missing().length === 0);
      await Promise.all(clients.map((c) => c.session.stop()));
      host.kill('SIGTERM');
      await host.exited();
      expect(integrityCheck(file)).toBe('ok');

      // Every message written was acknowledged, and is stored exactly once, by its sender,
      // with its text, under the seq its acknowledgement carried.
      const stored = storedMessages(file);
      const problems: string[] = [];
      let duplicates = 0;
      for (const client of clients) {
        expect(client.fatal).toEqual([]);
        for (const [id, text] of client.sent) {
          const ack = client.acks.get(id);
          const rows = stored.get(id) ?? [];
          if (!ack) problems.push(`${id} never acknowledged`);
          if (rows.length !== 1) problems.push(`${id} stored ${rows.length} times`);
          const row = rows[0];
          if (row && (row.text !== text || row.senderKey !== client.key))
            problems.push(`${id} altered`);
          if (row && ack && row.seq !== ack.seq)
            problems.push(`${id} acked as ${ack.seq}, stored as ${row.seq}`);
          if (ack?.duplicate) duplicates++;
        }
        // Received: each message once, exactly as stored; nothing that is not in the history.
        const seen = new Map<string, number>();
        for (const m of client.received) {
          seen.set(m.id, (seen.get(m.id) ?? 0) + 1);
          const row = stored.get(m.id)?.[0];
          if (!row || row.seq !== m.seq || row.text !== m.text)
            problems.push(`${client.nick} got a phantom ${m.id}`);
        }
        for (const [id, n] of seen) if (n > 1) problems.push(`${client.nick} got ${id} ${n} times`);
      }
      expect(problems.length, problems.slice(0, 10).join('\n')).toBe(0);
      expect(stored.size).toBe(everything.length);
      const crossedACrash = [...unackedAtCrash].filter((id) => everything.includes(id));
      console.log(
        `crash-restart: ${ROUNDS} SIGKILLs, ${checks} integrity checks ok; ${everything.length} messages ` +
          `written, acknowledged and stored exactly once (${duplicates} acknowledged as resends); ` +
          `${crossedACrash.length} were unacknowledged at a crash and were delivered once after it; ` +
          `${clients.reduce((n, c) => n + c.received.length, 0)} deliveries checked; ` +
          `${clients.reduce((n, c) => n + c.rateLimited, 0)} sends deferred by the rate limit`,
      );
      // The crashes really hit messages in flight.
      expect(crossedACrash.length).toBeGreaterThan(0);
    },
    ROUNDS * 8_000 + 40_000,
  );
});
