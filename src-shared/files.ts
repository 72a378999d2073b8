/**
 * What every layer needs to know about a file someone sent: the name it may be shown and saved
 * under, whether it is shown inline as an image, and its size in words. A file's name and media
 * type are the sender's claims (docs/protocol.md §13): whoever shows or saves a file goes
 * through here, so a name cannot climb out of a folder, pose as another extension, or hit a
 * device name, and a type cannot make the app render something that runs (SVG).
 */

/** Longest name kept, in characters (the extension is kept when cut). */
export const MAX_FILE_NAME_CHARS = 120;
/** Images above this are offered for saving, not decoded in the timeline. */
export const MAX_INLINE_IMAGE_BYTES = 10 * 1024 * 1024;
/** The image types shown inline: raster formats a browser decodes without running anything. */
export const INLINE_IMAGE_TYPES: ReadonlySet<string> = new Set([
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
]);
/** What a file without a usable media type is sent as. */
export const DEFAULT_FILE_MIME = 'application/octet-stream';

/** Longest extension kept whole when a long name is cut ("archive.tar.gz" keeps ".gz"). */
const MAX_EXTENSION_CHARS = 16;
/**
 * Removed from a name: control characters (C0, DEL, C1), the bidirectional controls that can
 * make "fdp.exe" read as "exe.pdf" (U+061C, U+200E/F, U+202A–E, U+2066–9), zero-width and
 * other invisible format characters, line and paragraph separators, and the characters that
 * no OS takes in a name or that name folders and drives: / \ : * ? " < > |
 */
// eslint-disable-next-line no-control-regex -- control characters are exactly what is removed
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\p{Cf}\u2028\u2029/\\:*?"<>|]/gu;
/** Names Windows gives to devices, with any extension: "CON.txt" still opens the console. */
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$/i;
const MEDIA_TYPE = /^[\w.+-]+\/[\w.+-]+$/;

/**
 * The name a received (or sent) file is shown and saved under: the last path segment only,
 * without control, bidirectional-override, invisible or path characters, without leading dots
 * (no hidden files, no "..") or trailing dots and spaces, not a Windows device name, at most
 * MAX_FILE_NAME_CHARS characters keeping its extension; "file" when nothing is left.
 */
export function sanitizeFileName(name: string): string {
  const segments = name.normalize('NFC').split(/[/\\]/);
  let base = '';
  for (let i = segments.length - 1; i >= 0 && base === ''; i--) {
    base = clean(segments[i] ?? '');
  }
  if (base === '') return 'file';
  if (WINDOWS_RESERVED.test(base)) base = `_${base}`;
  return shorten(base);
}

function clean(segment: string): string {
  return segment
    .replace(UNSAFE, '')
    .replace(/\s+/gu, ' ')
    .replace(/^[\s.]+/u, '')
    .replace(/[\s.]+$/u, '');
}

/** At most MAX_FILE_NAME_CHARS code points, cutting the stem so the extension survives. */
function shorten(name: string): string {
  const chars = [...name];
  if (chars.length <= MAX_FILE_NAME_CHARS) return name;
  const dot = name.lastIndexOf('.');
  const extension = dot > 0 ? name.slice(dot) : '';
  const extensionChars = [...extension].length;
  if (extension === '' || extensionChars > MAX_EXTENSION_CHARS) {
    return chars
      .slice(0, MAX_FILE_NAME_CHARS)
      .join('')
      .replace(/[\s.]+$/u, '');
  }
  const stem = chars
    .slice(0, MAX_FILE_NAME_CHARS - extensionChars)
    .join('')
    .replace(/[\s.]+$/u, '');
  return `${stem}${extension}`;
}

/** The media type alone, lower case ("Image/PNG; x=1" → "image/png"); '' if it is not one. */
export function normalizeMime(mime: string): string {
  const type = (mime.split(';')[0] ?? '').trim().toLowerCase();
  return type.length <= 100 && MEDIA_TYPE.test(type) ? type : '';
}

/** The media type a file is sent as: the given one if usable, else application/octet-stream. */
export function sendableMime(mime: string): string {
  return normalizeMime(mime) || DEFAULT_FILE_MIME;
}

/**
 * Whether a file is shown inline as an image: PNG, JPEG, GIF or WebP (never SVG, which can
 * carry script) of at most MAX_INLINE_IMAGE_BYTES.
 */
export function isInlineImage(mime: string, size: number): boolean {
  return (
    INLINE_IMAGE_TYPES.has(normalizeMime(mime)) &&
    Number.isSafeInteger(size) &&
    size >= 0 &&
    size <= MAX_INLINE_IMAGE_BYTES
  );
}

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'] as const;

/**
 * A size as people read it: "512 B", "1.2 MB", "25 MB" (powers of 1024, one decimal below 10).
 */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 1024) {
    return `${Math.max(0, Math.round(Number.isFinite(bytes) ? bytes : 0))} B`;
  }
  let unit = 0;
  let value = bytes;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  let text = value < 10 ? (Math.round(value * 10) / 10).toFixed(1) : String(Math.round(value));
  // 1023.96 KB rounds to "1024 KB": that is 1.0 MB.
  if (Number(text) >= 1024 && unit < UNITS.length - 1) {
    unit++;
    text = '1.0';
  }
  return `${text.replace(/\.0$/, '')} ${UNITS[unit]}`;
}

/**
 * The inline image type `bytes` really are, by their signature (PNG, JPEG, GIF, WebP); undefined
 * for anything else. The sender's media type is a claim: an image is shown as what it is, and
 * bytes that are no image are not handed to an image decoder as one.
 */
export function imageTypeOf(bytes: Uint8Array): string | undefined {
  const starts = (signature: readonly number[], at = 0) =>
    bytes.length >= at + signature.length && signature.every((b, i) => bytes[at + i] === b);
  if (starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (starts([0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (starts([0x47, 0x49, 0x46, 0x38]) && (starts([0x37, 0x61], 4) || starts([0x39, 0x61], 4))) {
    return 'image/gif';
  }
  if (starts([0x52, 0x49, 0x46, 0x46]) && starts([0x57, 0x45, 0x42, 0x50], 8)) return 'image/webp';
  return undefined;
}
