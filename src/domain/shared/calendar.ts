/**
 * School-local calendar: a lesson happens on a day of the school's calendar ('YYYY-MM-DD'), and
 * "today", "yesterday", deadlines (R13) and the lock (R14) are counted in the school's time zone,
 * never in the server's. Dates are plain strings: they compare and sort correctly. Times are the
 * school's wall clock ('HH:MM'). The one home of both ways between an instant and the school's
 * wall clock: `zoned` / `localDate` (instant → local) and `instantOf` (local → instant, for quiet
 * hours, office hours and digest slots).
 */

export type LocalDate = string;

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const COMPACT_RE = /^(\d{4})(\d{2})(\d{2})$/;
const TIME_RE = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** A real calendar date in 'YYYY-MM-DD' form (2026-02-30 is not). */
export function isLocalDate(value: unknown): value is LocalDate {
  if (typeof value !== 'string') return false;
  const m = DATE_RE.exec(value);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toISOString().slice(0, 10) === value;
}

const FORMATS = new Map<string, Intl.DateTimeFormat>();

/**
 * Wall-clock parts of an instant in a time zone. The formatter is cached per zone: building one
 * costs far more than using it, and this runs on every journal update and every notification.
 */
function zonedParts(at: Date, timeZone: string): Record<string, string> {
  let fmt = FORMATS.get(timeZone);
  if (!fmt) {
    fmt = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    FORMATS.set(timeZone, fmt);
  }
  return Object.fromEntries(fmt.formatToParts(at).map((p) => [p.type, p.value]));
}

export interface ZonedParts {
  date: LocalDate;
  /** 'HH:MM' */
  time: string;
  /** Minutes since local midnight. */
  minutes: number;
  /** 1 = Monday … 7 = Sunday. */
  weekday: number;
}

/** The school's wall clock at an instant. */
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

/** The school's calendar date at an instant. */
export const localDate = (at: Date, timeZone: string): LocalDate => zoned(at, timeZone).date;

/** The school's wall-clock time 'HH:MM' at an instant. */
export const localTimeOf = (at: Date, timeZone: string): string => zoned(at, timeZone).time;

function toUtcMidnight(date: LocalDate): number {
  const m = DATE_RE.exec(date);
  if (!m) throw new Error(`not a date: ${date}`);
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
}

export function addDays(date: LocalDate, days: number): LocalDate {
  return new Date(toUtcMidnight(date) + days * 86_400_000).toISOString().slice(0, 10);
}

/** Whole days from `from` to `to` (positive when `to` is later). */
export function daysBetween(from: LocalDate, to: LocalDate): number {
  return Math.round((toUtcMidnight(to) - toUtcMidnight(from)) / 86_400_000);
}

/** ISO weekday: 1 = Monday … 7 = Sunday (as TimetableSlot.weekday). */
export function isoWeekday(date: LocalDate): number {
  const d = new Date(toUtcMidnight(date)).getUTCDay();
  return d === 0 ? 7 : d;
}

/** Monday of the week of `date`. */
export const weekStart = (date: LocalDate): LocalDate => addDays(date, 1 - isoWeekday(date));

/** 'YYYYMMDD' for callback data (8 bytes instead of 10). */
export const compactDate = (date: LocalDate) => date.replaceAll('-', '');

export function fromCompactDate(value: string): LocalDate | undefined {
  const m = COMPACT_RE.exec(value);
  if (!m) return undefined;
  const date = `${m[1]}-${m[2]}-${m[3]}`;
  return isLocalDate(date) ? date : undefined;
}

/** '23.11' */
export function dayMonth(date: LocalDate): string {
  return `${date.slice(8, 10)}.${date.slice(5, 7)}`;
}

/** '23.11.2026' */
export function fullDate(date: LocalDate): string {
  return `${date.slice(8, 10)}.${date.slice(5, 7)}.${date.slice(0, 4)}`;
}

/** The offset of the zone from UTC at an instant, in ms (Moscow: +3 h). */
function offsetMs(at: number, timeZone: string): number {
  const p = zonedParts(new Date(at), timeZone);
  const wall = Date.UTC(
    Number(p.year),
    Number(p.month) - 1,
    Number(p.day),
    Number(p.hour) % 24,
    Number(p.minute),
    Number(p.second),
  );
  return wall - Math.floor(at / 1000) * 1000;
}

/** The instant at which the school's wall clock shows `minutes` past midnight of `date` (DST gaps resolve forward). */
export function instantOf(date: LocalDate, minutes: number, timeZone: string): Date {
  const guess = toUtcMidnight(date) + minutes * 60_000;
  let at = guess - offsetMs(guess, timeZone);
  // Once more with the offset at the found instant (the first guess may sit across a DST change).
  at = guess - offsetMs(at, timeZone);
  return new Date(at);
}

/** Minutes since midnight for 'HH:MM' (compare wall-clock times without dates). */
export function minutesOf(time: string): number {
  const t = TIME_RE.exec(time);
  if (!t) throw new Error(`not a time: ${time}`);
  return Number(t[1]) * 60 + Number(t[2]);
}

/** Minutes since midnight for a stored 'H:MM' / 'HH:MM', or `fallback` when there is none (lenient: settings). */
export function parseTime(hhmm: string | null | undefined, fallback: number): number {
  const m = /^(\d{1,2}):(\d{2})$/.exec(hhmm ?? '');
  if (!m) return fallback;
  return (Number(m[1]) % 24) * 60 + Math.min(59, Number(m[2]));
}
