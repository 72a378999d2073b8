import { extname } from 'node:path';

/**
 * The media type a file is sent as, from its name's extension: the receiver shows PNG, JPEG,
 * GIF and WebP inline and offers anything else for saving, so only a few types matter; the
 * rest go as application/octet-stream (src-shared/files.ts sendableMime).
 */
const TYPES: Readonly<Record<string, string>> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.pdf': 'application/pdf',
  '.txt': 'text/plain',
  '.md': 'text/markdown',
  '.csv': 'text/csv',
  '.json': 'application/json',
  '.zip': 'application/zip',
  '.gz': 'application/gzip',
  '.tar': 'application/x-tar',
  '.mp3': 'audio/mpeg',
  '.mp4': 'video/mp4',
  '.ogg': 'audio/ogg',
  '.wav': 'audio/wav',
};

export function mimeOfName(name: string): string {
  return TYPES[extname(name).toLowerCase()] ?? '';
}
