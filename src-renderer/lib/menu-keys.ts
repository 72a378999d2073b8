/**
 * Keys inside an open menu (WAI-ARIA menu pattern), for the member and notification menus:
 * ArrowDown/ArrowUp move focus through `items` and wrap, Home/End go to the first/last, Escape
 * closes it and gives focus back (`hide(true)`), without reaching handlers further out, and Tab
 * closes it where focus goes on (`hide(false)`).
 */
export function onMenuKeydown(
  event: KeyboardEvent,
  items: readonly HTMLElement[],
  hide: (refocus: boolean) => void,
): void {
  const at = items.indexOf(document.activeElement as HTMLElement);
  const move = (to: number): void => {
    event.preventDefault();
    items[(to + items.length) % items.length]?.focus();
  };
  if (event.key === 'ArrowDown') move(at + 1);
  else if (event.key === 'ArrowUp') move(at - 1);
  else if (event.key === 'Home') move(0);
  else if (event.key === 'End') move(items.length - 1);
  else if (event.key === 'Escape') {
    event.preventDefault();
    event.stopPropagation();
    hide(true);
  } else if (event.key === 'Tab') hide(false);
}
