/**
 * What the tray icon and the launcher badge show for an unread count: the plain icon for 0,
 * the digit for 1–9, "9+" above. Few variants, so the tray image changes only when the
 * variant does, while the tooltip carries the exact number.
 */
export const BADGE_VARIANTS = ['none', '1', '2', '3', '4', '5', '6', '7', '8', '9', '9+'] as const;
export type BadgeVariant = (typeof BADGE_VARIANTS)[number];

export function badgeVariant(count: number): BadgeVariant {
  if (!Number.isFinite(count) || count < 1) return 'none';
  if (count > 9) return '9+';
  return String(Math.floor(count)) as BadgeVariant;
}

export function trayTooltip(count: number, muted = false): string {
  const unread =
    count < 1 ? 'no unread messages' : `${count} unread message${count === 1 ? '' : 's'}`;
  return `Parley — ${unread}${muted ? ' (notifications muted)' : ''}`;
}
