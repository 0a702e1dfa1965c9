/** How old a snapshot is, in whole days of the real clock (not the preview's as-of date). */
const DAY = 86_400_000;

export function ageDays(iso: string, now: Date): number | null {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : Math.max(0, Math.floor((now.getTime() - t) / DAY));
}

export function ageText(iso: string, now: Date): string {
  const d = ageDays(iso, now);
  return d === null ? 'age unknown' : d === 0 ? 'less than a day old' : `${d} day${d === 1 ? '' : 's'} old`;
}
