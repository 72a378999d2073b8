// #17 search panel and the stores behind jumps, replies and the "New messages" line.
import { fireEvent, render, screen } from '@testing-library/svelte';
import { tick } from 'svelte';
import { describe, expect, it, vi } from 'vitest';
import SearchPanel from '../../src-renderer/components/SearchPanel.svelte';
import type { SearchResult } from '../../src-shared/ipc/domain.ts';
import { RoomsStore } from '../../src-renderer/state/rooms.svelte.ts';
import { SearchStore, snippetParts } from '../../src-renderer/state/search.svelte.ts';
import { HOST, NOON, message, roomView } from './fixtures.ts';
import { fakePlatform, timelineStoreOn } from './platform.ts';

const result = (seq: number, snippet: string, highlights: [number, number][]): SearchResult => ({
  hostId: HOST,
  room: 'lobby',
  seq,
  id: `id${seq}`,
  from: 'bob',
  ts: NOON,
  snippet,
  highlights,
});

describe('search', () => {
  it('shows results with their room, sender and highlighted words; Enter jumps', async () => {
    vi.useFakeTimers();
    try {
      const platform = fakePlatform();
      platform.answer('search', (input) => {
        expect(input).toEqual({ query: 'deploy', limit: 50, hostId: HOST, room: 'lobby' });
        return {
          ok: true,
          value: {
            results: [
              result(9, 'we deploy on friday', [[3, 9]]),
              result(4, 'deployed it', [[0, 6]]),
            ],
          },
        };
      });
      const search = new SearchStore(platform.api);
      search.show({ kind: 'room', hostId: HOST, room: 'lobby' });
      const onjump = vi.fn();
      render(SearchPanel, {
        search,
        here: { hostId: HOST, room: 'lobby', title: '#lobby' },
        roomTitle: () => '#lobby',
        now: NOON,
        onjump,
        onclose: vi.fn(),
      });
      const box = screen.getByRole('combobox', { name: 'Search messages' });
      await fireEvent.input(box, { target: { value: 'deploy' } });
      expect(platform.calls.filter((c) => c.name === 'search')).toHaveLength(0);
      await vi.advanceTimersByTimeAsync(200);
      await tick();
      const options = screen.getAllByRole('option');
      expect(options).toHaveLength(2);
      expect(options[0]!.querySelector('mark')?.textContent).toBe('deploy');
      expect(options[0]!.textContent).toContain('#lobby');
      expect(options[0]!.textContent).toContain('bob');
      expect(screen.getByRole('status').textContent).toContain('2 messages');
      await fireEvent.keyDown(box, { key: 'ArrowDown' });
      expect(options[1]!.getAttribute('aria-selected')).toBe('true');
      await fireEvent.keyDown(box, { key: 'Enter' });
      expect(onjump).toHaveBeenCalledWith(expect.objectContaining({ seq: 4 }));
    } finally {
      vi.useRealTimers();
    }
  });

  it('drops an answer to an older query that arrives late', async () => {
    const platform = fakePlatform();
    let release: (() => void) | undefined;
    platform.answer('search', (input) => {
      const query = (input as { query: string }).query;
      if (query === 'slow') {
        return new Promise((done) => {
          release = () => done({ ok: true, value: { results: [result(1, 'slow', [[0, 4]])] } });
        });
      }
      return { ok: true, value: { results: [] } };
    });
    const search = new SearchStore(platform.api);
    search.query = 'slow';
    search.run();
    search.query = 'fast';
    search.run();
    await Promise.resolve();
    release?.();
    await new Promise((done) => setTimeout(done, 0));
    expect(search.answered).toBe('fast');
    expect(search.results).toEqual([]);
  });

  it('cuts a snippet at its highlights', () => {
    expect(snippetParts('a bc d', [[2, 4]])).toEqual([
      { text: 'a ', mark: false },
      { text: 'bc', mark: true },
      { text: ' d', mark: false },
    ]);
    // Out of range or overlapping highlights are ignored, never thrown on.
    expect(
      snippetParts('ab', [
        [0, 9],
        [1, 2],
        [0, 1],
      ]),
    ).toEqual([
      { text: 'a', mark: true },
      { text: 'b', mark: true },
    ]);
  });
});

describe('jumping to a message far back', () => {
  const page = (from: number, to: number) =>
    Array.from({ length: to - from + 1 }, (_, i) => {
      const entry = message('bob', `m${from + i}`, NOON + i, { seq: from + i, id: `x${from + i}` });
      return entry.kind === 'message' ? entry.message : never();
    });
  const never = (): never => {
    throw new Error('not a message');
  };

  it('shows the stretch around it alone, holds live messages back, and comes back to the newest', async () => {
    const platform = fakePlatform();
    platform.answer('loadHistory', (input) => {
      const { aroundSeq } = input as { aroundSeq?: number };
      if (aroundSeq !== undefined) {
        return { ok: true, value: { messages: page(aroundSeq - 2, aroundSeq + 2), more: true } };
      }
      return { ok: true, value: { messages: page(900, 910), more: true } };
    });
    const store = timelineStoreOn(platform);
    const stop = store.listen();
    await store.open('lobby');
    const timeline = store.get('lobby');
    expect(timeline.has(905)).toBe(true);
    expect(await store.reveal(HOST, 'lobby', 905)).toBe(true);
    expect(platform.calls.filter((c) => c.name === 'loadHistory')).toHaveLength(1);

    expect(await store.reveal(HOST, 'lobby', 50)).toBe(true);
    expect(timeline.newer).toBe(true);
    expect(timeline.has(905)).toBe(false); // no gap: only the stretch around 50
    const live = message('bob', 'live', NOON, { seq: 911, id: 'live' });
    platform.emit('message', {
      ...(live.kind === 'message' ? live.message : never()),
      hostId: HOST,
    });
    expect(timeline.has(911)).toBe(false);

    await store.loadLatest('lobby');
    expect(timeline.newer).toBe(false);
    expect(timeline.has(910)).toBe(true);
    expect(timeline.has(50)).toBe(false);
    stop();
  });

  it('sends a reply with the seq it answers and shows it quoted at once', async () => {
    const platform = fakePlatform();
    platform.answer('send', () => ({ ok: true, value: { id: 'r1' } }));
    const store = timelineStoreOn(platform);
    await store.send(
      'lobby',
      'yes',
      { nick: 'alice', fp: 'F', key: 'K'.repeat(43) },
      {
        seq: 12,
        from: 'bob',
        text: 'lunch?',
      },
    );
    expect(platform.calls.find((c) => c.name === 'send')?.input).toEqual({
      hostId: HOST,
      room: 'lobby',
      text: 'yes',
      replyTo: 12,
    });
    const entry = store.get('lobby').entries[0];
    expect(entry?.kind === 'message' && entry.message.replyTo).toEqual({
      seq: 12,
      from: 'bob',
      text: 'lunch?',
    });
  });
});

describe('the "New messages" line', () => {
  it('follows reads made by another install while the window is hidden', async () => {
    const platform = fakePlatform();
    const rooms = new RoomsStore(platform.api, () => HOST);
    const stop = rooms.listen();
    rooms.hydrate(HOST, [roomView('lobby'), roomView('random', { unread: 2, firstUnreadSeq: 40 })]);
    await rooms.select('lobby');
    rooms.setVisible(false);
    // Messages arrive while hidden: the line goes above the first.
    platform.emit('rooms', {
      hostId: HOST,
      rooms: [roomView('lobby', { unread: 3, firstUnreadSeq: 20 }), roomView('random')],
    });
    expect(rooms.firstUnread('lobby')).toBe(20);
    // Read on another install, up to seq 21: the line moves down.
    platform.emit('rooms', {
      hostId: HOST,
      rooms: [roomView('lobby', { unread: 1, firstUnreadSeq: 22 }), roomView('random')],
    });
    expect(rooms.firstUnread('lobby')).toBe(22);
    // Read to the end there: no line.
    platform.emit('unread', { hostId: HOST, counts: {}, total: 0, allHosts: 0 });
    expect(rooms.firstUnread('lobby')).toBeUndefined();
    stop();
  });

  it('drops a room’s line when its unread count goes to 0 elsewhere', async () => {
    const platform = fakePlatform();
    const rooms = new RoomsStore(platform.api, () => HOST);
    const stop = rooms.listen();
    rooms.hydrate(HOST, [roomView('lobby'), roomView('random', { unread: 2, firstUnreadSeq: 40 })]);
    await rooms.select('lobby');
    platform.emit('unread', { hostId: HOST, counts: { random: 0 }, total: 0, allHosts: 0 });
    await rooms.select('random');
    expect(rooms.firstUnread('random')).toBeUndefined();
    stop();
  });
});

describe('updates to a message (#17) are not news', () => {
  it('does not count an edited or reacted message again, nor one far back as a row', async () => {
    const platform = fakePlatform();
    platform.answer('loadHistory', () => ({
      ok: true,
      value: {
        messages: [50, 51].map((seq) => {
          const e = message('bob', `m${seq}`, NOON, { seq, id: `h${seq}` });
          if (e.kind !== 'message') throw new Error();
          return e.message;
        }),
        more: true,
      },
    }));
    const store = timelineStoreOn(platform);
    const stop = store.listen();
    await store.open('lobby');
    const live = message('bob', 'new', NOON, { seq: 60, id: 'n1' });
    if (live.kind !== 'message') throw new Error();
    platform.emit('message', { ...live.message, hostId: HOST });
    expect(store.lastIncoming?.text).toBe('new');
    store.lastIncoming = null;
    platform.emit('message', { ...live.message, hostId: HOST, text: 'new!', edited: true });
    expect(store.lastIncoming).toBeNull();
    const entries = store.get('lobby').entries;
    const last = entries.at(-1);
    expect(last?.kind === 'message' && last.message.text).toBe('new!');
    // A reaction to seq 3, far above what is loaded: no row above a gap.
    const old = message('bob', 'old', NOON, { seq: 3, id: 'o3', reactions: [] });
    if (old.kind !== 'message') throw new Error();
    platform.emit('message', { ...old.message, hostId: HOST });
    expect(store.get('lobby').has(3)).toBe(false);
    stop();
  });
});
