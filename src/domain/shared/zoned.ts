/**
 * Wall-clock time in a school's time zone, for quiet hours and digest slots. Dates are
 * 'YYYY-MM-DD', times 'HH:MM'. (src/domain/calendar.ts has the journal's date helpers; these add
 * the way back from a local time to an instant, which notifications need.)
 */
import { addDays, isoWeekday, zonedParts } from './calendar.js';

// One set of calendar helpers: the journal's (src/domain/calendar.ts).
export { addDays, dayMonth, isoWeekday } from './calendar.js';

export interface ZonedParts {
  date: string;
  time: string;
  /** Minutes since local midnight. */
  minutes: number;
  /** 1 = Monday … 7 = Sunday. */
  weekday: number;
}

export function zoned(at: Date, timeZone: string): ZonedParts {
  const p = zonedParts(at, timeZone);
  const date = `${p.year}-${p.month}-${p.day}`;
  const hour = Number(p.hour) % 24;
  const minute = Number(p.minute);
  return {
    date,
    time: `${String(hour).padStart(2, '0')}:${p.minute}`,
    minutes: hour * 60 + minute,
    weekday: isoWeekday(date),
  };
}

export const localDate = (at: Date, timeZone: string) => zoned(at, timeZone).date;


/** Monday of the week of `date`. */
export const weekStart = (date: string) => addDays(date, 1 - isoWeekday(date));

export function parseTime(hhmm: string | null | undefined, fallback: number): number {
  const m = /^(\d{1,2}):(\d{2})$/.exec(hhmm ?? '');
  if (!m) return fallback;
  return (Number(m[1]) % 24) * 60 + Math.min(59, Number(m[2]));
}

/** The offset of the zone from UTC at an instant, in ms (Moscow: +3 h). */
function offsetMs(at: Date, timeZone: string): number {
  const p = zonedParts(at, timeZone);
  const asUtc = Date.UTC(
    Number(p.year),
    Number(p.month) - 1,
    Number(p.day),
    Number(p.hour) % 24,
    Number(p.minute),
    Number(p.second),
  );
  return asUtc - Math.floor(at.getTime() / 1000) * 1000;
}

/** The instant when the zone's clock shows `date` `minutes` (DST gaps resolve forward). */
export function instantOf(date: string, minutes: number, timeZone: string): Date {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const guess = Date.UTC(y, m - 1, d, Math.floor(minutes / 60), minutes % 60);
  let at = guess - offsetMs(new Date(guess), timeZone);
  // Once more: the offset at the result may differ from the offset at the guess (DST change).
  at = guess - offsetMs(new Date(at), timeZone);
  return new Date(at);
}
