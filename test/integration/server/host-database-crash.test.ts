// Kills a real writer process with SIGKILL in the middle of appending, several times, and checks
// that every message it acknowledged is in the database exactly once and that the file is sound.
// SIGKILL keeps the OS page cache, so this proves the commit protocol (nothing acked is lost or
// doubled by a crash of the process), not the fsync against power loss (synchronous = FULL).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HostDatabase } from '../../../src-main/server/host-database.ts';

const writer = fileURLToPath(new URL('../../fixtures/host-database-writer.ts', import.meta.url));
const senders = [new Uint8Array(32).fill(1), new Uint8Array(32).fill(2)];
const ROUNDS = 5;

type Ack = [sender: number, clientMsgId: string, seq: number, duplicate: boolean];

interface RoundResult {
  acks: Ack[];
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Runs the writer until it has acknowledged something, then SIGKILLs it after ≤ 600 ms more. */
function runAndKill(file: string, round: number): Promise<RoundResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--disable-warning=ExperimentalWarning', writer, file, String(round)],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    let killTimer: NodeJS.Timeout | undefined;
    const giveUp = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (killTimer === undefined && stdout.includes('\n')) {
        killTimer = setTimeout(() => child.kill('SIGKILL'), Math.random() * 600);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (_code, signal) => {
      clearTimeout(giveUp);
      clearTimeout(killTimer);
      // Only complete lines count: a line is printed after its batch was committed.
      const lines = stdout.split('\n').slice(0, -1);
      const acks = lines.flatMap((line) => JSON.parse(line) as Ack[]);
      resolve({ acks, signal, stderr });
    });
  });
}

/** Checks the file is sound and returns, per sender:clientMsgId, the seqs of its stored rows. */
function inspect(file: string): Map<string, number[]> {
  const raw = new DatabaseSync(file, { readOnly: true });
  try {
    expect(raw.prepare('PRAGMA integrity_check').all()).toEqual([{ integrity_check: 'ok' }]);
    expect(raw.prepare('PRAGMA foreign_key_check').all()).toEqual([]);
    const stored = new Map<string, number[]>();
    for (const row of raw.prepare('SELECT sender_key, client_msg_id, seq FROM messages').all()) {
      const key = row['sender_key'] as Uint8Array;
      const sender = senders.findIndex((k) => Buffer.from(k).equals(key));
      const id = `${sender}:${String(row['client_msg_id'])}`;
      stored.set(id, [...(stored.get(id) ?? []), Number(row['seq'])]);
    }
    return stored;
  } finally {
    raw.close();
  }
}

let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-'));
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('HostDatabase under kill -9', () => {
  it(
    'keeps every acknowledged message exactly once across crashes',
    { timeout: 60_000 },
    async () => {
      const file = path.join(dir, 'host.db');
      const acknowledged = new Map<string, number>(); // sender:clientMsgId → seq
      let duplicatesSeen = 0;

      for (let round = 0; round < ROUNDS; round++) {
        const { acks, signal, stderr } = await runAndKill(file, round);
        expect(stderr).not.toMatch(/Error/);
        expect(signal).toBe('SIGKILL');
        expect(acks.length).toBeGreaterThan(0);

        const wrongAcks: string[] = [];
        for (const [sender, id, seq, duplicate] of acks) {
          const key = `${sender}:${id}`;
          const earlier = acknowledged.get(key);
          if (duplicate) duplicatesSeen++;
          // A new message must be new; a duplicate of something acknowledged earlier must carry the
          // seq it was acknowledged with. (A resend of something never acknowledged may be either.)
          if (earlier === undefined) acknowledged.set(key, seq);
          else if (!duplicate || seq !== earlier) wrongAcks.push(`${key}: ${seq} vs ${earlier}`);
        }
        expect(wrongAcks).toEqual([]);

        // The host reopens the file as it would after a crash; then the file must be sound and hold
        // every acknowledged message exactly once, under the acknowledged seq.
        HostDatabase.open(file, { historyLimit: 1_000_000 }).close();
        const stored = inspect(file);
        const missing = [...acknowledged].filter(([key, seq]) => stored.get(key)?.[0] !== seq);
        const doubled = [...stored].filter(([, seqs]) => seqs.length !== 1);
        expect(missing).toEqual([]);
        expect(doubled).toEqual([]);
      }

      // The writer resends, so the duplicate path was exercised across crashes too.
      expect(duplicatesSeen).toBeGreaterThan(0);
      expect(acknowledged.size).toBeGreaterThan(ROUNDS);
    },
  );
});
