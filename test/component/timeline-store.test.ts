import { describe, expect, it } from 'vitest';
import { HOST, NOON, message } from './fixtures.ts';
import { fakePlatform, timelineStoreOn } from './platform.ts';

const view = (entry: ReturnType<typeof message>) => {
  if (entry.kind !== 'message') throw new Error('not a message');
  return { ...entry.message, hostId: HOST };
};

describe('TimelineStore', () => {
  it('shows a sent message at once, then marks it sent when the host acknowledges', async () => {
    const platform = fakePlatform();
    platform.answer('send', () => ({ ok: true, value: { id: 'out-1' } }));
    const store = timelineStoreOn(platform);
    const stop = store.listen();
    const self = { nick: 'alice', fp: 'FP', key: 'K'.repeat(43) };

    expect(await store.send('lobby', 'hello', self)).toBeNull();
    const timeline = store.get('lobby');
    expect(timeline.entries).toHaveLength(1);
    expect(timeline.queued).toBe(1);

    platform.emit('messageStatus', {
      hostId: HOST,
      room: 'lobby',
      id: 'out-1',
      status: 'sent',
      seq: 7,
      ts: NOON,
    });
    const entry = timeline.entries[0]!;
    expect(entry.kind === 'message' && entry.message.status).toBe('sent');
    expect(timeline.queued).toBe(0);
    stop();
  });

  it('applies an acknowledgement that overtook the message it is about', async () => {
    const platform = fakePlatform();
    const store = timelineStoreOn(platform);
    const stop = store.listen();
    platform.answer('send', async () => {
      platform.emit('messageStatus', {
        hostId: HOST,
        room: 'lobby',
        id: 'fast',
        status: 'sent',
        seq: 3,
      });
      return { ok: true, value: { id: 'fast' } };
    });
    await store.send('lobby', 'quick', { nick: 'alice', fp: 'FP', key: 'K'.repeat(43) });
    const entry = store.get('lobby').entries[0]!;
    expect(entry.kind === 'message' && entry.message.status).toBe('sent');
    stop();
  });

  it('merges local history with live messages, once each, in host order', async () => {
    const platform = fakePlatform();
    const older = [message('bob', 'one', NOON), message('bob', 'two', NOON + 1)].map(view);
    const live = view(message('bob', 'three', NOON + 2));
    platform.answer('loadHistory', () => ({
      ok: true,
      value: { messages: [...older, live], more: true },
    }));
    const store = timelineStoreOn(platform);
    const stop = store.listen();
    platform.emit('message', live); // arrives before the history answer
    await store.open('lobby');
    const timeline = store.get('lobby');
    expect(timeline.entries.map((e) => e.kind === 'message' && e.message.text)).toEqual([
      'one',
      'two',
      'three',
    ]);
    expect(timeline.more).toBe(true);

    const oldest = view(message('bob', 'zero', NOON - 1));
    platform.answer('loadHistory', (input) => {
      expect(input).toMatchObject({ room: 'lobby', beforeSeq: older[0]!.seq });
      return { ok: true, value: { messages: [{ ...oldest, seq: 0 }], more: false } };
    });
    await store.loadOlder('lobby');
    expect(timeline.entries[0]!.kind === 'message' && timeline.entries[0]!.message.text).toBe(
      'zero',
    );
    expect(timeline.more).toBe(false);
    stop();
  });

  it('shows who is typing until their message arrives', () => {
    const platform = fakePlatform();
    const store = timelineStoreOn(platform);
    const stop = store.listen();
    platform.emit('typing', { hostId: HOST, room: 'lobby', nick: 'bob', fp: 'BOB FP' });
    expect(store.get('lobby').typists.map((t) => t.nick)).toEqual(['bob']);
    platform.emit('message', view(message('bob', 'done typing', NOON)));
    expect(store.get('lobby').typists).toEqual([]);
    stop();
  });

  it('puts room events between messages by seq, once each, from history and live', async () => {
    const platform = fakePlatform();
    const first = { ...view(message('bob', 'before', NOON)), seq: 10 };
    const after = { ...view(message('bob', 'after', NOON + 2)), seq: 12 };
    const alice = { nick: 'alice', key: 'A'.repeat(43), fp: 'ALICE FP' };
    const bob = { nick: 'bob', key: 'B'.repeat(43), fp: 'BOB FP' };
    const removed = {
      hostId: HOST,
      room: 'lobby',
      seq: 11,
      ts: NOON + 1,
      action: 'removed' as const,
      actor: alice,
      target: bob,
    };
    platform.answer('loadHistory', () => ({
      ok: true,
      value: { messages: [first, after], events: [{ ...removed, history: true }], more: false },
    }));
    const store = timelineStoreOn(platform);
    const stop = store.listen();
    platform.emit('roomEvent', removed); // live, before the history answer
    await store.open('lobby');
    const timeline = store.get('lobby');
    expect(timeline.entries.map((e) => (e.kind === 'message' ? e.message.text : e.kind))).toEqual([
      'before',
      'event',
      'after',
    ]);

    // "carol joined" already says she is here: no "carol came online" line under it.
    const carol = { nick: 'carol', key: 'C'.repeat(43), fp: 'CAROL FP' };
    platform.emit('roomEvent', {
      hostId: HOST,
      room: 'lobby',
      seq: 13,
      ts: NOON + 3,
      action: 'joined',
      actor: carol,
    });
    platform.emit('presence', {
      hostId: HOST,
      room: 'lobby',
      event: 'joined',
      ...carol,
      ts: NOON + 3,
    });
    expect(timeline.entries.map((e) => e.kind)).toEqual(['message', 'event', 'message', 'event']);
    stop();
  });

  it('keeps two members’ messages apart when they use the same id', () => {
    const platform = fakePlatform();
    const store = timelineStoreOn(platform);
    const stop = store.listen();
    // Ids are unique per sender only: mallory reusing bob's id must not replace bob's words.
    const bobs = view(message('bob', 'the meeting is at 8', NOON, { id: 'same', seq: 1 }));
    const mallorys = view(
      message('mallory', 'the meeting is cancelled', NOON + 1, { id: 'same', seq: 2 }),
    );
    platform.emit('message', bobs);
    platform.emit('message', mallorys);
    const texts = store
      .get('lobby')
      .entries.map((e) => (e.kind === 'message' ? `${e.message.from}: ${e.message.text}` : ''));
    expect(texts).toEqual(['bob: the meeting is at 8', 'mallory: the meeting is cancelled']);
    // And a status about our own message of that id touches neither of theirs.
    platform.emit('messageStatus', { hostId: HOST, room: 'lobby', id: 'same', status: 'failed' });
    expect(
      store.get('lobby').entries.every((e) => e.kind !== 'message' || e.message.status === 'sent'),
    ).toBe(true);
    stop();
  });
});
