import type { Db } from '../../db/index.js';
import { rulesOf, type SchoolRules, todayOf } from '../school/rules.js';
import { addDays, type LocalDate } from '../shared/calendar.js';

/**
 * R14 lock: `lockAfterDays` after a lesson its record is locked; only the admin changes it, with
 * a reason that goes into the audit trail. The school's rules themselves: school/rules.ts.
 */

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
