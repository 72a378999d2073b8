import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { cleanupsAfterEach } from '../../support/lifecycle.ts';
import { conversationSetup, sendAndAnswer, seqOf } from './conversation-kit.ts';

// Review of #17 (R1): a tombstone carries nothing that says what it was, so a client shows each
// one as a deleted message. When a message that was edited twice is deleted, someone reading the
// history later must see one deleted message — not three (the edits were never rows of the
// conversation) — and the host keeps nothing of the edits, not even who made them when.

const cleanups = cleanupsAfterEach();
const { lobby } = conversationSetup(cleanups);

describe('deleting an edited message', () => {
  it('leaves one tombstone in history; the edits leave no row at all', async () => {
    const { alice, dataDir, connect } = await lobby();
    const target = seqOf(await sendAndAnswer(alice, { text: 'first draft' }));
    const edits: number[] = [];
    for (const text of ['second draft', 'third draft']) {
      edits.push(
        seqOf(
          await sendAndAnswer(alice, {
            ev: { type: 'edit', target, text },
            rel: { t: 'edit', seq: target },
          }),
        ),
      );
    }
    const deletion = seqOf(
      await sendAndAnswer(alice, {
        ev: { type: 'delete', target },
        rel: { t: 'delete', seq: target },
      }),
    );

    const dave = await connect('dave');
    await dave.waitFor('msg', (m) => m.seq === deletion);
    const history = dave.of('msg').filter((m) => m.history);
    expect(history.filter((m) => m.deleted).map((m) => m.seq)).toEqual([target]);
    expect(history.filter((m) => edits.includes(m.seq))).toEqual([]);

    const raw = new DatabaseSync(join(dataDir, 'history.sqlite'), { readOnly: true });
    try {
      const placeholders = edits.map(() => '?').join(', ');
      expect(
        raw.prepare(`SELECT seq FROM messages WHERE seq IN (${placeholders})`).all(...edits),
      ).toEqual([]);
      // The room's count of rows follows, so history trimming keeps counting right.
      const count = raw
        .prepare("SELECT message_count AS n FROM rooms WHERE name = 'lobby'")
        .get()?.['n'];
      const rows = raw.prepare("SELECT count(*) AS n FROM messages WHERE room = 'lobby'").get()?.[
        'n'
      ];
      expect(count).toBe(rows);
    } finally {
      raw.close();
    }
  });
});
