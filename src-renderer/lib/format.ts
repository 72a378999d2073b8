// Times and days for people, in the user's locale and time zone.
const time = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
const full = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'short' });
const dayThisYear = new Intl.DateTimeFormat(undefined, {
  weekday: 'long',
  day: 'numeric',
  month: 'long',
});
const dayOtherYear = new Intl.DateTimeFormat(undefined, { dateStyle: 'full' });

export const formatTime = (ts: number): string => time.format(ts);
export const formatFullTime = (ts: number): string => full.format(ts);

/** Local calendar day, as a sortable key: 2026-11-25. */
export function dayKey(ts: number): string {
  const d = new Date(ts);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

export function formatDay(ts: number, now: number): string {
  const key = dayKey(ts);
  if (key === dayKey(now)) return 'Today';
  const yesterday = new Date(now);
  yesterday.setDate(yesterday.getDate() - 1);
  if (key === dayKey(yesterday.getTime())) return 'Yesterday';
  const sameYear = new Date(ts).getFullYear() === new Date(now).getFullYear();
  return (sameYear ? dayThisYear : dayOtherYear).format(ts);
}

/** `7KQT XPAM 2VBN …` as groups, whatever spacing it came with. */
export function fingerprintGroups(fingerprint: string): string[] {
  const compact = fingerprint.toUpperCase().replace(/[\s-]/g, '');
  return compact.match(/.{1,4}/g) ?? [];
}

export function shortFingerprint(fingerprint: string): string {
  return fingerprintGroups(fingerprint).slice(0, 2).join(' ');
}

/** A stable colour slot (0–7) for a member, from their key, so a name keeps its colour. */
export function hueOf(key: string): number {
  let hash = 0;
  for (let i = 0; i < key.length; i++) hash = (hash * 31 + key.charCodeAt(i)) | 0;
  return Math.abs(hash) % 8;
}

export function initialOf(nick: string): string {
  return (Array.from(nick)[0] ?? '?').toUpperCase();
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}
