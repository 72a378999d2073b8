// How files are named, sized and laid out in the UI. Pure: no DOM, so the timeline's row
// estimates and the components agree on the same numbers.

/** Shown inline (thumbnail, viewer): raster formats a browser decodes safely. Never SVG. */
const INLINE_IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

export function isInlineImageType(mime: string): boolean {
  return INLINE_IMAGE_TYPES.has(mime.toLowerCase());
}

/** "812 bytes", "14.2 KB", "3.4 MB", "25 MB": binary units, at most one decimal. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return bytes === 1 ? '1 byte' : `${bytes} bytes`;
  const units = ['KB', 'MB', 'GB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const shown = value >= 100 ? Math.round(value) : Math.round(value * 10) / 10;
  return `${String(shown)} ${units[unit] ?? 'GB'}`;
}

/** The thumbnail box: at most this wide and tall, never enlarged. */
export const THUMB_MAX_WIDTH = 320;
export const THUMB_MAX_HEIGHT = 240;
/** An image whose size was not sent: a box of this shape while it loads. */
const UNKNOWN_THUMB = { width: 240, height: 180 } as const;

/** The thumbnail's size from the image's own, so the row has its height before it loads. */
export function thumbnailSize(
  width: number | undefined,
  height: number | undefined,
): { width: number; height: number } {
  if (!width || !height || width <= 0 || height <= 0) return { ...UNKNOWN_THUMB };
  const scale = Math.min(1, THUMB_MAX_WIDTH / width, THUMB_MAX_HEIGHT / height);
  return {
    width: Math.max(24, Math.round(width * scale)),
    height: Math.max(24, Math.round(height * scale)),
  };
}

/** The height a message's file takes in its row (thumbnail box or card, with margins). */
export function fileHeight(file: {
  image: boolean;
  mime: string;
  width?: number | undefined;
  height?: number | undefined;
}): number {
  if (file.image && isInlineImageType(file.mime))
    return thumbnailSize(file.width, file.height).height + 8;
  return 68;
}

/** What sort of file, for its icon and its words ("PDF document"). */
export type FileKind = 'image' | 'audio' | 'video' | 'pdf' | 'archive' | 'text' | 'other';

export function fileKind(mime: string, name: string): FileKind {
  const type = mime.toLowerCase();
  const extension = /\.([a-z0-9]{1,8})$/i.exec(name)?.[1]?.toLowerCase() ?? '';
  if (type.startsWith('image/')) return 'image';
  if (type.startsWith('audio/')) return 'audio';
  if (type.startsWith('video/')) return 'video';
  if (type === 'application/pdf' || extension === 'pdf') return 'pdf';
  if (/zip|tar|gzip|compressed|7z|rar/.test(type) || /^(zip|tar|gz|tgz|7z|rar|xz)$/.test(extension))
    return 'archive';
  if (type.startsWith('text/') || /^(txt|md|csv|log|json)$/.test(extension)) return 'text';
  return 'other';
}

const KIND_WORDS: Record<FileKind, string> = {
  image: 'Image',
  audio: 'Audio file',
  video: 'Video',
  pdf: 'PDF document',
  archive: 'Archive',
  text: 'Text file',
  other: 'File',
};

export function kindWords(kind: FileKind): string {
  return KIND_WORDS[kind];
}

/** The refusal shown before anything is uploaded; null when the file may go. */
export function sizeProblem(size: number, maxFileBytes: number | undefined): string | null {
  if (maxFileBytes === 0) return 'This host does not take files.';
  if (size === 0) return 'This file is empty.';
  if (maxFileBytes !== undefined && size > maxFileBytes) {
    return `Too large to send: ${formatBytes(size)}. This host takes files up to ${formatBytes(maxFileBytes)}.`;
  }
  return null;
}

/** "Up to 25 MB on this host", or nothing when the host has not said. */
export function limitWords(maxFileBytes: number | undefined): string | null {
  if (maxFileBytes === undefined) return null;
  if (maxFileBytes === 0) return 'This host does not take files.';
  return `Up to ${formatBytes(maxFileBytes)} on this host`;
}

/** Standard base64 of bytes, in slices (a spread of millions of arguments would overflow). */
export function bytesToBase64(bytes: Uint8Array): string {
  let binary = '';
  const SLICE = 0x8000;
  for (let i = 0; i < bytes.length; i += SLICE) {
    binary += String.fromCharCode(...bytes.subarray(i, i + SLICE));
  }
  return btoa(binary);
}

export function base64ToBytes(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
