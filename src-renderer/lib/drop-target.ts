// Files dragged onto an element: `onactive(true)` while a drag carrying files is over it (the
// drop overlay shows), the files on drop. Text and links dragged about are left alone. A file
// dropped anywhere else in the window is refused: the page never opens or navigates to it.
import type { Attachment } from 'svelte/attachments';
import { carriesFiles, filesOf } from './file-read.ts';

export function dropTarget(handlers: {
  onactive: (active: boolean) => void;
  ondrop: (files: File[]) => void;
  /** Nowhere to send them now (no room): the drop is refused. */
  enabled?: () => boolean;
}): Attachment<HTMLElement> {
  return (element) => {
    // dragenter/dragleave fire for every child crossed: count them.
    let depth = 0;
    const enabled = (): boolean => handlers.enabled?.() ?? true;
    const refuse = (event: DragEvent): void => {
      event.preventDefault();
      if (event.dataTransfer) event.dataTransfer.dropEffect = 'none';
    };
    const onenter = (event: DragEvent): void => {
      if (!carriesFiles(event.dataTransfer)) return;
      if (!enabled()) return refuse(event);
      event.preventDefault();
      depth++;
      handlers.onactive(true);
    };
    const onover = (event: DragEvent): void => {
      if (!carriesFiles(event.dataTransfer)) return;
      if (!enabled()) return refuse(event);
      event.preventDefault();
      if (event.dataTransfer) event.dataTransfer.dropEffect = 'copy';
    };
    const onleave = (event: DragEvent): void => {
      if (!carriesFiles(event.dataTransfer)) return;
      depth = Math.max(0, depth - 1);
      if (depth === 0) handlers.onactive(false);
    };
    const ondrop = (event: DragEvent): void => {
      depth = 0;
      handlers.onactive(false);
      if (!carriesFiles(event.dataTransfer)) return;
      event.preventDefault();
      if (!enabled()) return;
      const files = filesOf(event.dataTransfer);
      if (files.length > 0) handlers.ondrop(files);
    };
    // Outside the element (sidebar, dialogs): a file drop does nothing at all.
    const elsewhere = (event: DragEvent): void => {
      if (event.defaultPrevented || !carriesFiles(event.dataTransfer)) return;
      refuse(event);
    };
    element.addEventListener('dragenter', onenter);
    element.addEventListener('dragover', onover);
    element.addEventListener('dragleave', onleave);
    element.addEventListener('drop', ondrop);
    window.addEventListener('dragover', elsewhere);
    window.addEventListener('drop', elsewhere);
    return () => {
      element.removeEventListener('dragenter', onenter);
      element.removeEventListener('dragover', onover);
      element.removeEventListener('dragleave', onleave);
      element.removeEventListener('drop', ondrop);
      window.removeEventListener('dragover', elsewhere);
      window.removeEventListener('drop', elsewhere);
    };
  };
}
