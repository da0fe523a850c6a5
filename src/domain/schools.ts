import type { Types } from 'mongoose';
import type { Locale } from '../config.js';
import type { Db } from '../db/index.js';
import type { SchoolDoc } from '../db/models/school.js';
import { DomainError } from './errors.js';
import { localDate } from './imports/common.js';

/**
 * Schools and their academic calendar. A new school gets the regulation defaults in its settings
 * (R13–R15, from the schema) and the current academic year: four quarters plus the year, with
 * the usual holidays between them. Dates are the school's local calendar dates (YYYY-MM-DD);
 * the admin adjusts them to the region's order for the year.
 */

export type School = SchoolDoc;

export interface CreateSchoolInput {
  name: string;
  /** IANA zone, e.g. Europe/Moscow, Asia/Yekaterinburg. */
  timezone: string;
  locale?: Locale;
  now: Date;
}

export function isValidTimeZone(timeZone: string): boolean {
  if (!timeZone || timeZone.length > 64) return false;
  try {
    new Intl.DateTimeFormat(undefined, { timeZone });
    return true;
  } catch {
    return false;
  }
}

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

export async function createSchool(db: Db, input: CreateSchoolInput): Promise<School> {
  const name = input.name.replace(/\s+/g, ' ').trim();
  if (name.length === 0 || name.length > 200) throw new DomainError('cli.errors.badSchoolName', { max: 200 });
  const timezone = input.timezone.trim();
  if (!isValidTimeZone(timezone)) throw new DomainError('cli.errors.badTimezone', { timezone: input.timezone });
  const locale = input.locale ?? 'ru';
  const { School, AcademicYear } = db.models;
  const school = await School.create({ name, timezone, locale });
  try {
    await AcademicYear.create({ schoolId: school._id, ...academicYearFor(localDate(input.now, timezone), locale) });
  } catch (error) {
    // No transactions: undo the school rather than leave one without a calendar.
    await School.deleteOne({ _id: school._id });
    throw error;
  }
  return school.toObject() as School;
}

export async function getSchool(db: Db, id: string | Types.ObjectId): Promise<School | undefined> {
  if (typeof id === 'string' && !/^[0-9a-f]{24}$/i.test(id)) return undefined;
  const school = await db.models.School.findById(id).lean();
  return (school as School | null) ?? undefined;
}

export async function listSchools(db: Db): Promise<School[]> {
  return (await db.models.School.find({}).sort({ createdAt: 1 }).lean()) as School[];
}
