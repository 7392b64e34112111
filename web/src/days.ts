/** Calendar days in local time, as a date input shows them: `YYYY-MM-DD`. */

const DAY_MS = 86_400_000;

export function dayString(d: Date): string {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

export function daysFromToday(days: number): string {
  const d = new Date();
  d.setHours(12, 0, 0, 0);
  return dayString(new Date(d.getTime() + days * DAY_MS));
}

export function dayDate(day: string): Date {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return new Date(y, m - 1, d, 12);
}

/** The chosen last day is valid until the end of it: the mandate ends at the next local midnight. */
export function endOfDay(day: string): Date {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return new Date(y, m - 1, d + 1);
}

/** A well-formed day from tomorrow up to `lastDay`. */
export function isDayWithin(day: string, lastDay: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(day) && day >= daysFromToday(1) && day <= lastDay;
}
