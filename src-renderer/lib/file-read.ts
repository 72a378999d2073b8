// Reading a picked, dropped or pasted file in the renderer: its bytes as base64 for the
// `sendFile` request, and an image's size (for a thumbnail that has its height before it loads).
import { bytesToBase64, isInlineImageType } from './file-format.ts';

/** The name a pasted screenshot gets (the clipboard gives "image.png" or nothing). */
export function nameOf(file: File): string {
  const name = file.name.trim();
  if (name && name !== 'image.png') return name;
  const extension = /^image\/(png|jpeg|gif|webp)$/.exec(file.type)?.[1] ?? 'png';
  const stamp = new Date().toISOString().slice(0, 19).replace('T', ' ').replace(/:/g, '.');
  return `Pasted image ${stamp}.${extension === 'jpeg' ? 'jpg' : extension}`;
}

/** The file as standard base64: the browser's own encoder (fast on 25 MB), else ours. */
export async function readBase64(file: Blob): Promise<string> {
  if (typeof FileReader === 'function') {
    const url = await new Promise<string>((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => resolve(typeof reader.result === 'string' ? reader.result : '');
      reader.onerror = () => reject(reader.error ?? new Error('could not read the file'));
      reader.readAsDataURL(file);
    });
    // "data:<type>;base64,<data>": the part after the first comma.
    const comma = url.indexOf(',');
    if (url.startsWith('data:') && comma >= 0) return url.slice(comma + 1);
  }
  return bytesToBase64(new Uint8Array(await file.arrayBuffer()));
}

/**
 * The pixel size of an image the browser can decode; undefined for anything else (or an image
 * it cannot read: it is then sent as a file without a size).
 */
export async function imageSize(
  file: Blob,
): Promise<{ width: number; height: number } | undefined> {
  if (!isInlineImageType(file.type)) return undefined;
  if (typeof createImageBitmap === 'function') {
    try {
      const bitmap = await createImageBitmap(file);
      const size = { width: bitmap.width, height: bitmap.height };
      bitmap.close();
      return size.width > 0 && size.height > 0 ? size : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** The files a drag or a paste carries (none for text, links, or a drag from the page itself). */
export function filesOf(data: DataTransfer | null): File[] {
  if (!data) return [];
  const files = Array.from(data.files);
  if (files.length > 0) return files;
  // Some sources put a pasted image only in `items`.
  return Array.from(data.items)
    .filter((item) => item.kind === 'file')
    .map((item) => item.getAsFile())
    .filter((file): file is File => file !== null);
}

/** A drag that carries files (its types say so before the drop). */
export function carriesFiles(data: DataTransfer | null): boolean {
  return data !== null && Array.from(data.types).includes('Files');
}
