import { addDays, instantOf, parseTime, zoned } from '../shared/calendar.js';

/**
 * Quiet hours: a school's rule for when families are not disturbed (non-urgent messages wait
 * until the morning). Times are the school's wall clock ('HH:MM').
 */
export interface QuietHours {
  from?: string | null;
  to?: string | null;
}

const DEFAULT_QUIET_FROM = 21 * 60;
const DEFAULT_QUIET_TO = 8 * 60;

/**
 * When the quiet hours that contain `at` end, or undefined when `at` is not in quiet hours.
 * Quiet hours may span midnight (21:00–08:00, the default) or not (13:00–15:00).
 */
export function quietUntil(at: Date, timeZone: string, quiet: QuietHours | null | undefined): Date | undefined {
  const from = parseTime(quiet?.from, DEFAULT_QUIET_FROM);
  const to = parseTime(quiet?.to, DEFAULT_QUIET_TO);
  if (from === to) return undefined;
  const now = zoned(at, timeZone);
  const m = now.minutes;
  if (from < to) {
    return m >= from && m < to ? instantOf(now.date, to, timeZone) : undefined;
  }
  if (m >= from) return instantOf(addDays(now.date, 1), to, timeZone);
  if (m < to) return instantOf(now.date, to, timeZone);
  return undefined;
}
