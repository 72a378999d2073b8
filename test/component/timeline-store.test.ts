import { describe, expect, it } from 'vitest';
import { TimelineStore } from '../../src-renderer/state/timeline.svelte.ts';
import { NOON, message } from './fixtures.ts';
import { fakePlatform } from './platform.ts';

const view = (entry: ReturnType<typeof message>) => {
  if (entry.kind !== 'message') throw new Error('not a message');
  return entry.message;
};

describe('TimelineStore', () => {
  it('shows a sent message at once, then marks it sent when the host acknowledges', async () => {
    const platform = fakePlatform();
    platform.answer('send', () => ({ ok: true, value: { id: 'out-1' } }));
    const store = new TimelineStore(platform.api, () => NOON);
    const stop = store.listen();
    const self = { nick: 'alice', fp: 'FP', key: 'K'.repeat(43) };

    expect(await store.send('lobby', 'hello', self)).toBeNull();
    const timeline = store.get('lobby');
    expect(timeline.entries).toHaveLength(1);
    expect(timeline.queued).toBe(1);

    platform.emit('messageStatus', {
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
    const store = new TimelineStore(platform.api, () => NOON);
    const stop = store.listen();
    platform.answer('send', async () => {
      platform.emit('messageStatus', { room: 'lobby', id: 'fast', status: 'sent', seq: 3 });
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
    const store = new TimelineStore(platform.api, () => NOON);
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
    const store = new TimelineStore(platform.api, () => NOON);
    const stop = store.listen();
    platform.emit('typing', { room: 'lobby', nick: 'bob', fp: 'BOB FP' });
    expect(store.get('lobby').typists.map((t) => t.nick)).toEqual(['bob']);
    platform.emit('message', view(message('bob', 'done typing', NOON)));
    expect(store.get('lobby').typists).toEqual([]);
    stop();
  });
});
