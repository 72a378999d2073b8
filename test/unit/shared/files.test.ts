import { describe, expect, it } from 'vitest';
import {
  MAX_FILE_NAME_CHARS,
  MAX_INLINE_IMAGE_BYTES,
  formatBytes,
  imageTypeOf,
  isInlineImage,
  sanitizeFileName,
  sendableMime,
} from '../../../src-shared/files.ts';

describe('sanitizeFileName', () => {
  it('keeps an ordinary name as it is', () => {
    expect(sanitizeFileName('holiday photo.jpg')).toBe('holiday photo.jpg');
    expect(sanitizeFileName('Ünïcödé 名前.pdf')).toBe('Ünïcödé 名前.pdf');
  });

  it('keeps only the last path segment, so a name cannot climb out of the folder', () => {
    expect(sanitizeFileName('../../etc/passwd')).toBe('passwd');
    expect(sanitizeFileName('C:\\x\\y.exe')).toBe('y.exe');
    expect(sanitizeFileName('/abs/path/')).toBe('path');
    expect(sanitizeFileName('..')).toBe('file');
    expect(sanitizeFileName('a/..')).toBe('a');
    expect(sanitizeFileName('C:evil.txt')).toBe('Cevil.txt');
  });

  it('drops bidirectional overrides, so "fdp.exe" cannot read as "exe.pdf"', () => {
    const name = sanitizeFileName('invoice\u202Efdp.exe');
    expect(name).toBe('invoicefdp.exe');
    expect(name.endsWith('.exe')).toBe(true);
    expect(sanitizeFileName('a\u2066b\u2069\u200F\u061Cc.txt')).toBe('abc.txt');
  });

  it('drops control and invisible characters and the characters no OS takes', () => {
    expect(sanitizeFileName('a\u0000b\u0007c\nd\te\u007f\u009b.txt')).toBe('abcde.txt');
    expect(sanitizeFileName('we*ird?:"<na|me>.txt')).toBe('weirdname.txt');
    expect(sanitizeFileName('zero\u200Bwidth\uFEFF.txt')).toBe('zerowidth.txt');
  });

  it('takes away leading dots (no hidden files) and trailing dots and spaces', () => {
    expect(sanitizeFileName('.bashrc')).toBe('bashrc');
    expect(sanitizeFileName('...secret')).toBe('secret');
    expect(sanitizeFileName('  report.pdf. . ')).toBe('report.pdf');
  });

  it('falls back to "file" when nothing usable is left', () => {
    expect(sanitizeFileName('')).toBe('file');
    expect(sanitizeFileName('   ')).toBe('file');
    expect(sanitizeFileName('...')).toBe('file');
    expect(sanitizeFileName('\u202E\u0000')).toBe('file');
    expect(sanitizeFileName('///')).toBe('file');
  });

  it('does not give a Windows device name', () => {
    expect(sanitizeFileName('CON')).toBe('_CON');
    expect(sanitizeFileName('con.txt')).toBe('_con.txt');
    expect(sanitizeFileName('LPT1.tar.gz')).toBe('_LPT1.tar.gz');
    expect(sanitizeFileName('nul.')).toBe('_nul');
    expect(sanitizeFileName('console.txt')).toBe('console.txt');
  });

  it('cuts a long name to the limit and keeps its extension', () => {
    const name = sanitizeFileName(`${'a'.repeat(300)}.png`);
    expect(name).toHaveLength(MAX_FILE_NAME_CHARS);
    expect(name.endsWith('.png')).toBe(true);
    expect(sanitizeFileName('b'.repeat(300))).toBe('b'.repeat(MAX_FILE_NAME_CHARS));
    // An "extension" too long to be one is cut with the rest.
    expect(sanitizeFileName(`x.${'c'.repeat(300)}`)).toHaveLength(MAX_FILE_NAME_CHARS);
  });

  it('counts characters, not UTF-16 units, and never splits one', () => {
    const name = sanitizeFileName(`${'😀'.repeat(200)}.gif`);
    expect([...name]).toHaveLength(MAX_FILE_NAME_CHARS);
    expect(name.endsWith('😀.gif')).toBe(true);
    expect(name).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/u);
  });

  it('is idempotent', () => {
    for (const raw of ['../x/.y. ', 'CON.txt', `${'z'.repeat(200)}.md`, 'a\u202Eb']) {
      const once = sanitizeFileName(raw);
      expect(sanitizeFileName(once)).toBe(once);
    }
  });
});

describe('isInlineImage', () => {
  it('shows PNG, JPEG, GIF and WebP inline', () => {
    for (const mime of ['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'Image/PNG']) {
      expect(isInlineImage(mime, 1000)).toBe(true);
    }
  });

  it('never shows SVG or other types inline', () => {
    expect(isInlineImage('image/svg+xml', 100)).toBe(false);
    expect(isInlineImage('image/bmp', 100)).toBe(false);
    expect(isInlineImage('text/html', 100)).toBe(false);
    expect(isInlineImage('application/octet-stream', 100)).toBe(false);
    expect(isInlineImage('', 100)).toBe(false);
  });

  it('offers images above 10 MiB for saving instead', () => {
    expect(isInlineImage('image/png', MAX_INLINE_IMAGE_BYTES)).toBe(true);
    expect(isInlineImage('image/png', MAX_INLINE_IMAGE_BYTES + 1)).toBe(false);
    expect(isInlineImage('image/png', -1)).toBe(false);
  });
});

describe('sendableMime', () => {
  it('sends a usable media type as it is, and anything else as octet-stream', () => {
    expect(sendableMime('image/PNG; charset=x')).toBe('image/png');
    expect(sendableMime('')).toBe('application/octet-stream');
    expect(sendableMime('not a type')).toBe('application/octet-stream');
  });
});

describe('formatBytes', () => {
  it('says sizes as people read them', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(1024 * 1024 * 1.2)).toBe('1.2 MB');
    expect(formatBytes(25 * 1024 * 1024)).toBe('25 MB');
    expect(formatBytes(1024 * 1024 - 1)).toBe('1 MB');
    expect(formatBytes(1024 * 1024 * 1024)).toBe('1 GB');
  });
});

describe('imageTypeOf', () => {
  const bytes = (...parts: (number[] | string)[]) =>
    Uint8Array.from(
      parts.flatMap((p) => (typeof p === 'string' ? [...p].map((c) => c.charCodeAt(0)) : p)),
    );

  it('knows an image by its signature, whatever the sender claimed', () => {
    expect(imageTypeOf(bytes([0x89], 'PNG', [0x0d, 0x0a, 0x1a, 0x0a, 0]))).toBe('image/png');
    expect(imageTypeOf(bytes([0xff, 0xd8, 0xff, 0xe0]))).toBe('image/jpeg');
    expect(imageTypeOf(bytes('GIF89a', [1, 0]))).toBe('image/gif');
    expect(imageTypeOf(bytes('GIF87a'))).toBe('image/gif');
    expect(imageTypeOf(bytes('RIFF', [0, 0, 0, 0], 'WEBPVP8 '))).toBe('image/webp');
  });

  it('says nothing of bytes that are no inline image (SVG, HTML, cut signatures)', () => {
    expect(imageTypeOf(bytes('<svg xmlns="http://www.w3.org/2000/svg"/>'))).toBeUndefined();
    expect(imageTypeOf(bytes('<html><script>'))).toBeUndefined();
    expect(imageTypeOf(bytes([0x89], 'PN'))).toBeUndefined();
    expect(imageTypeOf(bytes('RIFF', [0, 0, 0, 0], 'WAVE'))).toBeUndefined();
    expect(imageTypeOf(new Uint8Array())).toBeUndefined();
  });
});
