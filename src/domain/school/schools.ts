import type { Types } from 'mongoose';
import type { Locale } from '../../config.js';
import type { Db } from '../../db/index.js';
import type { SchoolDoc } from '../../db/models/school.js';
import { localDate } from '../shared/calendar.js';
import { DomainError } from '../shared/errors.js';
import { createDefaultYear } from './academic-year.js';

/**
 * Schools. A new school gets the regulation defaults in its settings (R13–R15, from the schema;
 * see rules.ts) and the current academic year (academic-year.ts): four quarters plus the year,
 * with the usual holidays between them; the admin adjusts them to the region's order for the year.
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

export async function createSchool(db: Db, input: CreateSchoolInput): Promise<School> {
  const name = input.name.replace(/\s+/g, ' ').trim();
  if (name.length === 0 || name.length > 200) throw new DomainError('cli.errors.badSchoolName', { max: 200 });
  const timezone = input.timezone.trim();
  if (!isValidTimeZone(timezone)) throw new DomainError('cli.errors.badTimezone', { timezone: input.timezone });
  const locale = input.locale ?? 'ru';
  const { School } = db.models;
  const school = await School.create({ name, timezone, locale });
  try {
    await createDefaultYear(db, school._id, localDate(input.now, timezone), locale);
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
