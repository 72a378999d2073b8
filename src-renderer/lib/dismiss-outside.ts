import type { Attachment } from 'svelte/attachments';

/**
 * For an open popup menu: a pointer press or a focus anywhere outside it calls `hide()`, except
 * on `trigger()` (its own button, which opens and closes it itself). With `scroll`, scrolling
 * anywhere closes it too: a fixed menu would stay put while the row that opened it moves away.
 */
export function dismissOutside(
  trigger: () => HTMLElement | undefined,
  hide: () => void,
  { scroll = false }: { scroll?: boolean } = {},
): Attachment<HTMLElement> {
  return (node) => {
    const away = (event: Event): void => {
      if (
        event.target instanceof Node &&
        !node.contains(event.target) &&
        event.target !== trigger()
      ) {
        hide();
      }
    };
    document.addEventListener('pointerdown', away, true);
    document.addEventListener('focusin', away, true);
    if (scroll) document.addEventListener('scroll', hide, true);
    return () => {
      document.removeEventListener('pointerdown', away, true);
      document.removeEventListener('focusin', away, true);
      if (scroll) document.removeEventListener('scroll', hide, true);
    };
  };
}
