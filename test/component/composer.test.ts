import { fireEvent, render, screen } from '@testing-library/svelte';
import { tick } from 'svelte';
import { describe, expect, it, vi } from 'vitest';
import Composer from '../../src-renderer/components/Composer.svelte';

function setup(
  props: { online?: boolean; onsend?: (text: string) => Promise<string | null> } = {},
) {
  const onsend = vi.fn(props.onsend ?? (async () => null));
  const ontyping = vi.fn();
  render(Composer, { room: 'lobby', online: props.online ?? true, onsend, ontyping });
  const box = screen.getByRole('textbox', { name: 'Message #lobby' }) as HTMLTextAreaElement;
  const type = async (value: string) => fireEvent.input(box, { target: { value } });
  return { box, onsend, ontyping, type };
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
});
