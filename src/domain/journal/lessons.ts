import { createHash } from 'node:crypto';
import type { Types } from 'mongoose';
import type { Db } from '../../db/index.js';
import type { LessonDoc } from '../../db/models/journal.js';
import { readsWholeSchool } from '../school/access.js';
import type { Actor } from '../school/actor.js';
import { appendAudit } from '../school/audit.js';
import { isoWeekday, type LocalDate } from '../shared/calendar.js';
import { AccessDenied, DomainError } from '../shared/errors.js';
import { assertCanEditLesson, assertCanReadLesson, type EditOptions, type LessonRef, type LessonRights, lessonRights } from './lesson-access.js';
import { isSchoolDay } from '../school/academic-year.js';
import { bellOf, loadSchoolRules, type SchoolRules, todayOf } from '../school/rules.js';
import { isLocked } from './locks.js';
import { fullName, toObjectId } from '../school/people.js';
import { STUDYING_STATUS } from '../shared/vocabulary.js';
import { classNameOn } from '../year/history.js';
import { assertDateWritable } from '../year/read-only.js';

/**
 * Lessons of a day. A Lesson document is made from a timetable slot valid on that date
 * (validFrom ≤ date ≤ validTo) the first time anyone opens the day (upsert on slotId+date);
 * substitutions of that date are applied. Dates are the school's local dates.
 */
type Id = Types.ObjectId;

export type Missing = 'attendance' | 'topic' | 'homework' | 'marks';

export interface LessonSummary {
  id: string;
  date: LocalDate;
  lessonNo?: number;
  start?: string;
  end?: string;
  classId: string;
  className: string;
  groupName?: string;
  subjectName: string;
  room?: string;
  status: 'scheduled' | 'cancelled';
  topic?: string;
  homeworkText?: string;
  homeworkFiles: number;
  attendanceTaken: boolean;
  marksCount: number;
  locked: boolean;
  /** 'me': the actor substitutes; 'other': someone substitutes for the actor. */
  substitution?: 'me' | 'other';
  missing: Missing[];
}

/** What a screen needs to name a lesson. */
export type LessonBrief = Pick<
  LessonSummary,
  'id' | 'date' | 'lessonNo' | 'start' | 'end' | 'classId' | 'className' | 'groupName' | 'subjectName' | 'room'
>;

export interface DayLessons {
  date: LocalDate;
  today: LocalDate;
  lessons: LessonSummary[];
}


function validOn(schoolId: Id, date: LocalDate) {
  return {
    schoolId,
    weekday: isoWeekday(date),
    validFrom: { $lte: date },
    $or: [{ validTo: null }, { validTo: { $gte: date } }],
  };
}

export interface SlotLike {
  _id: Id;
  schoolId: Id;
  classId: Id;
  groupId?: Id | null;
  subjectId: Id;
  teacherId: Id;
  lessonNo: number;
  room?: string | null;
  /** A timetable carried into a new year, not yet confirmed by the deputy (domain/year/rollover.ts). */
  draft?: boolean | null;
}

/** Creates the missing Lesson documents for these slots on `date` and applies substitutions. */
export async function materializeLessons(db: Db, date: LocalDate, allSlots: SlotLike[]): Promise<void> {
  await materializeSlotDays(
    db,
    allSlots.map((slot) => ({ date, slot })),
  );
}

/**
 * The same for many (day, slot) pairs at once — a period's grid (domain/journal/grid.ts): one read
 * of the lessons and substitutions that exist, one bulk write.
 */
export async function materializeSlotDays(db: Db, days: ReadonlyArray<{ date: LocalDate; slot: SlotLike }>): Promise<void> {
  // A draft timetable makes no lessons until the deputy confirms it (every caller comes through here).
  const wanted = days.filter((d) => !d.slot.draft);
  if (wanted.length === 0) return;
  const { Lesson, Substitution } = db.models;
  const ids = [...new Map(wanted.map((d) => [String(d.slot._id), d.slot._id])).values()];
  const dates = [...new Set(wanted.map((d) => d.date))];
  const [existing, subs] = await Promise.all([
    Lesson.find({ slotId: { $in: ids }, date: { $in: dates } }, { slotId: 1, date: 1, substituteId: 1 }).lean(),
    Substitution.find({ slotId: { $in: ids }, date: { $in: dates } }, { slotId: 1, date: 1, substituteId: 1 }).lean(),
  ]);
  const key = (slotId: unknown, date: string) => `${String(slotId)}|${date}`;
  const have = new Map(existing.map((l) => [key(l.slotId, l.date), l]));
  const subOf = new Map(subs.map((s) => [key(s.slotId, s.date), s.substituteId]));
  const ops: Parameters<typeof Lesson.bulkWrite>[0] = [];
  for (const { date, slot } of wanted) {
    const sub = subOf.get(key(slot._id, date)) ?? null;
    const lesson = have.get(key(slot._id, date));
    if (!lesson) {
      ops.push({
        updateOne: {
          filter: { slotId: slot._id, date },
          update: {
            $setOnInsert: {
              schoolId: slot.schoolId,
              classId: slot.classId,
              groupId: slot.groupId ?? null,
              subjectId: slot.subjectId,
              teacherId: slot.teacherId,
              lessonNo: slot.lessonNo,
              room: slot.room ?? undefined,
              status: 'scheduled',
              substituteId: sub,
            },
          },
          upsert: true,
        },
      });
    } else if (String(lesson.substituteId ?? '') !== String(sub ?? '')) {
      ops.push({ updateOne: { filter: { _id: lesson._id }, update: { $set: { substituteId: sub } } } });
    }
  }
  if (ops.length === 0) return;
  try {
    await Lesson.bulkWrite(ops, { ordered: false });
  } catch (e) {
    // Two processes opening the same day race on the unique (slotId, date): the other one won.
    const errors = (e as { writeErrors?: Array<{ code?: number }> }).writeErrors;
    if (!errors?.every((w) => w.code === 11000) && (e as { code?: number }).code !== 11000) throw e;
  }
}

/** Today's (or any day's) lessons of a teacher: own slots, substitutions to them, granted classes (R7). */
export { lessonsForTeacher } from './teacher-day.js';

/** A class's lessons of a day (R26 class teacher, teachers of the class, deputy, admin). */
export async function lessonsForClass(
  db: Db,
  actor: Actor,
  classId: string,
  date: LocalDate,
  now: Date,
): Promise<DayLessons & { className: string }> {
  const id = toObjectId(classId);
  const cls = await db.models.SchoolClass.findOne({ _id: id, schoolId: actor.schoolId }, { name: 1, history: 1 }).lean();
  if (!cls) throw new AccessDenied();
  const reads = readsWholeSchool(actor) || actor.classTeacherOf.has(classId) || actor.teachesClassIds.has(classId);
  if (!reads) throw new AccessDenied();
  const rules = await loadSchoolRules(db, actor.schoolId);
  if (await isSchoolDay(db, actor.schoolId, date)) {
    const slots = await db.models.TimetableSlot.find({ ...validOn(actor.schoolId, date), classId: id }).lean();
    await materializeLessons(db, date, slots);
  }
  const lessons = await db.models.Lesson.find({ schoolId: actor.schoolId, classId: id, date }).lean();
  return {
    date,
    // A day of a closed year names the class as it was then (R5: 7Б last year is 8Б now).
    className: classNameOn(cls, date),
    today: todayOf(rules, now),
    lessons: await summarize(db, actor, rules, lessons, now),
  };
}

type LessonLean = LessonDoc;

async function summarize(
  db: Db,
  actor: Actor,
  rules: SchoolRules,
  lessons: LessonLean[],
  now: Date,
): Promise<LessonSummary[]> {
  if (lessons.length === 0) return [];
  const { SchoolClass, Group, Subject, Mark } = db.models;
  const ids = lessons.map((l) => l._id);
  const uniq = (xs: Array<Id | null | undefined>) => [...new Set(xs.filter(Boolean).map(String))];
  const [classes, groups, subjects, counts] = await Promise.all([
    SchoolClass.find({ _id: { $in: uniq(lessons.map((l) => l.classId)) } }, { name: 1, history: 1 }).lean(),
    Group.find({ _id: { $in: uniq(lessons.map((l) => l.groupId)) } }, { name: 1 }).lean(),
    Subject.find({ _id: { $in: uniq(lessons.map((l) => l.subjectId)) } }, { name: 1, shortName: 1 }).lean(),
    Mark.aggregate<{ _id: Id; n: number }>([
      { $match: { lessonId: { $in: ids }, deletedAt: null } },
      { $group: { _id: '$lessonId', n: { $sum: 1 } } },
    ]),
  ]);
  const nameOf = (xs: Array<{ _id: Id; name: string }>) => new Map(xs.map((x) => [String(x._id), x.name]));
  const classById = new Map(classes.map((k) => [String(k._id), k]));
  const classNameOf = (l: LessonLean) => {
    const k = classById.get(String(l.classId));
    return k ? classNameOn(k, l.date) : '?';
  };
  const groupNames = nameOf(groups);
  const subjectNames = nameOf(subjects);
  const marks = new Map(counts.map((c) => [String(c._id), c.n]));
  const today = todayOf(rules, now);
  const me = actor.personId ? String(actor.personId) : '';
  return lessons
    .map((l) => summaryOf(l, rules, today, me, {
      className: classNameOf(l),
      groupName: l.groupId ? groupNames.get(String(l.groupId)) : undefined,
      subjectName: subjectNames.get(String(l.subjectId)) ?? '?',
      marksCount: marks.get(String(l._id)) ?? 0,
    }))
    .sort((a, b) => (a.lessonNo ?? 99) - (b.lessonNo ?? 99) || a.className.localeCompare(b.className, 'ru'));
}

export function summaryOf(
  l: LessonLean,
  rules: SchoolRules,
  today: LocalDate,
  me: string,
  names: { className: string; groupName?: string; subjectName: string; marksCount: number },
): LessonSummary {
  const bell = bellOf(rules, l.lessonNo);
  const status = l.status === 'cancelled' ? 'cancelled' : 'scheduled';
  const s: LessonSummary = {
    id: String(l._id),
    date: l.date,
    lessonNo: l.lessonNo ?? undefined,
    start: bell?.start,
    end: bell?.end,
    classId: String(l.classId),
    ...names,
    room: l.room ?? undefined,
    status,
    topic: l.topic ?? undefined,
    homeworkText: l.homework?.text ?? undefined,
    homeworkFiles: l.homework?.attachments?.length ?? 0,
    attendanceTaken: Boolean(l.attendanceTakenAt),
    locked: isLocked(l, rules, today),
    missing: [],
  };
  if (l.substituteId) s.substitution = String(l.substituteId) === me ? 'me' : String(l.teacherId) === me ? 'other' : undefined;
  // What is missing matters for lessons that took place (today's included); R10 allows entering ahead.
  if (status === 'scheduled' && l.date <= today) {
    if (!s.attendanceTaken) s.missing.push('attendance');
    if (!s.topic) s.missing.push('topic');
    if (!s.homeworkText && s.homeworkFiles === 0) s.missing.push('homework');
    if (s.marksCount === 0) s.missing.push('marks');
  }
  return s;
}

/** The lesson document, or AccessDenied when it is not of the actor's school (forged ids included). */
export async function loadLesson(db: Db, actor: Actor, lessonId: string | Id): Promise<LessonLean> {
  const lesson = await db.models.Lesson.findOne({ _id: toObjectId(lessonId), schoolId: actor.schoolId }).lean();
  if (!lesson) throw new AccessDenied();
  return lesson;
}

/**
 * A lesson about to be changed: loaded with the school's rules, and the actor's right to change
 * `what` in it today checked (R7, R13, R14); `check` says whether the admin overrides a lock.
 */
export async function lessonForEdit(db: Db, actor: Actor, lessonId: string | Id, now: Date, opts: Omit<EditOptions, 'rules' | 'today'>) {
  const lesson = await loadLesson(db, actor, lessonId);
  const rules = await loadSchoolRules(db, actor.schoolId);
  const check = await assertCanEditLesson(db, actor, lesson, { ...opts, rules, today: todayOf(rules, now) });
  return { lesson, rules, check };
}

export interface LessonView extends LessonSummary {
  teacherName: string;
  substituteName?: string;
  cancelReason?: string;
  absentCount: number;
  rights: LessonRights;
  groupId?: string;
  subjectId: string;
}

export async function getLessonView(db: Db, actor: Actor, lessonId: string, now: Date): Promise<LessonView> {
  const lesson = await loadLesson(db, actor, lessonId);
  const rights = await assertCanReadLesson(db, actor, lesson);
  const rules = await loadSchoolRules(db, actor.schoolId);
  const [summary] = await summarize(db, actor, rules, [lesson], now);
  if (!summary) throw new AccessDenied();
  const people = await db.models.Person.find(
    { _id: { $in: [lesson.teacherId, lesson.substituteId].filter(Boolean) } },
    { firstName: 1, lastName: 1, middleName: 1 },
  ).lean();
  const name = (id: Id | null | undefined) => {
    const p = id ? people.find((x) => String(x._id) === String(id)) : undefined;
    return p ? fullName(p) : undefined;
  };
  return {
    ...summary,
    teacherName: name(lesson.teacherId) ?? '—',
    substituteName: name(lesson.substituteId),
    cancelReason: lesson.cancelReason ?? undefined,
    absentCount: await db.models.Absence.countDocuments({ lessonId: lesson._id }),
    rights,
    groupId: lesson.groupId ? String(lesson.groupId) : undefined,
    subjectId: String(lesson.subjectId),
  };
}

/** Names and time of a lesson the caller has already been allowed to see. */
export async function lessonBrief(db: Db, lesson: LessonLean, rules?: SchoolRules): Promise<LessonBrief> {
  const [cls, subject, group, r] = await Promise.all([
    db.models.SchoolClass.findById(lesson.classId, { name: 1 }).lean(),
    db.models.Subject.findById(lesson.subjectId, { name: 1 }).lean(),
    lesson.groupId ? db.models.Group.findById(lesson.groupId, { name: 1 }).lean() : null,
    rules ?? loadSchoolRules(db, lesson.schoolId),
  ]);
  return briefFrom(lesson, r, { className: cls?.name, groupName: group?.name, subjectName: subject?.name });
}

/** A lesson's brief from names already read (lesson-bundle.ts reads them with the lesson). */
export function briefFrom(
  lesson: Pick<LessonLean, '_id' | 'date' | 'lessonNo' | 'classId' | 'room'>,
  rules: SchoolRules,
  names: { className?: string; groupName?: string; subjectName?: string },
): LessonBrief {
  const bell = bellOf(rules, lesson.lessonNo);
  return {
    id: String(lesson._id),
    date: lesson.date,
    lessonNo: lesson.lessonNo ?? undefined,
    start: bell?.start,
    end: bell?.end,
    classId: String(lesson.classId),
    className: names.className ?? '?',
    groupName: names.groupName,
    subjectName: names.subjectName ?? '?',
    room: lesson.room ?? undefined,
  };
}

// ─────────────── roster ───────────────

export interface RosterStudent {
  id: string;
  lastName: string;
  firstName: string;
  form?: string;
}

/** The students of a lesson: its group, or its class; withdrawn and transferred students are not. */
export async function lessonRoster(db: Db, lesson: Pick<LessonRef, 'schoolId' | 'classId' | 'groupId'>): Promise<RosterStudent[]> {
  const filter: Record<string, unknown> = { schoolId: lesson.schoolId, roles: 'student', 'student.status': STUDYING_STATUS };
  if (lesson.groupId) {
    const group = await db.models.Group.findById(lesson.groupId, { studentIds: 1 }).lean();
    filter._id = { $in: group?.studentIds ?? [] };
  } else {
    filter['student.classId'] = lesson.classId;
  }
  const people = await db.models.Person.find(filter, { lastName: 1, firstName: 1, student: 1 }).lean();
  return people
    .map((p) => ({ id: String(p._id), lastName: p.lastName, firstName: p.firstName, form: p.student?.form ?? undefined }))
    .sort((a, b) => a.lastName.localeCompare(b.lastName, 'ru') || a.firstName.localeCompare(b.firstName, 'ru'));
}

/** A short fingerprint of the roster's order: a button made for another roster is detected. */
export function rosterVersion(ids: readonly string[]): string {
  return createHash('sha1').update(ids.join(',')).digest('hex').slice(0, 8);
}

/** "Иванов М." for buttons; the full first name where two would look the same. */
export function rosterLabels(students: ReadonlyArray<Pick<RosterStudent, 'lastName' | 'firstName'>>): string[] {
  const short = students.map((s) => `${s.lastName} ${s.firstName.slice(0, 1)}.`);
  const seen = new Map<string, number>();
  for (const l of short) seen.set(l, (seen.get(l) ?? 0) + 1);
  return students.map((s, i) => ((seen.get(short[i] ?? '') ?? 0) > 1 ? `${s.lastName} ${s.firstName}` : (short[i] ?? '')));
}

/** Is this student taught in this lesson (its class or group)? */
export async function isInLesson(db: Db, lesson: LessonRef, studentId: Id): Promise<{ form?: string } | undefined> {
  const student = await db.models.Person.findOne(
    { _id: studentId, schoolId: lesson.schoolId, roles: 'student' },
    { student: 1 },
  ).lean();
  if (!student) return undefined;
  if (lesson.groupId) {
    const inGroup = await db.models.Group.exists({ _id: lesson.groupId, studentIds: studentId });
    if (!inGroup) return undefined;
  } else if (String(student.student?.classId) !== String(lesson.classId)) {
    return undefined;
  }
  return { form: student.student?.form ?? undefined };
}

// ─────────────── deputy: a lesson that did not take place (R7) ───────────────

export async function cancelLesson(db: Db, actor: Actor, lessonId: string, reason: string, now: Date): Promise<void> {
  const lesson = await loadLesson(db, actor, lessonId);
  const rights = await lessonRights(db, actor, lesson);
  if (!rights.cancel) throw new AccessDenied();
  await assertDateWritable(db, lesson.schoolId, lesson.date);
  const why = reason.trim();
  if (!why) throw new DomainError('journal.cancelReasonRequired');
  if (why.length > 300) throw new DomainError('common.tooLong', { max: 300 });
  if (lesson.status === 'cancelled') return;
  await db.models.Lesson.updateOne({ _id: lesson._id }, { $set: { status: 'cancelled', cancelReason: why } });
  await appendAudit(db, actor, now, {
    action: 'lesson.cancelled',
    entity: { type: 'lesson', id: lesson._id },
    lessonId: lesson._id,
    before: { status: lesson.status ?? 'scheduled' },
    after: { status: 'cancelled' },
    reason: why,
  });
}

/** The school's date today (its time zone). */
export async function schoolToday(db: Db, actor: Actor, now: Date): Promise<LocalDate> {
  return todayOf(await loadSchoolRules(db, actor.schoolId), now);
}

/** Dates of the last `weeks` weeks with school days (Mon–Sat), newest first, for the date picker. */
export function recentDates(today: LocalDate, weeks: number): LocalDate[] {
  const out: LocalDate[] = [];
  for (let i = 0; i < weeks * 7; i++) {
    const d = new Date(Date.parse(`${today}T00:00:00Z`) - i * 86_400_000).toISOString().slice(0, 10);
    if (isoWeekday(d) !== 7) out.push(d);
  }
  return out;
}
