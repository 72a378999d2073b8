import { fireEvent, render, screen } from '@testing-library/svelte';
import { tick } from 'svelte';
import { describe, expect, it, vi } from 'vitest';
import Composer from '../../src-renderer/components/Composer.svelte';
import type { SlashAction } from '../../src-renderer/lib/slash-commands.ts';
import { Draft } from '../../src-renderer/state/drafts.svelte.ts';

function setup(
  props: {
    online?: boolean;
    onsend?: (text: string) => Promise<string | null>;
    oncommand?: (command: SlashAction) => Promise<string | null>;
  } = {},
) {
  const onsend = vi.fn(props.onsend ?? (async () => null));
  const oncommand = vi.fn(props.oncommand ?? (async () => null));
  const ontyping = vi.fn();
  render(Composer, { room: 'lobby', online: props.online ?? true, onsend, oncommand, ontyping });
  const box = screen.getByRole('textbox', { name: 'Message #lobby' }) as HTMLTextAreaElement;
  const type = async (value: string) => fireEvent.input(box, { target: { value } });
  return { box, onsend, oncommand, ontyping, type };
}

describe('Composer', () => {
  it('sends on Enter and clears the box', async () => {
    const { box, onsend, type } = setup();
    await type('hello there');
    await fireEvent.keyDown(box, { key: 'Enter' });
    expect(onsend).toHaveBeenCalledWith('hello there');
    await tick();
    expect(box.value).toBe('');
  });

  it('keeps Shift+Enter for a new line, and does not send while an IME composes', async () => {
    const { box, onsend, type } = setup();
    await type('line one');
    const shiftEnter = await fireEvent.keyDown(box, { key: 'Enter', shiftKey: true });
    expect(shiftEnter).toBe(true); // not prevented: the textarea inserts the newline
    await fireEvent.keyDown(box, { key: 'Enter', isComposing: true });
    expect(onsend).not.toHaveBeenCalled();
    await type('line one\nline two');
    await fireEvent.keyDown(box, { key: 'Enter' });
    expect(onsend).toHaveBeenCalledWith('line one\nline two');
  });

  it('sends nothing for an empty or blank message', async () => {
    const { box, onsend, type } = setup();
    await fireEvent.keyDown(box, { key: 'Enter' });
    await type('   \n ');
    await fireEvent.keyDown(box, { key: 'Enter' });
    expect(onsend).not.toHaveBeenCalled();
    expect((screen.getByRole('button', { name: 'Send' }) as HTMLButtonElement).disabled).toBe(true);
  });

  it('says messages are queued while offline, and still takes them', async () => {
    const { box, onsend, ontyping, type } = setup({ online: false });
    expect(screen.getByText(/You are offline\. Messages you send now are queued/)).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Queue message' })).toBeTruthy();
    expect(box.getAttribute('aria-describedby')).toContain('composer-hint');
    await type('for later');
    await fireEvent.keyDown(box, { key: 'Enter' });
    expect(onsend).toHaveBeenCalledWith('for later');
    expect(ontyping).not.toHaveBeenCalled(); // no typing notices to a host we cannot reach
  });

  it('gives the text back with the reason when sending fails', async () => {
    const { box, type } = setup({ onsend: async () => 'not in #lobby' });
    await type('important');
    await fireEvent.keyDown(box, { key: 'Enter' });
    await tick();
    await tick();
    expect(box.value).toBe('important');
    expect(screen.getByRole('alert').textContent).toContain('not in #lobby');
  });

  it('tells the host about typing, at most every few seconds', async () => {
    const { ontyping, type } = setup();
    await type('h');
    await type('he');
    await type('hel');
    expect(ontyping).toHaveBeenCalledTimes(1);
  });

  it('sends //x as /x and /me as an action text', async () => {
    const { box, onsend, oncommand, type } = setup();
    await type('//x');
    await fireEvent.keyDown(box, { key: 'Enter' });
    expect(onsend).toHaveBeenLastCalledWith('/x');
    await type('/me waves');
    await fireEvent.keyDown(box, { key: 'Enter' });
    expect(onsend).toHaveBeenLastCalledWith('/me waves');
    expect(oncommand).not.toHaveBeenCalled();
  });

  it('does not send an unknown command, keeps it, and says how to send it as text', async () => {
    const { box, onsend, type } = setup();
    await type('/shrug hi');
    await fireEvent.keyDown(box, { key: 'Enter' });
    await tick();
    expect(onsend).not.toHaveBeenCalled();
    expect(box.value).toBe('/shrug hi');
    expect(screen.getByRole('alert').textContent).toContain(
      'Unknown command /shrug — type //shrug to send it as text.',
    );
  });

  it('hands /nick, /join, /leave and /help to the screen, and clears the box when done', async () => {
    const { box, oncommand, type } = setup();
    await type('/nick zoë');
    await fireEvent.keyDown(box, { key: 'Enter' });
    expect(oncommand).toHaveBeenLastCalledWith({ kind: 'nick', nick: 'zoë' });
    await tick();
    expect(box.value).toBe('');
    await type('/join #random');
    await fireEvent.keyDown(box, { key: 'Enter' });
    expect(oncommand).toHaveBeenLastCalledWith({ kind: 'join', room: 'random' });
  });

  it('gives a command back with the reason when it fails', async () => {
    const { box, type } = setup({ oncommand: async () => 'That nickname is taken.' });
    await type('/nick bob');
    await fireEvent.keyDown(box, { key: 'Enter' });
    await tick();
    await tick();
    expect(box.value).toBe('/nick bob');
    expect(screen.getByRole('alert').textContent).toContain('That nickname is taken.');
  });

  it('offers the commands as a listbox while a command name is typed', async () => {
    const { box, type } = setup();
    expect(screen.queryByRole('listbox')).toBeNull();
    await type('/');
    const list = screen.getByRole('listbox', { name: 'Commands' });
    const options = screen.getAllByRole('option');
    expect(options.map((o) => o.textContent)).toEqual([
      expect.stringContaining('/nick NAME'),
      expect.stringContaining('/join ROOM'),
      expect.stringContaining('/leave'),
      expect.stringContaining('/me TEXT'),
      expect.stringContaining('/help'),
    ]);
    expect(box.getAttribute('aria-controls')).toBe(list.id);
    expect(box.getAttribute('aria-activedescendant')).toBe(options[0]!.id);
    await fireEvent.keyDown(box, { key: 'ArrowDown' });
    await fireEvent.keyDown(box, { key: 'ArrowDown' });
    expect(box.getAttribute('aria-activedescendant')).toBe(options[2]!.id);
    expect(options[2]!.getAttribute('aria-selected')).toBe('true');
    await fireEvent.keyDown(box, { key: 'ArrowUp' });
    await fireEvent.keyDown(box, { key: 'Tab' });
    expect(box.value).toBe('/join ');
    expect(screen.queryByRole('listbox')).toBeNull();
  });

  it('opens the command list on typing, not for a draft kept in its room nor on focus', async () => {
    const draftOf = (text: string): Draft => Object.assign(new Draft(), { text });
    const lobby = draftOf('/ni');
    const random = draftOf('');
    const props = { room: 'lobby', online: true, onsend: vi.fn(async () => null) };
    const { rerender } = render(Composer, { ...props, draft: lobby });
    const box = screen.getByRole('textbox', { name: 'Message #lobby' }) as HTMLTextAreaElement;
    expect(box.value).toBe('/ni');
    box.focus();
    await fireEvent.focus(box);
    expect(screen.queryByRole('listbox')).toBeNull();
    expect(box.getAttribute('aria-activedescendant')).toBeNull();
    // Typing in it opens the list; away to another room and back, the list stays shut.
    await fireEvent.input(box, { target: { value: '/n' } });
    expect(screen.getByRole('listbox', { name: 'Commands' })).toBeTruthy();
    await rerender({ ...props, room: 'random', draft: random });
    expect(screen.queryByRole('listbox')).toBeNull();
    await rerender({ ...props, room: 'lobby', draft: lobby });
    expect(box.value).toBe('/n');
    expect(screen.queryByRole('listbox')).toBeNull();
    await fireEvent.input(box, { target: { value: '/ni' } });
    expect(screen.getAllByRole('option').map((o) => o.textContent)).toEqual([
      expect.stringContaining('/nick NAME'),
    ]);
  });

  it('completes with Enter, runs a full argument-less command with Enter, and closes on Escape', async () => {
    const { box, oncommand, type } = setup();
    await type('/ni');
    await fireEvent.keyDown(box, { key: 'Enter' });
    expect(box.value).toBe('/nick ');
    expect(oncommand).not.toHaveBeenCalled();
    await type('/leave');
    await fireEvent.keyDown(box, { key: 'Enter' });
    expect(oncommand).toHaveBeenCalledWith({ kind: 'leave' });
    await type('/h');
    expect(screen.getByRole('listbox')).toBeTruthy();
    const escape = await fireEvent.keyDown(box, { key: 'Escape' });
    expect(escape).toBe(false); // taken: an Escape that closes the list closes nothing else
    expect(screen.queryByRole('listbox')).toBeNull();
  });

  it('leaves the keys to an IME that is composing, even with the command list open', async () => {
    const { box, type } = setup();
    await type('/n');
    await fireEvent.keyDown(box, { key: 'Enter', isComposing: true });
    await fireEvent.keyDown(box, { key: 'Tab', keyCode: 229 });
    expect(box.value).toBe('/n');
    expect(screen.getByRole('listbox')).toBeTruthy();
  });

  it('shows a byte counter near the 16 KiB limit and announces only when crossing it', async () => {
    const { box, onsend, type } = setup();
    const status = screen.getByRole('status');
    const counter = () => document.getElementById('composer-count')?.textContent?.trim();
    await type('a'.repeat(14_000));
    expect(counter()).toBeUndefined();
    await type('a'.repeat(15_800));
    expect(counter()).toBe('15\u00a0800 / 16\u00a0384 bytes');
    expect(status.textContent).toBe(
      'Close to the message limit: 15\u00a0800 of 16\u00a0384 bytes.',
    );
    await type('a'.repeat(15_900));
    expect(status.textContent).toContain('15\u00a0800'); // not re-announced on every key
    // Multi-byte text counts in UTF-8 bytes: 5 462 × 3 bytes = 16 386.
    await type('€'.repeat(5462));
    expect(counter()).toBe('16\u00a0386 / 16\u00a0384 bytes');
    expect(status.textContent).toContain('Too long to send');
    expect(box.getAttribute('aria-invalid')).toBe('true');
    await fireEvent.keyDown(box, { key: 'Enter' });
    expect(onsend).not.toHaveBeenCalled();
    expect(screen.getByRole('alert').textContent).toContain('Too long to send');
    await type('€'.repeat(5461));
    expect(status.textContent).toBe(
      'Short enough to send again: 16\u00a0383 of 16\u00a0384 bytes.',
    );
    await fireEvent.keyDown(box, { key: 'Enter' });
    expect(onsend).toHaveBeenCalledWith('€'.repeat(5461));
  });
});
