// Where the focus goes after acting on a message (#17 review): the person was typing in the
// message box, edited their last message with ↑, reacted or opened the picker with the mouse —
// afterwards typing goes on in the message box. From a focused message (the keyboard), the
// focus comes back to that message as before.
import { fireEvent, screen, within } from '@testing-library/svelte';
import { tick } from 'svelte';
import { afterEach, describe, expect, it } from 'vitest';
import { NOON, message } from './fixtures.ts';
import { article, renderTimeline } from './timeline-render.ts';

const MIN = 60_000;

/** A stand-in for the composer's message box, outside the timeline, holding the focus. */
function messageBox(): HTMLTextAreaElement {
  const box = document.createElement('textarea');
  box.setAttribute('aria-label', 'Message #lobby');
  document.body.append(box);
  box.focus();
  return box;
}
afterEach(() => {
  for (const box of document.querySelectorAll('textarea[aria-label="Message #lobby"]'))
    box.remove();
});

/** Microtasks and Svelte's updates after a save or cancel. */
async function settled(): Promise<void> {
  for (let i = 0; i < 4; i++) await tick();
}

describe('focus after acting on a message', () => {
  it('goes back to the message box after ↑ then Enter or Escape in the editor', async () => {
    const { component, actions } = renderTimeline([message('alice', 'teh meeting', NOON)]);
    const box = messageBox();
    expect((component as unknown as { editLast(): boolean }).editLast()).toBe(true);
    await settled();
    const editor = screen.getByRole('textbox', { name: 'Edit message' });
    expect(document.activeElement).toBe(editor);
    await fireEvent.input(editor, { target: { value: 'the meeting' } });
    await fireEvent.keyDown(editor, { key: 'Enter' });
    await settled();
    expect(actions.edit).toHaveBeenCalled();
    expect(document.activeElement).toBe(box);

    (component as unknown as { editLast(): boolean }).editLast();
    await settled();
    await fireEvent.keyDown(screen.getByRole('textbox', { name: 'Edit message' }), {
      key: 'Escape',
    });
    await settled();
    expect(document.activeElement).toBe(box);
  });

  it('comes back to the message when the edit began on the focused message (E)', async () => {
    renderTimeline([message('alice', 'mine', NOON)]);
    messageBox();
    const row = article('mine');
    row.focus();
    await fireEvent.keyDown(row, { key: 'e' });
    await settled();
    await fireEvent.keyDown(screen.getByRole('textbox', { name: 'Edit message' }), {
      key: 'Escape',
    });
    await settled();
    expect(document.activeElement).toBe(article('mine'));
  });

  it('a click on a quick reaction or a chip does not take the focus from the message box', async () => {
    renderTimeline([
      message('bob', 'from bob', NOON, {
        reactions: [{ emoji: '👍', count: 1, mine: false, by: ['carol'] }],
      }),
    ]);
    messageBox();
    await fireEvent.mouseEnter(article('from bob'));
    const bar = within(article('from bob')).getByRole('toolbar', { name: 'Message actions' });
    // fireEvent answers false when the default (the button taking the focus) was prevented.
    expect(
      await fireEvent.mouseDown(within(bar).getByRole('button', { name: 'React with thumbs up' })),
    ).toBe(false);
    expect(
      await fireEvent.mouseDown(
        within(article('from bob')).getByRole('button', { name: /^thumbs up: 1/ }),
      ),
    ).toBe(false);
  });

  it('goes back to the message box after a reaction picked in the picker opened by a click', async () => {
    const { actions } = renderTimeline([message('bob', 'from bob', NOON + MIN)]);
    const box = messageBox();
    await fireEvent.mouseEnter(article('from bob'));
    // The click leaves the focus in the box (mousedown prevented), then opens the picker.
    await fireEvent.click(screen.getByRole('button', { name: 'Add reaction' }));
    const search = screen.getByRole('combobox', { name: 'Search emoji' });
    await fireEvent.input(search, { target: { value: 'tada' } });
    await fireEvent.keyDown(search, { key: 'Enter' });
    await settled();
    expect(actions.react).toHaveBeenCalled();
    expect(document.activeElement).toBe(box);
  });
});
