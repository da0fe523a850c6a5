import type { Types } from 'mongoose';
import type { Locale } from '../../config.js';
import type { Db } from '../../db/index.js';
import type { LocalDate } from '../shared/calendar.js';
import { toObjectId } from './people.js';

/**
 * The school's calendar: its academic years with their periods (quarters, halves or trimesters,
 * plus the year itself) and holidays. Dates are the school's local calendar dates (YYYY-MM-DD),
 * which compare and sort as strings. Every question "which year / which day / which period" is
 * answered here; callers get plain objects, never documents.
 */
type Id = Types.ObjectId | string;

export type PeriodKind = 'quarter' | 'half' | 'trimester' | 'year';

export interface AcademicPeriod {
  /** q1..q4, h1..h2, t1..t3, year */
  code: string;
  kind: PeriodKind;
  startsOn: LocalDate;
  endsOn: LocalDate;
  /** R15: the period-mark window the admin opened; none = the default last week of the period. */
  markWindow?: { opensOn?: LocalDate; closesOn?: LocalDate };
  /** R15 for one class: its own window (see mark-windows.ts). */
  classWindows: Array<{ classId: string; opensOn?: LocalDate; closesOn?: LocalDate }>;
  /** The grade levels the period is for (quarters 1–9, halves 10–11); empty: every grade. */
  grades: number[];
}

export interface Holiday {
  name: string;
  startsOn: LocalDate;
  endsOn: LocalDate;
}

export interface AcademicYear {
  id: string;
  /** "2026/2027" */
  name: string;
  startsOn: LocalDate;
  endsOn: LocalDate;
  /** As the school set them: the year's own period included. */
  periods: AcademicPeriod[];
  holidays: Holiday[];
  /** 'archived' after the year-end rollover (R30). */
  status: 'active' | 'archived';
}

const within = (span: { startsOn: LocalDate; endsOn: LocalDate }, date: LocalDate) => span.startsOn <= date && date <= span.endsOn;

interface YearDoc {
  _id: Types.ObjectId;
  name: string;
  startsOn: string;
  endsOn: string;
  periods?: Array<{
    code: string;
    kind: string;
    startsOn: string;
    endsOn: string;
    markWindow?: { opensOn?: string | null; closesOn?: string | null } | null;
    classWindows?: Array<{ classId: unknown; opensOn?: string | null; closesOn?: string | null }> | null;
    grades?: number[] | null;
  }> | null;
  holidays?: Array<{ name?: string | null; startsOn: string; endsOn: string }> | null;
  status?: string | null;
}

function toYear(doc: YearDoc): AcademicYear {
  return {
    id: String(doc._id),
    name: doc.name,
    startsOn: doc.startsOn,
    endsOn: doc.endsOn,
    periods: (doc.periods ?? []).map((p) => ({
      code: p.code,
      kind: p.kind as PeriodKind,
      startsOn: p.startsOn,
      endsOn: p.endsOn,
      ...(p.markWindow?.opensOn || p.markWindow?.closesOn
        ? { markWindow: { opensOn: p.markWindow.opensOn ?? undefined, closesOn: p.markWindow.closesOn ?? undefined } }
        : {}),
      classWindows: (p.classWindows ?? []).map((w) => ({
        classId: String(w.classId),
        opensOn: w.opensOn ?? undefined,
        closesOn: w.closesOn ?? undefined,
      })),
      grades: [...(p.grades ?? [])],
    })),
    holidays: (doc.holidays ?? []).map((h) => ({ name: h.name ?? '', startsOn: h.startsOn, endsOn: h.endsOn })),
    status: doc.status === 'archived' ? 'archived' : 'active',
  };
}

/** The school's years in use (not archived by the rollover, R30), the latest first; `archived` adds the old ones. */
export async function activeYears(db: Db, schoolId: Id, opts: { archived?: boolean } = {}): Promise<AcademicYear[]> {
  const filter = opts.archived ? { schoolId } : { schoolId, status: 'active' as const };
  const years = await db.models.AcademicYear.find(filter).sort({ startsOn: -1 }).lean();
  return years.map((y) => toYear(y));
}

/** One year of the school by its id; a forged or another school's id finds nothing. */
export async function yearById(db: Db, schoolId: Id, yearId: string): Promise<AcademicYear | undefined> {
  const year = await db.models.AcademicYear.findOne({ _id: toObjectId(yearId), schoolId }).lean();
  return year ? toYear(year) : undefined;
}

/**
 * The year the school is in on `today`: the one containing it, else the latest begun (the summer
 * after a year ends). `orUpcoming`: else the latest one, even if it has not begun.
 */
export async function currentYear(
  db: Db,
  schoolId: Id,
  today: LocalDate,
  opts: { archived?: boolean; orUpcoming?: boolean } = {},
): Promise<AcademicYear | undefined> {
  const years = await activeYears(db, schoolId, opts);
  const found = years.find((y) => within(y, today)) ?? years.find((y) => y.startsOn <= today);
  return found ?? (opts.orUpcoming ? years[0] : undefined);
}

/**
 * Holidays and days outside the active academic year have no timetable lessons. A school without
 * any calendar yet has lessons every timetable day.
 */
export async function isSchoolDay(db: Db, schoolId: Id, date: LocalDate): Promise<boolean> {
  const years = await activeYears(db, schoolId);
  if (years.length === 0) return true;
  const year = years.find((y) => within(y, date));
  if (!year) return false;
  return !year.holidays.some((h) => within(h, date));
}

/**
 * The year's marking periods (quarters, halves or trimesters) in order, without the year itself;
 * with `grade`, only those for that grade level (quarters for 1–9, halves for 10–11).
 */
export const periodsOf = (year: Pick<AcademicYear, 'periods'>, grade?: number): AcademicPeriod[] =>
  year.periods
    .filter((p) => p.kind !== 'year' && (grade === undefined || p.grades.length === 0 || p.grades.includes(grade)))
    .sort((a, b) => a.startsOn.localeCompare(b.startsOn));

const HOLIDAY_NAMES: Record<Locale, { autumn: string; winter: string; spring: string }> = {
  ru: { autumn: 'Осенние каникулы', winter: 'Зимние каникулы', spring: 'Весенние каникулы' },
  en: { autumn: 'Autumn holidays', winter: 'Winter holidays', spring: 'Spring holidays' },
};

/**
 * The academic year a school is in (or about to start) on a local date: from June on, the year
 * starting that September; before June, the one that started the September before.
 * Quarters follow the typical Russian calendar: 1 Sep–26 Oct, 5 Nov–28 Dec, 12 Jan–22 Mar, 1 Apr–31 May.
 */
export function academicYearFor(today: string, locale: Locale = 'ru') {
  const year = Number(today.slice(0, 4));
  const month = Number(today.slice(5, 7));
  const y = month >= 6 ? year : year - 1;
  const n = y + 1;
  const names = HOLIDAY_NAMES[locale];
  return {
    name: `${y}/${n}`,
    startsOn: `${y}-09-01`,
    endsOn: `${n}-05-31`,
    periods: [
      { code: 'q1', kind: 'quarter' as const, startsOn: `${y}-09-01`, endsOn: `${y}-10-26` },
      { code: 'q2', kind: 'quarter' as const, startsOn: `${y}-11-05`, endsOn: `${y}-12-28` },
      { code: 'q3', kind: 'quarter' as const, startsOn: `${n}-01-12`, endsOn: `${n}-03-22` },
      { code: 'q4', kind: 'quarter' as const, startsOn: `${n}-04-01`, endsOn: `${n}-05-31` },
      { code: 'year', kind: 'year' as const, startsOn: `${y}-09-01`, endsOn: `${n}-05-31` },
    ],
    holidays: [
      { name: names.autumn, startsOn: `${y}-10-27`, endsOn: `${y}-11-04` },
      { name: names.winter, startsOn: `${y}-12-29`, endsOn: `${n}-01-11` },
      { name: names.spring, startsOn: `${n}-03-23`, endsOn: `${n}-03-31` },
    ],
  };
}

/** A new school's first year: the usual calendar around `today`, for the admin to adjust. */
export async function createDefaultYear(db: Db, schoolId: Id, today: LocalDate, locale: Locale): Promise<void> {
  await db.models.AcademicYear.create({ schoolId, ...academicYearFor(today, locale) });
}
