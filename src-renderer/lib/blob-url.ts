// A Blob URL for as long as an element shows it: made when the element mounts (or the blob
// changes), revoked when it goes. Rows of the timeline come and go as it scrolls; each one's
// image lives only while the row does.
import type { Attachment } from 'svelte/attachments';

/** Sets `src` of an <img> from a blob, revoking the URL on unmount. */
export function blobSource(blob: Blob): Attachment<HTMLImageElement> {
  return (image) => {
    const url = URL.createObjectURL(blob);
    image.src = url;
    return () => {
      image.removeAttribute('src');
      URL.revokeObjectURL(url);
    };
  };
}
