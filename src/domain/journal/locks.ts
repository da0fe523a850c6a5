import { cachedSchool } from '../../db/school-cache.js';
import { settingsOf } from '../school/schools.js';
import type { Types } from 'mongoose';
import type { Db } from '../../db/index.js';
import { DEFAULT_BELLS, DEFAULT_WORK_KINDS } from '../../db/models/school.js';
import { addDays, type LocalDate, localDateOf } from '../shared/calendar.js';
import { NotFound } from '../shared/errors.js';

/**
 * Time rules of the journal, per school (the regulation's values are defaults a school may change):
 * - R13 deadlines: class-work marks within `classWorkDueDays` after the lesson, written work
 *   (tests, control work) within `writtenWorkDueDays`;
 * - R14 lock: `lockAfterDays` after a lesson its record is locked; only the admin changes it, with
 *   a reason that goes into the audit trail.
 */
export interface WorkKind {
  code: string;
  name: { ru: string; en: string };
  weight: number;
  written: boolean;
}

export interface Bell {
  lessonNo: number;
  start: string;
  end: string;
}

export interface SchoolRules {
  schoolId: Types.ObjectId;
  timezone: string;
  locale: string;
  lockAfterDays: number;
  classWorkDueDays: number;
  writtenWorkDueDays: number;
  workKinds: WorkKind[];
  bells: Bell[];
}

export async function loadSchoolRules(db: Db, schoolId: Types.ObjectId): Promise<SchoolRules> {
  const school = await cachedSchool(db, schoolId);
  if (!school) throw new NotFound('school');
  return rulesOf(school);
}

type SchoolLike = {
  _id: Types.ObjectId;
  timezone: string;
  locale?: string | null;
  settings?: {
    lockAfterDays?: number | null;
    classWorkDueDays?: number | null;
    writtenWorkDueDays?: number | null;
    workKinds?: Array<{ code: string; name?: { ru?: string | null; en?: string | null } | null; weight: number; written?: boolean | null }> | null;
    bells?: Array<{ lessonNo: number; start: string; end: string }> | null;
  } | null;
};

export function rulesOf(school: SchoolLike): SchoolRules {
  const s = school.settings ?? {};
  const withDefaults = settingsOf(school);
  const kinds = s.workKinds?.length ? s.workKinds : DEFAULT_WORK_KINDS;
  return {
    schoolId: school._id,
    timezone: school.timezone,
    locale: school.locale ?? 'ru',
    lockAfterDays: withDefaults.lockAfterDays,
    classWorkDueDays: withDefaults.classWorkDueDays,
    writtenWorkDueDays: withDefaults.writtenWorkDueDays,
    workKinds: kinds.map((k) => ({
      code: k.code,
      name: { ru: k.name?.ru ?? k.code, en: k.name?.en ?? k.name?.ru ?? k.code },
      weight: k.weight,
      written: Boolean(k.written),
    })),
    bells: (s.bells?.length ? s.bells : DEFAULT_BELLS).map((b) => ({ lessonNo: b.lessonNo, start: b.start, end: b.end })),
  };
}

export const todayOf = (rules: Pick<SchoolRules, 'timezone'>, now: Date): LocalDate => localDateOf(now, rules.timezone);

/** R14: lessons on or before this date are locked on `today`. */
export const lockCutoff = (today: LocalDate, lockAfterDays: number): LocalDate => addDays(today, -lockAfterDays);

/** Locked by the job, or old enough to be (the job may not have run yet: the rule, not the job, decides). */
export function isLocked(
  lesson: { date: string; lockedAt?: Date | null },
  rules: Pick<SchoolRules, 'lockAfterDays'>,
  today: LocalDate,
): boolean {
  return Boolean(lesson.lockedAt) || lesson.date <= lockCutoff(today, rules.lockAfterDays);
}

/** R13: the last day on which a new mark of this kind may be entered for a lesson of `lessonDate`. */
export function markDeadline(lessonDate: LocalDate, kind: Pick<WorkKind, 'written'>, rules: SchoolRules): LocalDate {
  return addDays(lessonDate, kind.written ? rules.writtenWorkDueDays : rules.classWorkDueDays);
}

export function workKindOf(rules: SchoolRules, code: string): WorkKind | undefined {
  return rules.workKinds.find((k) => k.code === code);
}

export function bellOf(rules: SchoolRules, lessonNo: number | null | undefined): Bell | undefined {
  return lessonNo === null || lessonNo === undefined ? undefined : rules.bells.find((b) => b.lessonNo === lessonNo);
}

/**
 * The lock job's work (R14): marks every lesson older than each school's limit as locked, counted
 * in the school's own time zone. Idempotent: a lesson locked once keeps its first `lockedAt`.
 */
export async function lockOldLessons(
  db: Db,
  now: Date,
): Promise<Array<{ schoolId: string; cutoff: LocalDate; locked: number }>> {
  const schools = await db.models.School.find({}, { timezone: 1, locale: 1, settings: 1 }).lean();
  const out: Array<{ schoolId: string; cutoff: LocalDate; locked: number }> = [];
  for (const school of schools) {
    const rules = rulesOf(school);
    const cutoff = lockCutoff(todayOf(rules, now), rules.lockAfterDays);
    const res = await db.models.Lesson.updateMany(
      { schoolId: school._id, lockedAt: null, date: { $lte: cutoff } },
      { $set: { lockedAt: now } },
    );
    out.push({ schoolId: String(school._id), cutoff, locked: res.modifiedCount });
  }
  return out;
}
