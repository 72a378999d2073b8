// Invite people opens on its first choice, so the keyboard starts where the work is (arrows
// change the role, Tab goes on to the expiry) rather than on the dialog's Close button; and a
// button that goes away when pressed (Make another link, Revoke) leaves focus somewhere.
import { fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, expect, it, vi } from 'vitest';
import InviteDialog from '../../src-renderer/components/InviteDialog.svelte';
import type { Role } from '../../src-renderer/lib/membership.ts';

afterEach(() => {
  document.body.innerHTML = '';
});

const open = (role: Role): void => {
  render(InviteDialog, {
    room: 'lobby',
    role,
    invites: [],
    oncreate: vi.fn(),
    onrevoke: vi.fn(),
    onclose: vi.fn(),
  });
};

it('focuses the chosen role when the inviter may grant more than one', () => {
  open('owner');
  expect(document.activeElement).toBe(screen.getByRole('radio', { name: 'Member' }));
});

it('focuses the chosen expiry when there is no role to choose', () => {
  open('member');
  expect(document.activeElement).toBe(screen.getByRole('radio', { name: '7 days' }));
});

it('goes back to the form’s first choice after “Make another link”', async () => {
  render(InviteDialog, {
    room: 'lobby',
    role: 'admin',
    invites: [],
    oncreate: async () => ({
      link: 'parley://127.0.0.1:7878/lobby?invite=AAAAAAAAAAAAAAAAAAAAAAAA#KEY',
      expiresAt: null,
      usesLeft: 1,
    }),
    onrevoke: vi.fn(),
    onclose: vi.fn(),
  });
  await fireEvent.click(screen.getByRole('button', { name: 'Create link' }));
  await fireEvent.click(await screen.findByRole('button', { name: 'Make another link' }));
  await vi.waitFor(() =>
    expect(document.activeElement).toBe(screen.getByRole('radio', { name: 'Member' })),
  );
});

it('keeps focus on a Revoke button (or Done) after revoking, not on nothing', async () => {
  const invite = (id: string) => ({
    id,
    room: 'lobby',
    role: 'member' as const,
    usesLeft: null,
    expiresAt: null,
    createdAt: 0,
  });
  let invites = [invite('inv1abcdefgh'), invite('inv2abcdefgh')];
  const { rerender } = render(InviteDialog, {
    room: 'lobby',
    role: 'admin',
    invites,
    oncreate: vi.fn(),
    onrevoke: async (id: string) => {
      invites = invites.filter((i) => i.id !== id);
      await rerender({ invites });
    },
    onclose: vi.fn(),
  });
  const revoke = () => screen.queryAllByRole('button', { name: /^Revoke/ });
  revoke()[1]!.focus();
  await fireEvent.click(revoke()[1]!);
  await vi.waitFor(() => expect(document.activeElement).toBe(revoke()[0]));
  await fireEvent.click(revoke()[0]!);
  await vi.waitFor(() =>
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Done' })),
  );
});
