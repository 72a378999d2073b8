// Room names are chosen by people on the host: one that is also a property of every object
// (`constructor`) must be a room like any other, not a lookup that finds Object.prototype.
import { afterEach, expect, it, vi } from 'vitest';
import { AppState } from '../../src-renderer/state/app.svelte.ts';
import { HOST, hostState, roomView, snapshot } from './fixtures.ts';
import { fakePlatform } from './platform.ts';

afterEach(() => {
  document.body.innerHTML = '';
});

function platform(): ReturnType<typeof fakePlatform> {
  const fake = fakePlatform();
  fake.answer('getSnapshot', () => ({
    ok: true,
    value: snapshot([
      { connection: hostState(), rooms: [roomView('constructor'), roomView('lobby')] },
    ]),
  }));
  fake.answer('loadHistory', () => ({ ok: true, value: { messages: [], more: false } }));
  // Members not loaded yet: the list must be empty, not Object.prototype.constructor.
  fake.answer('getMembers', () => new Promise(() => {}));
  return fake;
}

it('keeps a room named “constructor” a room: no members yet is none, no unread is 0', async () => {
  const fake = platform();
  const app = new AppState(fake.api);
  const stop = app.start();
  await vi.waitFor(() => expect(app.ready).toBe(true));
  expect(app.members.of('constructor')).toEqual([]);
  fake.emit('unread', { hostId: HOST, counts: { lobby: 2 }, total: 2, allHosts: 2 });
  expect(app.rooms.sidebarOf(HOST).map((room) => [room.name, room.unread])).toEqual([
    ['constructor', 0],
    ['lobby', 2],
  ]);
  stop();
});
