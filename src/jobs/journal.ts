import type { Agenda } from 'agenda';
import type { Types } from 'mongoose';
import type { BotDeps } from '../bot/context.js';
import type { Db } from '../db/index.js';
import { isoWeekday, localTimeOf, minutesOf } from '../domain/shared/calendar.js';
import { materializeLessons } from '../domain/journal/lessons.js';
import { lockOldLessons } from '../domain/journal/locks.js';
import { isSchoolDay } from '../domain/school/academic-year.js';
import { bellOf, rulesOf, type SchoolRules, todayOf } from '../domain/school/rules.js';
import { remindStaff, type StaffReminder } from '../domain/notices/staff.js';

/**
 * The journal's scheduled work. Every handler takes `now` from deps (tests move the clock, they do
 * not wait) and is idempotent: the lock keeps the first `lockedAt`; each notice is claimed by
 * inserting its key into journal_notices before it is queued, so a rerun, a restart or a second
 * worker never queues it twice. Reminders go through the outbox like every notification (the
 * delivery worker sends them, src/notify/render/staff.ts words them in the teacher's language).
 */
export const JOURNAL_JOBS = {
  lockLessons: 'journal:lock-lessons',
  attendanceReminders: 'journal:attendance-reminders',
  endOfDay: 'journal:end-of-day',
  cleanupDrafts: 'journal:cleanup-drafts',
} as const;

/** When the end-of-day list of what is missing goes out (school's local time). */
export const END_OF_DAY_AT = '16:30';
/** Reminders are not sent later than this, nor before the first lesson (quiet hours for staff). */
const LATEST_NOTICE_AT = '21:00';
/** Drafts older than this are dropped (an unsaved sheet from the day before yesterday is noise). */
const DRAFT_TTL_MS = 2 * 24 * 3600_000;

type Id = Types.ObjectId;
export type JobDeps = Pick<BotDeps, 'db' | 'logger' | 'now'>;

async function claimNotice(
  db: Db,
  key: string,
  doc: { schoolId: Id; personId: Id; kind: StaffReminder['kind']; at: Date },
): Promise<boolean> {
  try {
    await db.models.JournalNotice.create({ _id: key, ...doc, status: 'claimed' });
    return true;
  } catch (e) {
    if ((e as { code?: number }).code === 11000) return false;
    throw e;
  }
}

/**
 * Claims the notice, then hands it to the outbox. A failure to queue releases the claim so the
 * next run retries; otherwise the notice is final (`sent`: queued for delivery; `skipped`: the
 * person cannot be reached). Returns whether it was queued now.
 */
export async function remindOnce(
  deps: JobDeps,
  notice: { key: string; schoolId: Id; personId: Id; at: Date },
  reminder: StaffReminder,
): Promise<boolean> {
  const { db } = deps;
  const { key, schoolId, personId, at } = notice;
  if (!(await claimNotice(db, key, { schoolId, personId, kind: reminder.kind, at }))) return false;
  const result = await remindStaff(db, { ...reminder, ...notice }).catch((err: unknown) => {
    deps.logger.warn({ err, key }, 'Staff reminder not queued');
    return undefined;
  });
  if (result === undefined) await db.models.JournalNotice.deleteOne({ _id: key, status: 'claimed' });
  else await db.models.JournalNotice.updateOne({ _id: key }, { $set: { status: result === 'queued' ? 'sent' : 'skipped' } });
  return result === 'queued';
}

async function todaysLessons(db: Db, rules: SchoolRules, today: string) {
  const slots = await db.models.TimetableSlot.find({
    schoolId: rules.schoolId,
    weekday: isoWeekday(today),
    validFrom: { $lte: today },
    $or: [{ validTo: null }, { validTo: { $gte: today } }],
  }).lean();
  const schoolDay = await isSchoolDay(db, rules.schoolId, today);
  if (schoolDay) await materializeLessons(db, today, slots);
  return db.models.Lesson.find({ schoolId: rules.schoolId, date: today, status: { $ne: 'cancelled' } }).lean();
}

/** R14: lock every lesson older than each school's limit. */
export async function runLockLessons(deps: JobDeps): Promise<number> {
  const now = deps.now();
  const results = await lockOldLessons(deps.db, now);
  const locked = results.reduce((s, r) => s + r.locked, 0);
  deps.logger.info({ locked, schools: results.length }, 'Lessons locked');
  return locked;
}

/**
 * Each school whose local time of day passes `inHours`, with its today and today's lessons
 * (a school without lessons today is left out).
 */
async function* schoolDays(deps: JobDeps, now: Date, inHours: (minutes: number) => boolean) {
  const schools = await deps.db.models.School.find({}, { timezone: 1, locale: 1, settings: 1 }).lean();
  for (const school of schools) {
    const rules = rulesOf(school);
    const today = todayOf(rules, now);
    const minutes = minutesOf(localTimeOf(now, rules.timezone));
    if (!inHours(minutes)) continue;
    const lessons = await todaysLessons(deps.db, rules, today);
    if (lessons.length > 0) yield { schoolId: school._id, rules, today, minutes, lessons };
  }
}

/** The class and subject names of these lessons, for a reminder's lines. */
async function namesOf(db: Db, lessons: Array<{ classId: Id; subjectId: Id }>) {
  const [classes, subjects] = await Promise.all([
    db.models.SchoolClass.find({ _id: { $in: lessons.map((l) => l.classId) } }, { name: 1 }).lean(),
    db.models.Subject.find({ _id: { $in: lessons.map((l) => l.subjectId) } }, { name: 1 }).lean(),
  ]);
  return (lesson: { classId: Id; subjectId: Id }) => ({
    className: classes.find((c) => String(c._id) === String(lesson.classId))?.name ?? '',
    subject: subjects.find((s) => String(s._id) === String(lesson.subjectId))?.name ?? '',
  });
}

/**
 * R19: a teacher who has not marked attendance by the end of the lesson gets one reminder (the
 * substitute, when there is one).
 */
export async function runAttendanceReminders(deps: JobDeps): Promise<number> {
  const now = deps.now();
  let sent = 0;
  for await (const { schoolId, rules, minutes, lessons } of schoolDays(deps, now, (m) => m < minutesOf(LATEST_NOTICE_AT))) {
    const due = lessons.filter((l) => {
      const bell = bellOf(rules, l.lessonNo);
      return !l.attendanceTakenAt && bell && minutes >= minutesOf(bell.end);
    });
    if (due.length === 0) continue;
    const names = await namesOf(deps.db, due);
    for (const lesson of due) {
      const personId = lesson.substituteId ?? lesson.teacherId;
      const bell = bellOf(rules, lesson.lessonNo);
      const queued = await remindOnce(deps, { key: `att:${lesson._id}`, schoolId, personId, at: now }, {
        kind: 'attendanceReminder',
        payload: { lessonId: String(lesson._id), lessonNo: lesson.lessonNo, start: bell?.start, end: bell?.end, ...names(lesson) },
      });
      if (queued) sent++;
    }
  }
  if (sent) deps.logger.info({ sent }, 'Attendance reminders queued');
  return sent;
}

/** After lessons: each teacher gets one list of today's lessons with what is still missing. */
export async function runEndOfDay(deps: JobDeps): Promise<number> {
  const now = deps.now();
  const { db } = deps;
  let sent = 0;
  const inHours = (m: number) => m >= minutesOf(END_OF_DAY_AT) && m < minutesOf(LATEST_NOTICE_AT);
  for await (const { schoolId, today, lessons } of schoolDays(deps, now, inHours)) {
    const counts = await db.models.Mark.aggregate<{ _id: Id; n: number }>([
      { $match: { lessonId: { $in: lessons.map((l) => l._id) }, deletedAt: null } },
      { $group: { _id: '$lessonId', n: { $sum: 1 } } },
    ]);
    const marked = new Set(counts.map((c) => String(c._id)));
    const byTeacher = new Map<string, Array<{ lesson: (typeof lessons)[number]; missing: string[] }>>();
    for (const l of lessons) {
      const missing: string[] = [];
      if (!l.attendanceTakenAt) missing.push('attendance');
      if (!l.topic) missing.push('topic');
      if (!l.homework?.text && !l.homework?.attachments?.length) missing.push('homework');
      if (!marked.has(String(l._id))) missing.push('marks');
      if (missing.length === 0) continue;
      const key = String(l.substituteId ?? l.teacherId);
      const list = byTeacher.get(key) ?? [];
      list.push({ lesson: l, missing });
      byTeacher.set(key, list);
    }
    if (byTeacher.size === 0) continue;
    const names = await namesOf(db, [...byTeacher.values()].flat().map((i) => i.lesson));
    for (const [teacher, items] of byTeacher) {
      const personId = items[0]?.lesson.substituteId ?? items[0]?.lesson.teacherId;
      if (!personId) continue;
      const lessonLines = items
        .sort((a, b) => (a.lesson.lessonNo ?? 0) - (b.lesson.lessonNo ?? 0))
        .map(({ lesson, missing }) => ({ lessonNo: lesson.lessonNo, ...names(lesson), missing }));
      const queued = await remindOnce(deps, { key: `eod:${teacher}:${today}`, schoolId, personId, at: now }, {
        kind: 'endOfDay',
        payload: { date: today, lessons: lessonLines },
      });
      if (queued) sent++;
    }
  }
  return sent;
}

export async function runCleanupDrafts(deps: JobDeps): Promise<number> {
  const before = new Date(deps.now().getTime() - DRAFT_TTL_MS);
  const { deletedCount } = await deps.db.models.AttendanceDraft.deleteMany({ updatedAt: { $lt: before } });
  // Notices older than a month have done their job (their keys contain the date or the lesson).
  await deps.db.models.JournalNotice.deleteMany({ at: { $lt: new Date(deps.now().getTime() - 31 * 24 * 3600_000) } });
  return deletedCount;
}

export async function defineJournalJobs(agenda: Agenda, deps: JobDeps): Promise<void> {
  agenda.define(JOURNAL_JOBS.lockLessons, async () => {
    await runLockLessons(deps);
  });
  agenda.define(JOURNAL_JOBS.attendanceReminders, async () => {
    await runAttendanceReminders(deps);
  });
  agenda.define(JOURNAL_JOBS.endOfDay, async () => {
    await runEndOfDay(deps);
  });
  agenda.define(JOURNAL_JOBS.cleanupDrafts, async () => {
    await runCleanupDrafts(deps);
  });
  await agenda.every('1 hour', JOURNAL_JOBS.lockLessons);
  await agenda.every('5 minutes', JOURNAL_JOBS.attendanceReminders);
  await agenda.every('15 minutes', JOURNAL_JOBS.endOfDay);
  await agenda.every('1 day', JOURNAL_JOBS.cleanupDrafts);
}
