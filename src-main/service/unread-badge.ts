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

/**
 * The tray's tooltip: the exact unread count, and how many of those name us (`@nick`), said
 * apart because a mention is what a person wants to see first.
 */
export function trayTooltip(count: number, muted = false, mentions = 0): string {
  const unread =
    count < 1 ? 'no unread messages' : `${count} unread message${count === 1 ? '' : 's'}`;
  const named = mentions >= 1 ? `, ${mentions} mention${mentions === 1 ? '' : 's'}` : '';
  return `Parley — ${unread}${named}${muted ? ' (notifications muted)' : ''}`;
}

/** What the tray draws: the badge's count variant, and whether a mention marks it. */
export interface BadgeLook {
  readonly variant: BadgeVariant;
  readonly mention: boolean;
}

export function badgeLook(count: number, mentions: number): BadgeLook {
  const variant = badgeVariant(Math.max(count, mentions));
  return { variant, mention: variant !== 'none' && Number.isFinite(mentions) && mentions >= 1 };
}
