import type { Attachment } from 'svelte/attachments';

const FOCUSABLE = [
  'a[href]',
  'button:not([disabled])',
  'input:not([disabled]):not([type="hidden"])',
  'textarea:not([disabled])',
  'select:not([disabled])',
  '[tabindex]:not([tabindex="-1"])',
].join(',');

export function focusablesIn(root: HTMLElement): HTMLElement[] {
  return Array.from(root.querySelectorAll<HTMLElement>(FOCUSABLE)).filter(
    (el) => !el.closest('[inert]') && el.getAttribute('aria-hidden') !== 'true',
  );
}

/**
 * Keeps keyboard focus inside a dialog: focuses its `[data-autofocus]` element (the safe
 * action) or first control, wraps Tab at both ends, pulls focus back if it escapes, calls
 * `onEscape` for Escape, and when the dialog goes away gives focus to the page's
 * `[data-focus-home]` (the chat's message box: after any dialog over the chat, typing goes on
 * where it was) or else back to where it was.
 */
export function trapFocus(onEscape: () => void): Attachment<HTMLElement> {
  return (node) => {
    const previous = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    const first = (): HTMLElement =>
      node.querySelector<HTMLElement>('[data-autofocus]') ?? focusablesIn(node)[0] ?? node;
    const start = first();
    start.focus({ preventScroll: true });
    // A long dialog in a short window (200 % zoom): its default button lies below the fold, and
    // scrolling to it would hide the title and the explanation (a warning read from its end).
    // The dialog itself takes focus then and is read from its start, as the WAI-ARIA dialog
    // pattern advises; Tab reaches the buttons, Escape is still the safe way out.
    if (start !== node && !inView(node, start)) node.focus({ preventScroll: true });

    const onKeydown = (event: KeyboardEvent): void => {
      if (event.key === 'Escape') {
        event.preventDefault();
        event.stopPropagation();
        onEscape();
        return;
      }
      if (event.key !== 'Tab') return;
      const items = focusablesIn(node);
      const head = items[0];
      const tail = items[items.length - 1];
      if (!head || !tail) {
        event.preventDefault();
        return;
      }
      const active = document.activeElement;
      if (event.shiftKey && (active === head || !node.contains(active))) {
        event.preventDefault();
        tail.focus();
      } else if (!event.shiftKey && (active === tail || !node.contains(active))) {
        event.preventDefault();
        head.focus();
      }
    };
    const onFocusIn = (event: FocusEvent): void => {
      if (event.target instanceof Node && !node.contains(event.target)) first().focus();
    };
    node.addEventListener('keydown', onKeydown);
    document.addEventListener('focusin', onFocusIn);
    return () => {
      node.removeEventListener('keydown', onKeydown);
      document.removeEventListener('focusin', onFocusIn);
      // After the DOM update that removed the dialog: the page behind it is inert until then.
      queueMicrotask(() => {
        const active = document.activeElement;
        const lost = !active || active === document.body || !active.isConnected;
        if (!lost) return;
        const home = document.querySelector<HTMLElement>('[data-focus-home]');
        if (home && !home.closest('[inert]')) home.focus();
        else if (previous?.isConnected) previous.focus();
      });
    };
  };
}

/** The element is wholly inside the scroll box's visible part. */
function inView(box: HTMLElement, element: HTMLElement): boolean {
  const outer = box.getBoundingClientRect();
  const inner = element.getBoundingClientRect();
  return inner.top >= outer.top && inner.bottom <= outer.bottom;
}
