import { fireEvent, render, screen } from '@testing-library/svelte';
import { tick } from 'svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import HostKeyChangedDialog from '../../src-renderer/components/HostKeyChangedDialog.svelte';
import TrustDialog from '../../src-renderer/components/TrustDialog.svelte';

const PRINT = 'AAAA BBBB CCCC DDDD EEEE FFFF GGGG HHHH';
const OTHER = 'AAAA BBBB XXXX DDDD EEEE FFFF GGGG ZZZZ';

afterEach(() => {
  document.body.innerHTML = '';
});

describe('TrustDialog (first contact)', () => {
  const open = () => {
    const onanswer = vi.fn();
    render(TrustDialog, { host: 'chat.example.org', port: 7878, fingerprint: PRINT, onanswer });
    return { onanswer, dialog: screen.getByRole('dialog') };
  };

  it('shows the fingerprint in groups and focuses Cancel, the safe answer', () => {
    const { dialog } = open();
    expect(dialog.getAttribute('aria-modal')).toBe('true');
    expect(screen.getByRole('heading', { name: 'Is this really chat.example.org:7878?' })).toBe(
      document.getElementById(dialog.getAttribute('aria-labelledby')!),
    );
    expect(screen.getByRole('group', { name: `Host fingerprint: ${PRINT}` })).toBeTruthy();
    expect(screen.getByText('GGGG')).toBeTruthy();
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Cancel' }));
  });

  it('answers no on Escape and on Cancel, yes only on the trust button', async () => {
    const { onanswer, dialog } = open();
    await fireEvent.keyDown(dialog, { key: 'Escape' });
    expect(onanswer).toHaveBeenLastCalledWith(false);
    await fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(onanswer).toHaveBeenLastCalledWith(false);
    await fireEvent.click(screen.getByRole('button', { name: /trust and connect/ }));
    expect(onanswer).toHaveBeenLastCalledWith(true);
  });

  it('keeps Tab inside the dialog', async () => {
    const { dialog } = open();
    const cancel = screen.getByRole('button', { name: 'Cancel' });
    const trust = screen.getByRole('button', { name: /trust and connect/ });
    trust.focus();
    await fireEvent.keyDown(dialog, { key: 'Tab' });
    expect(document.activeElement).toBe(cancel);
    await fireEvent.keyDown(dialog, { key: 'Tab', shiftKey: true });
    expect(document.activeElement).toBe(trust);
  });

  it('gives focus back to where it was when it closes', async () => {
    const opener = document.createElement('button');
    opener.textContent = 'Connect';
    document.body.append(opener);
    opener.focus();
    const { unmount } = render(TrustDialog, {
      host: 'h',
      port: 1,
      fingerprint: PRINT,
      onanswer: () => {},
    });
    expect(document.activeElement?.textContent?.trim()).toBe('Cancel');
    unmount();
    await tick();
    await Promise.resolve();
    expect(document.activeElement).toBe(opener);
  });
});

describe('HostKeyChangedDialog', () => {
  const open = () => {
    const onclose = vi.fn();
    const onnewinvite = vi.fn();
    render(HostKeyChangedDialog, {
      host: '::1',
      port: 7878,
      expectedFingerprint: PRINT,
      actualFingerprint: OTHER,
      onclose,
      onnewinvite,
    });
    return { onclose, onnewinvite, dialog: screen.getByRole('alertdialog') };
  };

  it('is an alert dialog that explains itself, with Don’t connect focused', () => {
    const { dialog } = open();
    expect(dialog.getAttribute('aria-labelledby')).toBeTruthy();
    expect(dialog.getAttribute('aria-describedby')).toBeTruthy();
    expect(screen.getByText('[::1]:7878')).toBeTruthy();
    expect(screen.getByText(/stopped before sending anything/)).toBeTruthy();
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Don’t connect' }));
  });

  it('shows both fingerprints and marks the groups that differ', () => {
    open();
    expect(screen.getByRole('group', { name: `Fingerprint you trusted: ${PRINT}` })).toBeTruthy();
    const now = screen.getByRole('group', { name: `Fingerprint presented now: ${OTHER}` });
    const differing = Array.from(now.querySelectorAll('.differs')).map((g) => g.textContent);
    expect(differing).toEqual(['XXXX', 'ZZZZ']);
  });

  it('does not connect on Escape or Enter', async () => {
    const { onclose, onnewinvite, dialog } = open();
    await fireEvent.keyDown(dialog, { key: 'Escape' });
    expect(onclose).toHaveBeenCalledTimes(1);
    (document.activeElement as HTMLButtonElement).click(); // Enter on the focused button
    expect(onclose).toHaveBeenCalledTimes(2);
    expect(onnewinvite).not.toHaveBeenCalled();
  });
});
