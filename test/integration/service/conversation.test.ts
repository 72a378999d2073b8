// The conversation (#17) through the desktop service, against a real host, in a plaintext room
// and in an end-to-end encrypted one: replies quote the local copy, edits replace the text under
// the same id, deletions leave a tombstone (an owner may delete anyone's), reactions count and
// toggle, search finds what is shown and the jump window loads, mentions notify in a room muted
// to mentions, and a second install's read position clears the first one's unread count.
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import type { RunningHost } from '../../../src-main/server/host.ts';
import { HISTORY_FILE } from '../../../src-main/service/desktop-service.ts';
import { PLAIN_KEY_FILE } from '../../../src-main/service/identity-store.ts';
import { ServiceError } from '../../../src-main/service/service-error.ts';
import type { ChatMessageView } from '../../../src-shared/ipc/domain.ts';
import { cleanupsAfterEach, sleep } from '../../support/lifecycle.ts';
import { type TestService, hostIdOf, lobbyMember, startTestHost } from './harness.ts';

const cleanups = cleanupsAfterEach();
const WAIT = 20_000;

const member = (h: RunningHost, role: 'owner' | 'member', nick: string, dataDir?: string) =>
  lobbyMember(cleanups, h, { role, nick, dataDir }, { readSyncDelayMs: 100 });

async function ready(app: TestService, e2ee: boolean): Promise<void> {
  await app.events.waitFor(
    'rooms',
    (r) => r.rooms.some((x) => x.name === 'lobby' && x.joined && (!e2ee || x.e2ee === 'encrypted')),
    WAIT,
  );
}

/** Sends as `app` and waits until the host gave it a seq. */
async function say(
  app: TestService,
  hostId: string,
  text: string,
  replyTo?: number,
): Promise<{ id: string; seq: number }> {
  const { id } = app.service.send({
    hostId,
    room: 'lobby',
    text,
    ...(replyTo !== undefined ? { replyTo } : {}),
  });
  const status = await app.events.waitFor(
    'messageStatus',
    (s) => s.id === id && s.status === 'sent',
    WAIT,
  );
  if (status.seq === undefined) throw new Error('acknowledged without a seq');
  return { id, seq: status.seq };
}

const shownAs =
  (id: string, check: (m: ChatMessageView) => boolean) =>
  (m: ChatMessageView): boolean =>
    m.id === id && check(m);

function refusal(call: () => unknown): string {
  try {
    call();
  } catch (error) {
    if (error instanceof ServiceError) return error.code;
    throw error;
  }
  return 'accepted';
}

describe.each([
  { kind: 'plaintext', e2ee: false },
  { kind: 'end-to-end encrypted', e2ee: true },
])('the conversation in a $kind room', ({ e2ee }) => {
  it('replies, edits, reactions, deletions and search', async () => {
    const h = await startTestHost(cleanups, { rooms: ['lobby'], e2ee });
    const hostId = hostIdOf(h);
    const alice = await member(h, 'owner', 'alice');
    const bob = await member(h, 'member', 'bob');
    await Promise.all([ready(alice, e2ee), ready(bob, e2ee)]);
    if (e2ee) {
      await alice.events.waitFor(
        'members',
        (m) => m.members.some((x) => x.nick === 'bob' && x.devices === 1),
        WAIT,
      );
    }

    // A message naming bob, and bob's reply quoting it from his own copy.
    const first = await say(alice, hostId, 'lunch plans @bob: the harbour kiosk');
    const got = await bob.events.waitFor('message', (m) => m.id === first.id, WAIT);
    expect(got).toMatchObject({ text: 'lunch plans @bob: the harbour kiosk', mentioned: true });
    const reply = await say(bob, hostId, 'count me in', first.seq);
    const quoted = await alice.events.waitFor('message', (m) => m.id === reply.id, WAIT);
    expect(quoted.replyTo).toEqual({
      seq: first.seq,
      from: 'alice',
      text: 'lunch plans @bob: the harbour kiosk',
    });
    // A reply to something this install never held says so.
    const far = await say(bob, hostId, 'and about that old thing', 1_000_000);
    const farShown = await alice.events.waitFor('message', (m) => m.id === far.id, WAIT);
    expect(farShown.replyTo).toMatchObject({ seq: 1_000_000, missing: true });

    // Alice edits: bob's row (same id) shows the new text, marked edited; bob may not.
    expect(
      refusal(() =>
        bob.service.editMessage({ hostId, room: 'lobby', seq: first.seq, text: 'mine now' }),
      ),
    ).toBe('forbidden');
    alice.service.editMessage({
      hostId,
      room: 'lobby',
      seq: first.seq,
      text: 'lunch plans @bob: the lighthouse café',
    });
    await bob.events.waitFor(
      'message',
      shownAs(first.id, (m) => m.edited === true && m.text.includes('lighthouse')),
      WAIT,
    );
    // The quote in alice's reply row follows the edit when it is read again.
    const again = await alice.service.loadHistory({ hostId, room: 'lobby', limit: 50 });
    expect(again.messages.find((m) => m.id === reply.id)?.replyTo?.text).toContain('lighthouse');

    // Reactions: both react, counts and `mine`; bob takes his back.
    bob.service.react({ hostId, room: 'lobby', seq: first.seq, emoji: '👍', on: true });
    alice.service.react({ hostId, room: 'lobby', seq: first.seq, emoji: '👍', on: true });
    const both = await bob.events.waitFor(
      'message',
      shownAs(first.id, (m) => m.reactions?.[0]?.count === 2),
      WAIT,
    );
    expect(both.reactions).toEqual([
      { emoji: '👍', count: 2, mine: true, by: expect.arrayContaining(['alice', 'bob']) },
    ]);
    await alice.events.waitFor(
      'message',
      shownAs(first.id, (m) => m.reactions?.[0]?.count === 2),
      WAIT,
    );
    alice.events.reset();
    bob.service.react({ hostId, room: 'lobby', seq: first.seq, emoji: '👍', on: false });
    const one = await alice.events.waitFor(
      'message',
      shownAs(first.id, (m) => m.reactions?.[0]?.count === 1),
      WAIT,
    );
    expect(one.reactions).toEqual([{ emoji: '👍', count: 1, mine: true, by: ['alice'] }]);

    // Search finds the edited text (not the old one), and the jump window loads around it.
    const found = await alice.service.search({ query: 'lightho' });
    expect(found.results.map((r) => r.seq)).toEqual([first.seq]);
    expect(found.results[0]?.highlights.length).toBeGreaterThan(0);
    expect((await alice.service.search({ query: 'harbour' })).results).toEqual([]);
    const window = await alice.service.loadHistory({
      hostId,
      room: 'lobby',
      aroundSeq: first.seq,
      limit: 4,
    });
    expect(window.messages.some((m) => m.seq === first.seq)).toBe(true);

    // Bob deletes his own reply; alice (owner) deletes bob's other message; bob may not
    // delete alice's.
    expect(
      refusal(() => bob.service.deleteMessage({ hostId, room: 'lobby', seq: first.seq })),
    ).toBe('forbidden');
    bob.service.deleteMessage({ hostId, room: 'lobby', seq: reply.seq });
    const gone = await alice.events.waitFor(
      'message',
      shownAs(reply.id, (m) => m.deleted === true),
      WAIT,
    );
    expect(gone.text).toBe('');
    alice.service.deleteMessage({ hostId, room: 'lobby', seq: far.seq });
    await bob.events.waitFor(
      'message',
      shownAs(far.id, (m) => m.deleted === true),
      WAIT,
    );
    const bobPage = await bob.service.loadHistory({ hostId, room: 'lobby', limit: 50 });
    const texts = bobPage.messages.map((m) => m.text).join('\n');
    expect(texts).not.toContain('count me in');
    expect(texts).not.toContain('old thing');
    expect(bobPage.messages.filter((m) => m.deleted).map((m) => m.seq)).toEqual([
      reply.seq,
      far.seq,
    ]);
    expect((await bob.service.search({ query: 'count' })).results).toEqual([]);
    // In bob's file the tombstones hold nothing: no text, no reply target, no edits.
    await bob.service.close();
    const db = new DatabaseSync(join(bob.dataDir, HISTORY_FILE));
    const stored = db
      .prepare('SELECT text, meta, deleted FROM messages WHERE seq IN (?, ?) ORDER BY seq')
      .all(reply.seq, far.seq);
    db.close();
    expect(stored).toEqual([
      { text: '', meta: null, deleted: 1 },
      { text: '', meta: null, deleted: 1 },
    ]);
    // Edits, reactions and deletions never notified anyone, nor were they rows.
    expect(bob.events.of('notify').length).toBeLessThanOrEqual(1);
    expect(new Set(bobPage.messages.map((m) => m.id)).size).toBe(bobPage.messages.length);
    expect(bobPage.messages.length).toBe(3);
  }, 90_000);
});

describe('jumping far back', () => {
  it('loads the window around a message this install never held, from the host', async () => {
    const h = await startTestHost(cleanups, {
      rooms: ['lobby'],
      limits: { historyOnJoin: 5 },
    });
    const hostId = hostIdOf(h);
    const alice = await member(h, 'owner', 'alice');
    await ready(alice, false);
    const sent: { id: string; seq: number }[] = [];
    for (let i = 1; i <= 30; i++) sent.push(await say(alice, hostId, `line ${i}`));
    const target = sent[2];
    if (!target) throw new Error('no target');
    // Bob joins later: the host replays only the newest five; line 3 is not here.
    const bob = await member(h, 'member', 'bob');
    await ready(bob, false);
    const before = await bob.service.loadHistory({ hostId, room: 'lobby', limit: 5 });
    expect(before.messages.some((m) => m.seq === target.seq)).toBe(false);
    const reply = await say(alice, hostId, 'about line 3', target.seq);
    const quoted = await bob.events.waitFor('message', (m) => m.id === reply.id, WAIT);
    expect(quoted.replyTo).toMatchObject({ seq: target.seq, missing: true });
    const window = await bob.service.loadHistory({
      hostId,
      room: 'lobby',
      aroundSeq: target.seq,
      limit: 6,
    });
    expect(window.messages.map((m) => m.text)).toContain('line 3');
    expect(window.messages.find((m) => m.seq === target.seq)?.id).toBe(target.id);
  }, 60_000);
});

describe('mentions and the read position', () => {
  it('a mention notifies in a room muted to mentions; nothing else does there', async () => {
    const h = await startTestHost(cleanups, { rooms: ['lobby'] });
    const hostId = hostIdOf(h);
    const alice = await member(h, 'owner', 'alice');
    const bob = await member(h, 'member', 'bob');
    await Promise.all([ready(alice, false), ready(bob, false)]);
    await alice.service.setRoomMute({ hostId, room: 'lobby', mute: 'mentions' });
    alice.service.setActiveRoom({ hostId: null, room: null });
    alice.service.setWindowFocused(false);
    const plain = await say(bob, hostId, 'just chatting');
    await alice.events.waitFor('message', (m) => m.id === plain.id, WAIT);
    bob.service.react({ hostId, room: 'lobby', seq: plain.seq, emoji: '🎉', on: true });
    await alice.events.waitFor('message', (m) => m.id === plain.id && m.reactions !== undefined);
    expect(alice.events.of('notify')).toEqual([]);
    const named = await say(bob, hostId, 'hey @alice, look');
    await alice.events.waitFor('message', (m) => m.id === named.id && m.mentioned === true, WAIT);
    await alice.events.waitFor('notify', () => true, WAIT);
    expect(alice.events.of('notify')).toHaveLength(1);
    const unread = await alice.events.waitFor('unread', (u) => u.mentions?.['lobby'] === 1);
    expect(unread).toMatchObject({ total: 1, allHostsMentions: 1 });
    const lobby = alice.service.getSnapshot({}).hosts[0]?.rooms.find((r) => r.name === 'lobby');
    expect(lobby).toMatchObject({ unread: 2, unreadMentions: 1 });
  }, 60_000);

  it.each([
    { kind: 'plaintext', e2ee: false },
    { kind: 'end-to-end encrypted', e2ee: true },
  ])(
    "a second install's read position clears the first one's unread count ($kind)",
    async ({ e2ee }) => {
      const h = await startTestHost(cleanups, { rooms: ['lobby'], e2ee });
      const hostId = hostIdOf(h);
      const first = await member(h, 'owner', 'alice');
      // The second install: the same identity key, its own data folder.
      const secondDir = cleanups.tempDir('parley-app-');
      copyFileSync(join(first.dataDir, PLAIN_KEY_FILE), join(secondDir, PLAIN_KEY_FILE));
      const bob = await member(h, 'member', 'bob');
      await Promise.all([ready(first, e2ee), ready(bob, e2ee)]);
      first.service.setActiveRoom({ hostId: null, room: null });
      const second = await member(h, 'member', 'alice', secondDir);
      await ready(second, e2ee);
      if (e2ee) {
        // Both of alice's devices are in the group before anyone speaks.
        await bob.events.waitFor(
          'members',
          (m) => m.members.some((x) => x.nick === 'alice' && x.devices === 2),
          WAIT,
        );
      }
      expect(second.service.identity.key).toBe(first.service.identity.key);
      second.service.setActiveRoom({ hostId: null, room: null });

      for (const text of ['one', 'two', 'three']) await say(bob, hostId, text);
      await first.events.waitFor('unread', (u) => u.counts['lobby'] === 3, WAIT);
      const lobby = () =>
        first.service.getSnapshot({}).hosts[0]?.rooms.find((r) => r.name === 'lobby');
      expect(lobby()?.firstUnreadSeq).toBeDefined();

      // The second install shows the room in a focused window: its read goes out, the first
      // install's count and "New messages" line follow. A read is no row and no notification.
      first.events.reset();
      second.service.setWindowFocused(true);
      second.service.setActiveRoom({ hostId, room: 'lobby' });
      await first.events.waitFor('unread', (u) => u.counts['lobby'] === undefined, WAIT);
      expect(lobby()?.unread).toBe(0);
      expect(lobby()?.firstUnreadSeq).toBeUndefined();
      await sleep(200);
      const page = await first.service.loadHistory({ hostId, room: 'lobby', limit: 50 });
      expect(page.messages.map((m) => m.text)).toEqual(['one', 'two', 'three']);
    },
    60_000,
  );
});
