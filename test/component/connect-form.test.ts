// The connect form: an invite found inside pasted text, errors that belong to the last try
// only, an empty submit that says what is missing, and a placeholder that is not a value.
import { fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';
import HostKeyChangedDialog from '../../src-renderer/components/HostKeyChangedDialog.svelte';
import ConnectScreen from '../../src-renderer/screens/ConnectScreen.svelte';
import { ConnectionStore } from '../../src-renderer/state/connection.svelte.ts';
import { formatInvite } from '../../src-shared/invite.ts';
import { fakePlatform } from './platform.ts';

afterEach(() => {
  document.body.innerHTML = '';
});

const invite = formatInvite({
  host: '127.0.0.1',
  port: 7878,
  room: 'lobby',
  hostKey: new Uint8Array(32).fill(9),
  token: 'C'.repeat(24),
});

function form() {
  const fake = fakePlatform();
  fake.answer('connect', () => ({
    ok: false,
    error: { code: 'refused', message: 'the host is full' },
  }));
  const connection = new ConnectionStore(fake.api);
  render(ConnectScreen, { connection });
  const connects = () => fake.calls.filter((c) => c.name === 'connect').map((c) => c.input);
  return { fake, connection, connects };
}

describe('ConnectScreen', () => {
  it('connects with the invite found in a pasted message', async () => {
    const { connects } = form();
    await fireEvent.input(screen.getByRole('textbox', { name: 'Invite link' }), {
      target: { value: `Join us: ${invite} see you there` },
    });
    expect(screen.queryByText(/invite link looks like/i)).toBeNull();
    await fireEvent.input(screen.getByLabelText('Your nickname'), { target: { value: 'bob' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Connect' }));
    expect(connects()).toEqual([{ invite, nick: 'bob' }]);
  });

  it('says what an invite link looks like, as a sentence, when the text has none', async () => {
    form();
    await fireEvent.input(screen.getByRole('textbox', { name: 'Invite link' }), {
      target: { value: 'hello there, no link here' },
    });
    expect(screen.getByText(/invite link looks like/i).textContent).toMatch(
      /^An invite link looks like parley:\/\/host:port\/room/,
    );
  });

  it('keeps only the link when a message with one is pasted', async () => {
    form();
    const field = screen.getByRole('textbox', { name: 'Invite link' }) as HTMLTextAreaElement;
    const paste = new Event('paste', { bubbles: true, cancelable: true });
    Object.assign(paste, {
      clipboardData: { getData: () => `Hi! Join us: ${invite}\nsee you there` },
    });
    field.dispatchEvent(paste);
    await Promise.resolve();
    expect(paste.defaultPrevented).toBe(true);
    await new Promise((resolve) => setTimeout(resolve));
    expect(field.value).toBe(invite);
  });

  it('says what is missing on an empty submit, and clears the last error', async () => {
    const { connection, connects } = form();
    connection.error = 'Could not connect: the host is full';
    await fireEvent.input(screen.getByLabelText('Your nickname'), { target: { value: 'bob' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Connect' }));
    expect(connects()).toEqual([]);
    expect(screen.queryByText(/the host is full/)).toBeNull();
    const field = screen.getByRole('textbox', { name: 'Invite link' });
    expect(field.getAttribute('aria-invalid')).toBe('true');
    expect(screen.getByText(/Paste an invite link here first/)).toBeTruthy();
    expect(document.activeElement).toBe(field);

    await fireEvent.click(screen.getByRole('radio', { name: /Host address/ }));
    await fireEvent.click(screen.getByRole('button', { name: 'Connect' }));
    expect(screen.getByText('Type the host’s name or address.')).toBeTruthy();
    expect(document.activeElement).toBe(screen.getByLabelText('Host'));
  });

  it('shows a failed connect’s reason until the next submit', async () => {
    const { connects } = form();
    await fireEvent.input(screen.getByRole('textbox', { name: 'Invite link' }), {
      target: { value: invite },
    });
    await fireEvent.input(screen.getByLabelText('Your nickname'), { target: { value: 'bob' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Connect' }));
    expect((await screen.findByRole('alert')).textContent).toContain('the host is full');
    await fireEvent.input(screen.getByRole('textbox', { name: 'Invite link' }), {
      target: { value: '' },
    });
    await fireEvent.click(screen.getByRole('button', { name: 'Connect' }));
    expect(screen.queryByRole('alert')).toBeNull();
    expect(connects()).toHaveLength(1);
  });

  it('fills in the last nickname once, and lets the user empty it', async () => {
    const fake = fakePlatform();
    const connection = new ConnectionStore(fake.api);
    connection.recentHosts = [
      {
        host: '127.0.0.1',
        port: 7878,
        nick: 'carol',
        room: 'lobby',
        fingerprint: 'FP',
        lastUsed: 0,
      },
    ];
    render(ConnectScreen, { connection });
    const nick = screen.getByLabelText('Your nickname') as HTMLInputElement;
    expect(nick.value).toBe('carol');
    await fireEvent.input(nick, { target: { value: '' } });
    expect(nick.value).toBe('');
  });

  it('connects to a recent host with the nickname its row shows, unless one was typed', async () => {
    const fake = fakePlatform();
    fake.answer('connect', () => new Promise(() => {}));
    const connection = new ConnectionStore(fake.api);
    const recent = { room: 'lobby', fingerprint: 'FP', lastUsed: 0 };
    connection.recentHosts = [
      { host: '127.0.0.1', port: 7001, nick: 'carol', ...recent },
      { host: '127.0.0.1', port: 7002, nick: 'caroline_long', ...recent },
    ];
    render(ConnectScreen, { connection });
    // Pre-filled with the first host's nickname: the second keeps its own.
    await fireEvent.click(screen.getByRole('button', { name: /127\.0\.0\.1:7002/ }));
    expect(fake.calls.find((c) => c.name === 'connect')?.input).toEqual({
      host: '127.0.0.1',
      port: 7002,
      nick: 'caroline_long',
    });
  });

  it('uses a typed nickname for a recent host', async () => {
    const fake = fakePlatform();
    fake.answer('connect', () => new Promise(() => {}));
    const connection = new ConnectionStore(fake.api);
    connection.recentHosts = [
      {
        host: '127.0.0.1',
        port: 7002,
        nick: 'carol',
        room: 'lobby',
        fingerprint: 'FP',
        lastUsed: 0,
      },
    ];
    render(ConnectScreen, { connection });
    await fireEvent.input(screen.getByLabelText('Your nickname'), { target: { value: 'cc' } });
    await fireEvent.click(screen.getByRole('button', { name: /127\.0\.0\.1:7002/ }));
    expect(fake.calls.find((c) => c.name === 'connect')?.input).toMatchObject({ nick: 'cc' });
  });

  it('has a nickname placeholder that does not read as a filled-in name', () => {
    form();
    const nick = screen.getByLabelText('Your nickname') as HTMLInputElement;
    expect(nick.value).toBe('');
    expect(nick.placeholder).toBe('Your name in chat');
  });
});

describe('HostKeyChangedDialog', () => {
  const props = {
    host: '127.0.0.1',
    port: 7878,
    expectedFingerprint: 'AAAA BBBB CCCC DDDD EEEE FFFF GGGG HHHH',
    actualFingerprint: 'ZZZZ BBBB CCCC DDDD EEEE FFFF GGGG HHHH',
    onclose: () => {},
    onnewinvite: () => {},
  };

  it('says an invite that does not match is the invite’s problem, not a changed key', () => {
    render(HostKeyChangedDialog, { ...props, expectedFrom: 'invite' });
    const dialog = screen.getByRole('alertdialog', {
      name: 'The invite link does not match the host',
    });
    const text = dialog.textContent ?? '';
    expect(text).toContain('different key than the one in the invite link');
    expect(text).toContain('wrong or forged');
    expect(text).toContain('Ask the person who sent you the link');
    expect(screen.getByRole('heading', { name: 'Key in the invite' })).toBeTruthy();
    expect(screen.getByRole('heading', { name: 'Key the host presented' })).toBeTruthy();
    expect(text).not.toContain('Trusted before');
    expect(text).not.toContain('has changed');
  });

  it('keeps the changed-key wording for a pinned key', () => {
    render(HostKeyChangedDialog, { ...props, expectedFrom: 'pinned' });
    expect(screen.getByRole('alertdialog', { name: 'The host’s key has changed' })).toBeTruthy();
    expect(screen.getByRole('heading', { name: 'Trusted before' })).toBeTruthy();
    expect(screen.getByRole('heading', { name: 'Presented now' })).toBeTruthy();
  });

  it('has a title heading and section headings one level below it', () => {
    render(HostKeyChangedDialog, { ...props, expectedFrom: 'invite' });
    const levels = screen.getAllByRole('heading').map((h) => Number(h.tagName.slice(1)));
    expect(levels).toEqual([1, 2, 2]);
  });
});
