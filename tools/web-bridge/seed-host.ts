// A long room for the real host, written straight into its history database before it starts:
// sending 10 000 messages through the host would test its rate limits, not the UI. The host
// then serves them exactly as it serves history it stored itself (the same table, the same
// paging), so the page and the desktop service behind it are the real ones.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { HostDatabase, type NewMessage } from '../../src-main/server/host-database.ts';

export interface SeedOptions {
  /** The data folder the host will be started with. */
  readonly dataDir: string;
  readonly room: string;
  readonly count: number;
  /** The host's `limits.historyLimit`: at least `count`, or the host trims the seed on open. */
  readonly historyLimit: number;
  /** Default: now. The newest seeded message is a little before this. */
  readonly now?: number;
}

const PEOPLE = ['bob', 'carol', 'dave', 'erin'];

// Lines of different lengths, so rows have different heights as in a real conversation.
const LINES = [
  'morning!',
  'Has anyone tried the new build on a laptop with a HiDPI screen? The timeline looked crisp here.',
  'ok',
  'I pushed the fix for the reconnect banner; it now counts down instead of flickering.',
  'Lunch at noon?',
  'https://example.org/notes/2026-12 has the notes from the last call, with the open questions at the end.',
  'sounds good',
  'The invite link carries the fingerprint, so nobody has to compare hex strings by hand any more. ' +
    'Still worth checking the long form once, in person or on a call, for the hosts you rely on.',
];

const BATCH = 1000;

/** Writes `count` messages from a few people into `room`, oldest first, one minute or so apart. */
export function seedHostHistory(options: SeedOptions): void {
  if (options.historyLimit < options.count) {
    throw new RangeError(
      `historyLimit ${options.historyLimit} would trim the seed of ${options.count}`,
    );
  }
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const people = PEOPLE.map((nick) => ({ nick, key: new Uint8Array(randomBytes(32)) }));
  const db = HostDatabase.open(join(options.dataDir, 'history.sqlite'), {
    historyLimit: options.historyLimit,
  });
  try {
    const newest = (options.now ?? Date.now()) - 60_000;
    let batch: NewMessage[] = [];
    for (let i = 0; i < options.count; i++) {
      const who = people[(i * 3 + (i >> 2)) % people.length];
      if (who === undefined) throw new Error('no one to seed messages from');
      batch.push({
        room: options.room,
        senderKey: who.key,
        nick: who.nick,
        text: LINES[i % LINES.length] ?? 'hi',
        clientMsgId: randomUUID(),
        sentAt: newest - (options.count - i) * 61_000,
      });
      if (batch.length === BATCH) {
        db.appendMessages(batch);
        batch = [];
      }
    }
    db.appendMessages(batch);
  } finally {
    db.close();
  }
}
