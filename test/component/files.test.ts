// Files in the chat screen against the fake platform: attaching (paperclip, paste, drop) into
// the dialog that refuses a file over the host's limit before any upload, the upload's
// progress and Cancel, an image as a thumbnail and in the viewer, a file card's Save….
import { fireEvent, render, screen, within } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ChatMessageView } from '../../src-shared/ipc/domain.ts';
import { estimateHeight } from '../../src-renderer/lib/rows.ts';
import ChatScreen from '../../src-renderer/screens/ChatScreen.svelte';
import { AppState } from '../../src-renderer/state/app.svelte.ts';
import { HOST, NOON, hostState, roomView, snapshot } from './fixtures.ts';
import { type FakePlatform, fakePlatform } from './platform.ts';

const LIMIT = 1024 * 1024;
const PNG_BYTES = 'iVBORw0KGgo='; // the PNG signature, as base64

function fromBob(seq: number, extra: Partial<ChatMessageView>): ChatMessageView {
  return {
    room: 'lobby',
    id: `bob-${seq}`,
    seq,
    from: 'bob',
    fp: 'BOB FP',
    key: 'B'.repeat(43),
    text: '',
    ts: NOON,
    own: false,
    status: 'sent',
    ...extra,
  };
}

const photo = fromBob(5, {
  text: 'the view from here',
  file: {
    name: 'photo.png',
    mime: 'image/png',
    size: 48_000,
    image: true,
    width: 800,
    height: 600,
  },
});
const report = fromBob(6, {
  file: { name: 'report.pdf', mime: 'application/pdf', size: 1_258_291, image: false },
});

let urls: string[] = [];
let revoked: string[] = [];
beforeEach(() => {
  urls = [];
  revoked = [];
  URL.createObjectURL = vi.fn(() => {
    const url = `blob:test/${urls.length}`;
    urls.push(url);
    return url;
  });
  URL.revokeObjectURL = vi.fn((url: string) => void revoked.push(url));
});
afterEach(() => {
  document.body.innerHTML = '';
});

/** The chat screen on #lobby (the host's file limit LIMIT), with `messages` in its history. */
async function setup(
  messages: ChatMessageView[] = [],
  connection: Parameters<typeof hostState>[0] = {},
) {
  const fake = fakePlatform();
  fake.answer('getSnapshot', () => ({
    ok: true,
    value: snapshot([
      { connection: hostState({ maxFileBytes: LIMIT, ...connection }), rooms: [roomView('lobby')] },
    ]),
  }));
  fake.answer('getMembers', () => ({ ok: true, value: [] }));
  fake.answer('loadHistory', () => ({ ok: true, value: { messages, more: false } }));
  fake.answer('sendFile', () => ({ ok: true, value: { id: 'up-1' } }));
  fake.answer('getFile', () => ({
    ok: true,
    value: { data: PNG_BYTES, mime: 'image/png', name: 'photo.png' },
  }));
  fake.answer('saveFile', () => ({ ok: true, value: { saved: true } }));
  const app = new AppState(fake.api);
  app.start();
  await vi.waitFor(() => expect(app.ready).toBe(true));
  const view = render(ChatScreen, { app, onsettings: () => {} });
  const box = await screen.findByRole('textbox', { name: 'Message #lobby' });
  return { fake, app, view, box };
}

/** Main says the upload of notes.txt (100 bytes) with this id failed: the connection was lost. */
function lostUpload(fake: FakePlatform, id: string): void {
  fake.emit('fileProgress', {
    hostId: HOST,
    room: 'lobby',
    id,
    name: 'notes.txt',
    sent: 0,
    total: 100,
    state: 'failed',
    error: 'the connection was lost',
  });
}

/** Picks files with the paperclip's (hidden) file input, as the system picker would. */
async function pick(...files: File[]): Promise<void> {
  const input = screen.getByTestId('attach-input') as HTMLInputElement;
  Object.defineProperty(input, 'files', { value: files, configurable: true });
  await fireEvent.change(input);
}

const sized = (name: string, size: number, type: string): File =>
  new File([new Uint8Array(size).fill(65)], name, { type });

/** A drag's or a paste's data that carries these files (what the room and the box read of it). */
const carrying = (...files: File[]) => ({ files, items: [], types: ['Files'] });

const calls = (fake: ReturnType<typeof fakePlatform>, name: string) =>
  fake.calls.filter((c) => c.name === name).map((c) => c.input);

describe('attaching a file', () => {
  it('refuses a file over the host limit in the dialog, before any upload', async () => {
    const { fake } = await setup();
    expect(screen.getByRole('button', { name: 'Attach a file' }).getAttribute('title')).toBe(
      'Up to 1 MB on this host',
    );
    await pick(sized('backup.zip', 2 * LIMIT, 'application/zip'));
    const dialog = await screen.findByRole('dialog', { name: 'Send a file to #lobby' });
    expect(within(dialog).getByRole('alert').textContent).toBe(
      'Too large to send: 2 MB. This host takes files up to 1 MB.',
    );
    expect(within(dialog).queryByRole('button', { name: /Send file/ })).toBeNull();
    expect(within(dialog).getByText('Archive · 2 MB')).toBeTruthy();
    await fireEvent.keyDown(dialog, { key: 'Escape' });
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(calls(fake, 'sendFile')).toEqual([]);
  });

  it('sends a picked file with its caption; the row shows progress, Cancel stops it', async () => {
    const { fake } = await setup();
    await pick(sized('notes.txt', 2048, 'text/plain'));
    const dialog = await screen.findByRole('dialog', { name: 'Send a file to #lobby' });
    expect(within(dialog).getByText('notes.txt')).toBeTruthy();
    expect(within(dialog).getByText('Text file · 2 KB')).toBeTruthy();
    expect(within(dialog).getByText(/Up to 1 MB on this host/)).toBeTruthy();
    const caption = within(dialog).getByRole('textbox', { name: 'Caption (optional)' });
    expect(document.activeElement).toBe(caption);
    await fireEvent.input(caption, { target: { value: 'minutes' } });
    await fireEvent.click(within(dialog).getByRole('button', { name: /Send file/ }));

    await vi.waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    const [sent] = calls(fake, 'sendFile') as Record<string, unknown>[];
    expect(sent).toMatchObject({
      hostId: HOST,
      room: 'lobby',
      name: 'notes.txt',
      mime: 'text/plain',
      caption: 'minutes',
    });
    expect(atob(sent!['data'] as string)).toBe('A'.repeat(2048));

    // The message is there at once, with its bar.
    const bar = await screen.findByRole('progressbar', { name: 'Uploading notes.txt' });
    expect(bar.getAttribute('aria-valuenow')).toBe('0');
    // The bar says how it goes: not "Queued — sends when connected".
    expect(screen.queryByText(/Queued/)).toBeNull();
    expect(screen.getByText('minutes')).toBeTruthy();
    fake.emit('fileProgress', {
      hostId: HOST,
      room: 'lobby',
      id: 'up-1',
      name: 'notes.txt',
      sent: 1024,
      total: 2048,
      state: 'sending',
    });
    await vi.waitFor(() => expect(bar.getAttribute('aria-valuenow')).toBe('50'));
    expect(bar.getAttribute('aria-valuetext')).toBe('50% — 1 KB of 2 KB');

    await fireEvent.click(screen.getByRole('button', { name: 'Cancel upload of notes.txt' }));
    expect(calls(fake, 'cancelFile')).toEqual([{ hostId: HOST, id: 'up-1' }]);
    await screen.findByText('Upload cancelled. Not sent.');
    expect(screen.getByText('Upload of notes.txt cancelled.').getAttribute('role')).toBe('status');
    expect(screen.queryByRole('progressbar')).toBeNull();
    expect(screen.getByRole('button', { name: 'Try again' })).toBeTruthy();
    await fireEvent.click(screen.getByRole('button', { name: 'Dismiss notes.txt' }));
    await vi.waitFor(() => expect(screen.queryByText('minutes')).toBeNull());
  });

  it('answers the message the composer is replying to, and the reply is then done', async () => {
    const { fake, app } = await setup([photo]);
    app.drafts.get('lobby').replyTo = { seq: 5, from: 'bob', text: 'the view from here' };
    await pick(sized('notes.txt', 100, 'text/plain'));
    const dialog = await screen.findByRole('dialog', { name: 'Send a file to #lobby' });
    expect(within(dialog).getByText(/^Answers/).textContent).toBe(
      'Answers bob: the view from here',
    );
    await fireEvent.click(within(dialog).getByRole('button', { name: /Send file/ }));
    await vi.waitFor(() => expect(calls(fake, 'sendFile')).toHaveLength(1));
    expect(calls(fake, 'sendFile')[0]).toMatchObject({ replyTo: 5 });
    await vi.waitFor(() => expect(app.drafts.get('lobby').replyTo).toBeNull());
  });

  it('says a failed upload failed, and sends it again on Try again', async () => {
    const { fake } = await setup();
    await pick(sized('notes.txt', 100, 'text/plain'));
    await fireEvent.click(await screen.findByRole('button', { name: /Send file/ }));
    await screen.findByRole('progressbar', { name: 'Uploading notes.txt' });
    lostUpload(fake, 'up-1');
    await screen.findByText('Upload failed: the connection was lost. Not sent.');
    fake.answer('sendFile', () => ({ ok: true, value: { id: 'up-2' } }));
    await fireEvent.click(screen.getByRole('button', { name: 'Try again' }));
    await vi.waitFor(() => expect(calls(fake, 'sendFile')).toHaveLength(2));
    await screen.findByRole('progressbar', { name: 'Uploading notes.txt' });
    expect(screen.queryByText(/Upload failed/)).toBeNull();

    // A try that main refuses says why in the row.
    lostUpload(fake, 'up-2');
    await screen.findByText('Upload failed: the connection was lost. Not sent.');
    fake.answer('sendFile', () => ({
      ok: false,
      error: { code: 'not-connected', message: 'You are offline.' },
    }));
    await fireEvent.click(screen.getByRole('button', { name: 'Try again' }));
    await screen.findByText('Upload failed: You are offline. Not sent.');
  });

  it('takes a pasted image and a dropped file into the dialog; pasted text stays text', async () => {
    const { box } = await setup();
    const shot = sized('image.png', 300, 'image/png');
    const pasted = await fireEvent.paste(box, {
      clipboardData: carrying(shot),
    });
    expect(pasted).toBe(false); // prevented: the file is not pasted as text
    const dialog = await screen.findByRole('dialog', { name: 'Send a file to #lobby' });
    // A screenshot gets a name of its own, and a preview.
    expect(within(dialog).getByText(/^Pasted image .*\.png$/)).toBeTruthy();
    expect(within(dialog).getByRole('img', { name: /^Preview of Pasted image/ })).toBeTruthy();
    await fireEvent.click(within(dialog).getByRole('button', { name: 'Cancel' }));

    const text = await fireEvent.paste(box, {
      clipboardData: { files: [], items: [], types: ['text/plain'] },
    });
    expect(text).toBe(true);
    expect(screen.queryByRole('dialog')).toBeNull();

    const room = screen.getByRole('main');
    const transfer = carrying(sized('plan.pdf', 10, 'application/pdf'));
    await fireEvent.dragEnter(room, { dataTransfer: transfer });
    expect(screen.getByTestId('drop-overlay').textContent).toContain('Drop to send to #lobby');
    await fireEvent.drop(room, { dataTransfer: transfer });
    expect(screen.queryByTestId('drop-overlay')).toBeNull();
    const dropped = await screen.findByRole('dialog', { name: 'Send a file to #lobby' });
    expect(within(dropped).getByText('plan.pdf')).toBeTruthy();
  });
});

describe('attaching while offline', () => {
  it('opens the dialog but keeps the file until the connection is back', async () => {
    const { fake } = await setup([], { status: 'reconnecting' });
    const room = screen.getByRole('main');
    const transfer = carrying(sized('plan.pdf', 10, 'application/pdf'));
    await fireEvent.dragEnter(room, { dataTransfer: transfer });
    await fireEvent.drop(room, { dataTransfer: transfer });
    const dialog = await screen.findByRole('dialog', { name: 'Send a file to #lobby' });
    expect(within(dialog).getByRole('alert').textContent).toContain('You are offline');
    const sendButton = within(dialog).getByRole('button', {
      name: /Send file/,
    }) as HTMLButtonElement;
    expect(sendButton.disabled).toBe(true);
    expect(calls(fake, 'sendFile')).toEqual([]);
  });
});

describe('received files', () => {
  it('shows an image as a thumbnail of its final size, opens it in the viewer, saves it', async () => {
    const { fake, view } = await setup([photo]);
    const thumb = await screen.findByRole('button', { name: /^Open image photo\.png/ });
    // 800×600 in a 320×240 box, before the bytes are here: the row does not jump.
    expect(thumb.style.width).toBe('320px');
    expect(thumb.style.aspectRatio).toBe('320 / 240');
    const img = await within(thumb).findByRole('img', { name: 'photo.png' });
    expect(img.getAttribute('src')).toMatch(/^blob:/);
    expect(calls(fake, 'getFile')).toEqual([{ hostId: HOST, room: 'lobby', seq: 5 }]);
    expect(screen.getByText('the view from here')).toBeTruthy();

    await fireEvent.click(thumb);
    const viewer = await screen.findByRole('dialog', { name: 'photo.png' });
    expect(await within(viewer).findByRole('img', { name: 'photo.png' })).toBeTruthy();
    expect(document.activeElement).toBe(
      within(viewer).getByRole('button', { name: 'Close viewer' }),
    );
    // The chat behind is inert while the viewer is open.
    // (jsdom has no `inert` attribute reflection: Svelte sets the property.)
    expect((document.querySelector('.chat') as HTMLElement & { inert: boolean }).inert).toBe(true);
    await fireEvent.click(within(viewer).getByRole('button', { name: /Save/ }));
    expect(calls(fake, 'saveFile')).toEqual([{ hostId: HOST, room: 'lobby', seq: 5 }]);
    await fireEvent.keyDown(viewer, { key: 'Escape' });
    await vi.waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    // Decrypted once, kept for the row and the viewer.
    expect(calls(fake, 'getFile')).toHaveLength(1);

    // Unmounted rows give their Blob URLs back.
    view.unmount();
    expect(revoked.sort()).toEqual(urls.sort());
  });

  it('shows a file as a card with its kind and size; Save… asks main for a save dialog', async () => {
    const { fake } = await setup([report]);
    const card = await screen.findByTestId('file-card');
    expect(within(card).getByText('report.pdf')).toBeTruthy();
    expect(within(card).getByText('PDF document · 1.2 MB')).toBeTruthy();
    // Never fetched to be shown, never opened.
    expect(calls(fake, 'getFile')).toEqual([]);
    await fireEvent.click(within(card).getByRole('button', { name: 'Save report.pdf' }));
    expect(calls(fake, 'saveFile')).toEqual([{ hostId: HOST, room: 'lobby', seq: 6 }]);
    await screen.findByText('Saved report.pdf.');
  });

  it('shows a file name as text, never as markup', async () => {
    const name = '<img src=x onerror=alert(1)>.pdf';
    await setup([fromBob(7, { file: { name, mime: 'application/pdf', size: 10, image: false } })]);
    const card = await screen.findByTestId('file-card');
    expect(within(card).getByText(name)).toBeTruthy();
    expect(card.querySelector('img')).toBeNull();
  });
});

describe('the row of a file message', () => {
  it('is estimated with its thumbnail box, so rows above do not shift when it is drawn', () => {
    const row = (message: ChatMessageView) =>
      estimateHeight({ kind: 'message', key: message.id, message, head: true });
    // Header 30, the 320×240 box and its margins 8, one caption line 20.
    expect(row(photo)).toBe(30 + 248 + 20);
    // A card and no caption.
    expect(row(report)).toBe(30 + 68);
  });
});
