import {
  DEFAULT_FILE_MIME,
  isInlineImage,
  normalizeMime,
  sanitizeFileName,
} from '../../src-shared/files.ts';
import type { FileView } from '../../src-shared/ipc/domain.ts';
import type { FileRef } from '../protocol/wire/chat-event.ts';

/**
 * What the renderer is told of a file a message carries: the sanitised name (src-shared/files.ts),
 * a media type it may rely on, whether it is shown inline. Never the key or the host's file id:
 * those stay in main (getFile / saveFile fetch the bytes there).
 */
export function fileView(ref: FileRef): FileView {
  const mime = normalizeMime(ref.mime) || DEFAULT_FILE_MIME;
  return {
    name: sanitizeFileName(ref.name),
    mime,
    size: ref.size,
    image: isInlineImage(mime, ref.size),
    ...(ref.width !== undefined ? { width: ref.width } : {}),
    ...(ref.height !== undefined ? { height: ref.height } : {}),
  };
}
