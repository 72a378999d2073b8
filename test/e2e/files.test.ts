// Files and images in real Chromium, two people through a real host: Alice attaches by the
// file picker, by dropping onto the room and by pasting; the upload shows its progress and can
// be cancelled; Bob sees the image as a thumbnail, opens it in the viewer and saves a file
// (the bridge's save dialog stands in for the system's).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectAccessible } from './axe.ts';
import {
  type Person,
  Rig,
  type TestHost,
  connectAll,
  messageRow,
  screenshot,
  shoot,
} from './harness.ts';
import { rgbPng } from './png.ts';
import { closeMembers } from './wire-bob.ts';

const rig = new Rig();
let host: TestHost;
let alice: Person;
let bob: Person;
const poll = { timeout: 15_000, interval: 50 };

/** A real PNG (a soft diagonal gradient), so Chromium decodes it as the app will. */
const png = (width: number, height: number): Buffer =>
  rgbPng(width, height, (x, y) => [
    60 + Math.round((x / width) * 140),
    90 + Math.round((y / height) * 120),
    200 - Math.round(((x + y) / (width + height)) * 120),
  ]);

const PHOTO = png(960, 640);
/** The upload that is cancelled: big enough to be caught halfway. */
const BIG = 20 * 1024 * 1024;
const REPORT = Buffer.from('%PDF-1.4\n% a report, as bytes\n'.repeat(2000));

beforeAll(async () => {
  host = await rig.host({ rooms: ['lobby'] });
  [alice, bob] = await Promise.all([
    rig.person('alice'),
    rig.person('bob', { colorScheme: 'dark' }),
  ]);
  await connectAll(host, [alice, bob]);
  await Promise.all([closeMembers(alice.page), closeMembers(bob.page)]);
  // Playwright intercepts the file chooser only once a listener exists, and turning that on is
  // a round trip to Chromium: a listener added together with the key press could miss a chooser
  // opened on a loaded machine. One listener from the start keeps interception on.
  alice.page.on('filechooser', () => undefined);
});

afterAll(() => rig.dispose());

/** Bob's shots are the dark ones: the accessibility check before may have left the page light. */
async function darkShot(person: Person, name: string): Promise<void> {
  await person.page.emulateMedia({ colorScheme: 'dark' });
  // The pointer away from the rows: no hover toolbar in the picture.
  await person.page.mouse.move(2, 790);
  await screenshot(person.page, name);
}

const composer = (person: Person) => person.page.getByRole('textbox', { name: /^Message / });
const attachDialog = (person: Person) =>
  person.page.getByRole('dialog', { name: /^Send a file to/ });

describe('files and images between two people', () => {
  it('attaches by the file picker: a preview with the host limit, then the image is sent', async () => {
    const { page } = alice;
    await expect
      .poll(() => page.getByRole('button', { name: 'Attach a file' }).getAttribute('title'), poll)
      .toMatch(/^Up to \d+ MB on this host$/);
    // Keyboard first: from the message box, Shift+Tab reaches the paperclip; Enter opens the
    // system's file picker (Chromium's file chooser, answered here).
    await composer(alice).focus();
    await page.keyboard.press('Shift+Tab');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe(
      'Attach a file',
    );
    const [chooser] = await Promise.all([
      page.waitForEvent('filechooser'),
      page.keyboard.press('Enter'),
    ]);
    await chooser.setFiles({ name: 'harbour.png', mimeType: 'image/png', buffer: PHOTO });
    const dialog = attachDialog(alice);
    await dialog.waitFor();
    await dialog.getByText('Image · ').waitFor();
    // The renderer read the image's size.
    await dialog.getByText('960 × 640').waitFor();
    await dialog.getByText(/Up to \d+ MB on this host/).waitFor();
    const preview = dialog.getByRole('img', { name: 'Preview of harbour.png' });
    await expect
      .poll(() => preview.evaluate((img: HTMLImageElement) => img.naturalWidth), poll)
      .toBe(960);
    await dialog
      .getByRole('textbox', { name: 'Caption (optional)' })
      .fill('The harbour this morning');
    await screenshot(page, 'files-attach-preview');
    // Narrow windows and 200 % zoom: the dialog reflows, nothing scrolls sideways.
    expect(await shoot(page, 'files-attach-preview', { sizes: ['400x800', 'zoom200'] })).toEqual(
      [],
    );
    await expectAccessible(page, 'the attach dialog');
    await dialog.getByRole('textbox', { name: 'Caption (optional)' }).press('Enter');
    await dialog.waitFor({ state: 'detached' });
    // Typing goes on in the message box.
    await expect
      .poll(() => composer(alice).evaluate((el) => el === document.activeElement), poll)
      .toBe(true);
    await messageRow(alice, 'The harbour this morning').waitFor();
  });

  it('shows Bob the image as a thumbnail; the viewer opens it large and closes with Escape', async () => {
    const { page } = bob;
    const row = messageRow(bob, 'The harbour this morning');
    await row.waitFor();
    const thumb = row.getByRole('button', { name: /^Open image harbour\.png/ });
    const img = thumb.getByRole('img', { name: 'harbour.png' });
    await expect
      .poll(() => img.evaluate((el: HTMLImageElement) => el.naturalWidth), poll)
      .toBe(960);
    // 960×640 in the 320×240 box: 320×213, whatever the bytes' arrival.
    const box = await thumb.boundingBox();
    expect(Math.round(box?.width ?? 0)).toBe(320);
    expect(Math.abs((box?.height ?? 0) - 213)).toBeLessThanOrEqual(2);
    expect(await img.getAttribute('src')).toMatch(/^blob:/);
    await darkShot(bob, 'files-image-in-timeline-dark');

    await thumb.click();
    const viewer = page.getByRole('dialog', { name: 'harbour.png' });
    await viewer.waitFor();
    const large = viewer.getByRole('img', { name: 'harbour.png' });
    await expect
      .poll(() => large.evaluate((el: HTMLImageElement) => el.naturalWidth), poll)
      .toBe(960);
    await expect
      .poll(
        () =>
          viewer
            .getByRole('button', { name: 'Close viewer' })
            .evaluate((el) => el === document.activeElement),
        poll,
      )
      .toBe(true);
    // Tab stays inside the viewer.
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    expect(await viewer.evaluate((el) => el.contains(document.activeElement))).toBe(true);
    await darkShot(bob, 'files-viewer-dark');
    expect(await shoot(page, 'files-viewer-dark', { sizes: ['400x800', 'zoom200'] })).toEqual([]);
    await expectAccessible(page, 'the image viewer');
    await page.keyboard.press('Escape');
    await viewer.waitFor({ state: 'detached' });
    await expect
      .poll(() => composer(bob).evaluate((el) => el === document.activeElement), poll)
      .toBe(true);
  });

  it('attaches by dropping a file onto the room, with the drop overlay', async () => {
    const { page } = alice;
    const bytes = [...REPORT];
    const drag = async (type: 'dragenter' | 'dragover' | 'drop'): Promise<void> =>
      page.evaluate(
        ([type, bytes]) => {
          const transfer = new DataTransfer();
          transfer.items.add(
            new File([new Uint8Array(bytes as number[])], 'quarterly report.pdf', {
              type: 'application/pdf',
            }),
          );
          const room = document.querySelector('main.room');
          room?.dispatchEvent(
            new DragEvent(type as string, {
              bubbles: true,
              cancelable: true,
              dataTransfer: transfer,
            }),
          );
        },
        [type, bytes] as const,
      );
    await drag('dragenter');
    await drag('dragover');
    await page.getByTestId('drop-overlay').waitFor();
    expect(await page.getByTestId('drop-overlay').textContent()).toContain(
      'Drop to send to #lobby',
    );
    await screenshot(page, 'files-drop-overlay');
    await drag('drop');
    await page.getByTestId('drop-overlay').waitFor({ state: 'detached' });
    const dialog = attachDialog(alice);
    await dialog.getByText('quarterly report.pdf').waitFor();
    await dialog.getByText(/^PDF document · /).waitFor();
    await dialog.getByRole('button', { name: 'Send file' }).click();
    await dialog.waitFor({ state: 'detached' });
    await alice.page.getByTestId('file-card').filter({ hasText: 'quarterly report.pdf' }).waitFor();
  });

  it('attaches by pasting an image into the message box', async () => {
    const { page } = alice;
    await composer(alice).focus();
    const bytes = [...png(120, 80)];
    const prevented = await page.evaluate((bytes) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([new Uint8Array(bytes)], 'image.png', { type: 'image/png' }));
      const event = new ClipboardEvent('paste', {
        bubbles: true,
        cancelable: true,
        clipboardData: transfer,
      });
      document.activeElement?.dispatchEvent(event);
      return event.defaultPrevented;
    }, bytes);
    expect(prevented).toBe(true);
    const dialog = attachDialog(alice);
    await dialog.getByText(/^Pasted image .*\.png$/).waitFor();
    await dialog.getByText('120 × 80').waitFor();
    await dialog.getByRole('button', { name: 'Send file' }).click();
    await dialog.waitFor({ state: 'detached' });
    await expect.poll(() => alice.page.getByTestId('image-thumbnail').count(), poll).toBe(2);
    expect(await composer(alice).inputValue()).toBe('');
  });

  it('shows an upload in progress with its bar; Cancel stops it and says so', async () => {
    const { page } = alice;
    // Large enough to watch it go. Made in the page (random: nothing on the way compresses it)
    // and handed to the paperclip's input as the system picker would.
    await page.evaluate((size) => {
      const bytes = new Uint8Array(size);
      for (let i = 0; i < size; i += 65536) crypto.getRandomValues(bytes.subarray(i, i + 65536));
      const transfer = new DataTransfer();
      transfer.items.add(new File([bytes], 'site-backup.tar.gz', { type: 'application/gzip' }));
      const input = document.querySelector<HTMLInputElement>('input[data-testid="attach-input"]');
      if (!input) throw new Error('no file input');
      input.files = transfer.files;
      input.dispatchEvent(new Event('change', { bubbles: true }));
    }, BIG);
    await attachDialog(alice).getByRole('button', { name: 'Send file' }).click();
    const bar = page.getByRole('progressbar', { name: 'Uploading site-backup.tar.gz' });
    // Reading 20 MB, handing it to main and encrypting the first chunks take a moment.
    await bar.waitFor({ timeout: 30_000 });
    await expect
      .poll(async () => Number(await bar.getAttribute('aria-valuenow')), poll)
      .toBeGreaterThan(0);
    expect(await bar.getAttribute('aria-valuetext')).toMatch(/^\d+% — [\d.]+ (KB|MB) of 20 MB$/);
    await page.mouse.move(2, 790);
    await screenshot(page, 'files-uploading');
    await page.getByRole('button', { name: 'Cancel upload of site-backup.tar.gz' }).click();
    await page.getByText('Upload cancelled. Not sent.').waitFor();
    await expectAccessible(page, 'a cancelled upload');
    await expect.poll(() => bar.count(), poll).toBe(0);
    await page.getByRole('button', { name: 'Dismiss site-backup.tar.gz' }).click();
    await expect.poll(() => page.getByText('Upload cancelled. Not sent.').count(), poll).toBe(0);
    // Bob never sees it.
    await bob.page.getByTestId('file-card').filter({ hasText: 'quarterly report.pdf' }).waitFor();
    expect(await bob.page.getByText('site-backup.tar.gz').count()).toBe(0);
  });

  it('lets Bob save a file where he chooses; the bytes are the ones Alice sent', async () => {
    const { page } = bob;
    const card = page.getByTestId('file-card').filter({ hasText: 'quarterly report.pdf' });
    await card.getByText(/^PDF document · /).waitFor();
    await darkShot(bob, 'files-file-card-dark');
    const saved = await saveVia(bob, 'report from alice.pdf', () =>
      card.getByRole('button', { name: 'Save quarterly report.pdf' }).click(),
    );
    // The dialog was offered the file's own name; the user chose another.
    expect(bob.backend.saveDialog.asked.at(-1)).toBe('quarterly report.pdf');
    expect(basename(saved)).toBe('report from alice.pdf');
    expect(readFileSync(saved).equals(REPORT)).toBe(true);
    await page.getByText('Saved quarterly report.pdf.').waitFor({ state: 'attached' });
    await expectAccessible(page, 'a file card');
  });

  it('ran without console errors or CSP violations', () => {
    expect([...alice.problems, ...bob.problems]).toEqual([]);
  });
});

/**
 * Runs `click` with the bridge's save dialog answering `name` (it saves into the install's
 * `saved-files`); resolves with the path written once the file is whole there.
 */
async function saveVia(person: Person, name: string, click: () => Promise<void>): Promise<string> {
  const dialog = person.backend.saveDialog;
  const before = dialog.chosen.length;
  dialog.answerNext({ name });
  await click();
  await expect.poll(() => dialog.chosen.length, poll).toBe(before + 1);
  const path = dialog.chosen[before] ?? '';
  await expect.poll(() => (existsSync(path) ? statSync(path).size : -1), poll).toBe(REPORT.length);
  return path;
}
