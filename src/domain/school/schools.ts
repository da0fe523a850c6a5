import type { Types } from 'mongoose';
import type { Locale } from '../../config.js';
import type { Db } from '../../db/index.js';
import type { SchoolDoc } from '../../db/models/school.js';
import { z } from 'zod';
import type { Actor } from './actor.js';
import { appendAudit } from './audit.js';
import { AccessDenied, DomainError } from '../shared/errors.js';
import { localDate } from '../imports/common.js';

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

// ───────────────────────────── settings (R13–R15) ─────────────────────────────

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/);

/** What an admin (or the operator) may change; the limits are the schema's. */
export const schoolSettingsPatch = z
  .object({
    lockAfterDays: z.number().int().min(1).max(60), // R14
    classWorkDueDays: z.number().int().min(0).max(30), // R13
    writtenWorkDueDays: z.number().int().min(0).max(30), // R13
    finalMarkWindowDays: z.number().int().min(1).max(30), // R15
    markGraceMinutes: z.number().int().min(0).max(60),
    quietHours: z.object({ from: hhmm, to: hhmm }),
    inviteTtlDays: z.number().int().min(1).max(365),
  })
  .partial()
  .strict();
export type SchoolSettingsPatch = z.infer<typeof schoolSettingsPatch>;

export interface SchoolSettingsView {
  lockAfterDays: number;
  classWorkDueDays: number;
  writtenWorkDueDays: number;
  finalMarkWindowDays: number;
  markGraceMinutes: number;
  quietHours: { from: string; to: string };
  /** Unset: INVITE_TTL_DAYS, else 14. */
  inviteTtlDays?: number;
}

/** Stored settings, as far as they are set (older or partial documents). */
export interface StoredSettings {
  lockAfterDays?: number | null;
  classWorkDueDays?: number | null;
  writtenWorkDueDays?: number | null;
  finalMarkWindowDays?: number | null;
  markGraceMinutes?: number | null;
  quietHours?: { from?: string | null; to?: string | null } | null;
  inviteTtlDays?: number | null;
}

/** The school's rules with the regulation defaults filled in (one place for the defaults). */
export function settingsOf(school: { settings?: StoredSettings | null }): SchoolSettingsView {
  const s = school.settings ?? {};
  return {
    lockAfterDays: s.lockAfterDays ?? 7,
    classWorkDueDays: s.classWorkDueDays ?? 1,
    writtenWorkDueDays: s.writtenWorkDueDays ?? 5,
    finalMarkWindowDays: s.finalMarkWindowDays ?? 7,
    markGraceMinutes: s.markGraceMinutes ?? 5,
    quietHours: { from: s.quietHours?.from ?? '21:00', to: s.quietHours?.to ?? '08:00' },
    ...(typeof s.inviteTtlDays === 'number' ? { inviteTtlDays: s.inviteTtlDays } : {}),
  };
}

/**
 * Changes the school's rules (deadlines, lock, final-mark window, grace, quiet hours, invite
 * lifetime): the admin or the operator only. Every change is recorded in the audit trail with
 * before and after (R31); a patch that changes nothing writes nothing.
 */
export async function updateSchoolSettings(
  db: Db,
  actor: Actor,
  input: unknown,
  now: Date,
): Promise<{ settings: SchoolSettingsView; changed: string[] }> {
  if (!actor.roles.has('admin')) throw new AccessDenied();
  const parsed = schoolSettingsPatch.safeParse(input);
  if (!parsed.success) throw new DomainError('settings.invalid', { field: String(parsed.error.issues[0]?.path.join('.') ?? '') });
  const school = await db.models.School.findById(actor.schoolId, { settings: 1 }).lean();
  if (!school) throw new AccessDenied();
  const before = settingsOf(school);
  const set: Record<string, unknown> = {};
  const changed: string[] = [];
  for (const [key, value] of Object.entries(parsed.data)) {
    if (value === undefined) continue;
    if (JSON.stringify(before[key as keyof SchoolSettingsView]) === JSON.stringify(value)) continue;
    set[`settings.${key}`] = value;
    changed.push(key);
  }
  if (changed.length === 0) return { settings: before, changed };
  await db.models.School.updateOne({ _id: actor.schoolId }, { $set: set });
  const after = { ...before, ...parsed.data };
  await appendAudit(db, actor, now, {
    action: 'school.settings',
    entity: { type: 'School', id: actor.schoolId },
    before: Object.fromEntries(changed.map((k) => [k, before[k as keyof SchoolSettingsView] ?? null])),
    after: Object.fromEntries(changed.map((k) => [k, after[k as keyof SchoolSettingsView] ?? null])),
  });
  return { settings: after, changed };
}
