// A refused invite or a removal that leaves no room on screen: the notice takes the whole room
// area, and keyboard focus lands on its first action instead of on nothing.
import { render, screen, within } from '@testing-library/svelte';
import { tick } from 'svelte';
import { afterEach, expect, it, vi } from 'vitest';
import ChatScreen from '../../src-renderer/screens/ChatScreen.svelte';
import { AppState } from '../../src-renderer/state/app.svelte.ts';
import { HOST, hostState, snapshot } from './fixtures.ts';
import { fakePlatform } from './platform.ts';

afterEach(() => {
  document.body.innerHTML = '';
});

async function connectedWithoutRooms() {
  const fake = fakePlatform();
  fake.answer('getSnapshot', () => ({
    ok: true,
    value: snapshot([{ connection: hostState({ nick: 'dave' }), rooms: [] }]),
  }));
  fake.answer('getMembers', () => ({ ok: true, value: [] }));
  fake.answer('loadHistory', () => ({ ok: true, value: { messages: [], more: false } }));
  const app = new AppState(fake.api);
  const stop = app.start();
  await vi.waitFor(() => expect(app.ready).toBe(true));
  render(ChatScreen, { app, onsettings: () => {} });
  return { fake, stop };
}

it('puts focus on “Use another link” when a used-up invite leaves nothing else', async () => {
  const { fake, stop } = await connectedWithoutRooms();
  (document.activeElement as HTMLElement | null)?.blur();
  fake.emit('inviteRefused', {
    hostId: HOST,
    code: 'invite-used-up',
    message: 'this invite has been used up',
    room: 'lobby',
  });
  await tick();
  const notice = screen.getByRole('alert', { name: 'This invite link has been used up' });
  expect(document.activeElement).toBe(
    within(notice).getByRole('button', { name: 'Use another link' }),
  );
  stop();
});
