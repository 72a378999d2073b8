// The browser bridge (tools/web-bridge: `npm run dev:web` and the Chromium e2e tests) carries
// the conversation's requests and events (#17) like any other: the page's requests reach the
// service through dispatchRequest, and the edited message, the unread mentions and the search
// results come back in the contract's shapes.
import { describe, expect, it } from 'vitest';
import { cleanupsAfterEach, until } from '../../support/lifecycle.ts';
import { openBridge } from './bridge-harness.ts';
import { hostIdOf, startTestHost } from './harness.ts';

const cleanups = cleanupsAfterEach();

describe('the browser bridge and the conversation', () => {
  it('passes replies, edits, reactions and search through, and their events back', async () => {
    const h = await startTestHost(cleanups, { rooms: ['lobby'] });
    const hostId = hostIdOf(h);
    const { backend, seen, ok } = await openBridge(cleanups, 'parley-bridge-');
    await ok('connect', { invite: h.invite('lobby', { role: 'owner' }), nick: 'alice' });
    await until(
      () =>
        seen.some(
          (e) =>
            e.name === 'rooms' &&
            (e.payload as { rooms: { name: string; joined: boolean }[] }).rooms.some(
              (r) => r.name === 'lobby' && r.joined,
            ),
        ),
      'lobby joined',
    );
    const first = await ok('send', { hostId, room: 'lobby', text: 'the first draft' });
    const seqOf = (id: unknown) =>
      seen
        .filter((e) => e.name === 'messageStatus')
        .map((e) => e.payload as { id: string; seq?: number })
        .find((s) => s.id === id)?.seq;
    await until(() => seqOf(first['id']) !== undefined, 'acknowledged');
    const seq = seqOf(first['id']);
    await ok('send', { hostId, room: 'lobby', text: 'answering', replyTo: seq });
    await ok('editMessage', { hostId, room: 'lobby', seq, text: 'the second draft' });
    await ok('react', { hostId, room: 'lobby', seq, emoji: '👀', on: true });
    const shown = () =>
      seen
        .filter((e) => e.name === 'message')
        .map(
          (e) => e.payload as { id: string; text: string; edited?: boolean; reactions?: unknown[] },
        )
        .filter((m) => m.id === first['id'])
        .at(-1);
    await until(() => shown()?.edited === true && shown()?.reactions?.length === 1, 'edited');
    expect(shown()?.text).toBe('the second draft');
    const found = await ok('search', { query: 'second' });
    expect(found['results']).toMatchObject([{ hostId, room: 'lobby', seq }]);
    const around = await ok('loadHistory', { hostId, room: 'lobby', aroundSeq: seq, limit: 10 });
    expect((around['messages'] as { replyTo?: { text: string } }[])[1]?.replyTo?.text).toBe(
      'the second draft',
    );
    // A refusal comes back typed, as the page sees it.
    const refused = await backend.request('deleteMessage', { hostId, room: 'lobby', seq: 999 });
    expect(refused).toMatchObject({ ok: false, error: { code: 'not-found' } });
  }, 30_000);
});
