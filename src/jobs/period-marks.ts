import type { Agenda } from 'agenda';
import { teachersMissingPeriodMarks } from '../domain/journal/period-overview.js';
import { localTimeOf, minutesOf } from '../domain/shared/calendar.js';
import { toObjectId } from '../domain/school/people.js';
import { todayOf } from '../domain/school/rules.js';
import { type JobDeps, remindOnce } from './journal.js';

/**
 * R15: while a period-mark window is open, each teacher with marks still missing gets one
 * reminder a day (after lessons, before the staff quiet hours), listing the classes and subjects
 * and how many students are left. Idempotent per teacher and day (the journal's notice claim).
 */
export const PERIOD_MARK_JOBS = { reminders: 'journal:period-mark-reminders' } as const;

/** Not before lessons end, not after the staff quiet hours begin (school time). */
const FROM = '15:00';
const UNTIL = '21:00';

export async function runPeriodMarkReminders(deps: JobDeps): Promise<number> {
  const now = deps.now();
  let sent = 0;
  const schools = await deps.db.models.School.find({}, { timezone: 1 }).lean();
  for (const school of schools) {
    const minutes = minutesOf(localTimeOf(now, school.timezone));
    if (minutes < minutesOf(FROM) || minutes >= minutesOf(UNTIL)) continue;
    const today = todayOf({ timezone: school.timezone }, now);
    const byTeacher = await teachersMissingPeriodMarks(deps.db, school._id, now);
    for (const [teacherId, targets] of byTeacher) {
      const items = targets.map((t) => ({
        className: t.className,
        ...(t.groupName ? { groupName: t.groupName } : {}),
        subject: t.subjectName,
        periodCode: t.periodCode,
        missing: t.missing,
        closesOn: t.window.closesOn,
      }));
      const personId = toObjectId(teacherId);
      const queued = await remindOnce(deps, { key: `pmr:${teacherId}:${today}`, schoolId: school._id, personId, at: now }, {
        kind: 'periodMarksReminder',
        payload: { items },
      });
      if (queued) sent++;
    }
  }
  if (sent) deps.logger.info({ sent }, 'Period-mark reminders queued');
  return sent;
}

export async function definePeriodMarkJobs(agenda: Agenda, deps: JobDeps): Promise<void> {
  agenda.define(PERIOD_MARK_JOBS.reminders, async () => {
    await runPeriodMarkReminders(deps);
  });
  await agenda.every('30 minutes', PERIOD_MARK_JOBS.reminders);
}
