import type { Types } from 'mongoose';
import type { Db } from '../../db/index.js';
import { storePeriodMark } from './period-mark-store.js';
import { PERIOD_MARK_VALUES } from '../shared/vocabulary.js';
import { STUDYING_STATUS } from '../shared/vocabulary.js';
import { yearById, currentYear } from '../school/academic-year.js';
import { isAdmin } from '../school/access.js';
import type { Actor } from '../school/actor.js';
import { toObjectId } from '../school/people.js';
import { addDays, fullDate, type LocalDate } from '../shared/calendar.js';
import { AccessDenied, DomainError } from '../shared/errors.js';
import { helpers } from './lesson-access.js';
import { schoolToday } from './lessons.js';

/**
 * A student arriving mid-year (R18, /arrivals): their class teacher enters the period marks of the
 * previous school's report within TRANSFER_MARK_DAYS of enrolment (the admin at any time), as
 * PeriodMarks with source 'transfer'. The screens' reads live here too, with the same rights, so a
 * forged button learns nothing: student → period → subject → mark.
 */
type Id = Types.ObjectId | string;

/** R18: period marks from a previous school's report, within this many days of enrolment. */
export const TRANSFER_MARK_DAYS = 3;

export interface ArrivalStudent {
  id: string;
  /** "Иванова Мария" */
  name: string;
  classId: string;
  className: string;
  enrolledOn?: LocalDate;
}

/** The list screen: the admin, or a teacher who leads a class. */
function assertCanEnterArrivals(actor: Actor): void {
  if (!isAdmin(actor) && actor.classTeacherOf.size === 0) throw new AccessDenied();
}

/** The student, for the class teacher of their class or the admin; anyone else learns nothing. */
async function arrivalStudent(db: Db, actor: Actor, studentId: Id): Promise<ArrivalStudent> {
  const student = await db.models.Person.findOne(
    { _id: toObjectId(studentId), schoolId: actor.schoolId, roles: 'student' },
    { firstName: 1, lastName: 1, student: 1 },
  ).lean();
  const classId = student?.student?.classId ? String(student.student.classId) : '';
  if (!student || (!isAdmin(actor) && !actor.classTeacherOf.has(classId))) throw new AccessDenied();
  const cls = classId ? await db.models.SchoolClass.findById(classId, { name: 1 }).lean() : null;
  return {
    id: String(student._id),
    name: `${student.lastName} ${student.firstName}`,
    classId,
    className: cls?.name ?? '—',
    enrolledOn: student.student?.enrolledOn ?? undefined,
  };
}

export interface Arrival {
  studentId: string;
  name: string;
  className: string;
  /** Enrolment within the window, else the arrival's movement date. */
  date: LocalDate;
}

/**
 * Students who arrived within TRANSFER_MARK_DAYS (enrolled then, or an arrival recorded then), of
 * the classes the actor leads (the admin: the school), by class and name.
 */
export async function listArrivals(db: Db, actor: Actor, now: Date): Promise<Arrival[]> {
  assertCanEnterArrivals(actor);
  const today = await schoolToday(db, actor, now);
  const since = addDays(today, -TRANSFER_MARK_DAYS);
  const recent = { $gte: since, $lte: today };
  const movements = await db.models.StudentMovement.find({ schoolId: actor.schoolId, kind: 'arrival', date: recent }, { studentId: 1, date: 1 }).lean();
  const arrivedOn = new Map(movements.map((m) => [String(m.studentId), m.date]));
  const filter: Record<string, unknown> = {
    schoolId: actor.schoolId,
    roles: 'student',
    'student.status': STUDYING_STATUS,
    $or: [{ 'student.enrolledOn': recent }, { _id: { $in: movements.map((m) => m.studentId) } }],
  };
  if (!isAdmin(actor)) filter['student.classId'] = { $in: [...actor.classTeacherOf] };
  const people = await db.models.Person.find(filter, { firstName: 1, lastName: 1, student: 1 }).lean();
  const classIds = [...new Set(people.map((p) => String(p.student?.classId ?? '')).filter(Boolean))];
  const classes = await db.models.SchoolClass.find({ _id: { $in: classIds }, schoolId: actor.schoolId }, { name: 1, grade: 1, letter: 1 }).lean();
  const classOf = new Map(classes.map((c) => [String(c._id), c]));
  return people
    .map((p) => {
      const cls = classOf.get(String(p.student?.classId ?? ''));
      const enrolled = p.student?.enrolledOn;
      const date = enrolled && enrolled >= since ? enrolled : (arrivedOn.get(String(p._id)) ?? enrolled ?? today);
      return { studentId: String(p._id), name: `${p.lastName} ${p.firstName}`, className: cls?.name ?? '—', grade: cls?.grade ?? 99, letter: cls?.letter ?? '', date };
    })
    .sort((a, b) => a.grade - b.grade || a.letter.localeCompare(b.letter, 'ru') || a.name.localeCompare(b.name, 'ru'))
    .map(({ grade: _g, letter: _l, ...row }) => row);
}

/**
 * The periods a transfer mark may be entered for: those of the current year begun by today (a
 * report can only hold those), not the year's own mark. `index` is the period's place in the
 * year as stored, so a button names it exactly.
 */
export async function arrivalPeriods(
  db: Db,
  actor: Actor,
  studentId: string,
  now: Date,
): Promise<{ student: ArrivalStudent; yearId?: string; periods: Array<{ index: number; code: string }> }> {
  const student = await arrivalStudent(db, actor, studentId);
  const today = await schoolToday(db, actor, now);
  const year = await currentYear(db, actor.schoolId, today);
  const periods = (year?.periods ?? [])
    .map((p, index) => ({ ...p, index }))
    .filter((p) => p.kind !== 'year' && p.startsOn <= today)
    .sort((a, b) => a.startsOn.localeCompare(b.startsOn))
    .map(({ index, code }) => ({ index, code }));
  return { student, yearId: year?.id, periods };
}

export interface ArrivalSubject {
  id: string;
  name: string;
  /** R16: taught without marks (К for a pass). */
  passFail: boolean;
  /** The transfer (or other) period mark already there. */
  value?: string;
}

export interface ArrivalStep {
  studentId: string;
  yearId: string;
  /** The period's index in the year (see `arrivalPeriods`). */
  period: number;
}

/** Subjects the class is taught (teaching load), by name, with the student's mark of the period. */
async function subjectsWithMarks(db: Db, actor: Actor, student: ArrivalStudent, yearId: string, periodCode: string): Promise<ArrivalSubject[]> {
  if (!student.classId) return [];
  const { TeachingLoad, Subject, PeriodMark } = db.models;
  const load = await TeachingLoad.find({ schoolId: actor.schoolId, classId: student.classId }, { subjectId: 1 }).lean();
  const ids = [...new Set(load.map((l) => String(l.subjectId)))];
  const [subjects, marks] = await Promise.all([
    Subject.find({ _id: { $in: ids }, schoolId: actor.schoolId }, { name: 1, assessment: 1 }).lean(),
    PeriodMark.find({ studentId: student.id, yearId, periodCode }, { subjectId: 1, value: 1 }).lean(),
  ]);
  const markOf = new Map(marks.map((m) => [String(m.subjectId), m.value]));
  return subjects
    .map((s) => ({ id: String(s._id), name: s.name, passFail: s.assessment === 'passfail', value: markOf.get(String(s._id)) }))
    .sort((a, b) => a.name.localeCompare(b.name, 'ru'));
}

export interface ArrivalSubjects {
  student: ArrivalStudent;
  periodCode: string;
  subjects: ArrivalSubject[];
}

/** One period's subjects for the student; undefined when the year or the period no longer exists (a stale button). */
export async function arrivalSubjects(db: Db, actor: Actor, step: ArrivalStep): Promise<ArrivalSubjects | undefined> {
  const student = await arrivalStudent(db, actor, step.studentId);
  const year = await yearById(db, actor.schoolId, step.yearId);
  const period = year?.periods[step.period];
  if (!year || !period) return undefined;
  return { student, periodCode: period.code, subjects: await subjectsWithMarks(db, actor, student, year.id, period.code) };
}

/** Enters one subject's transfer mark; the saved state of the period's subjects, and the subject to offer next. */
export async function saveArrivalMark(
  db: Db,
  actor: Actor,
  step: ArrivalStep & { subjectId: string; value: string },
  now: Date,
): Promise<{ saved: boolean; subject: ArrivalSubject; periodCode: string; next?: ArrivalSubject } | undefined> {
  const before = await arrivalSubjects(db, actor, step);
  const at = before?.subjects.findIndex((s) => s.id === step.subjectId) ?? -1;
  const subject = before?.subjects[at];
  if (!before || !subject) return undefined;
  const { saved } = await enterTransferPeriodMarks(
    db,
    actor,
    { studentId: before.student.id, yearId: step.yearId, periodCode: before.periodCode, marks: [{ subjectId: subject.id, value: step.value }] },
    now,
  );
  const { subjects } = before;
  // "Next subject": the first one after this without a mark of this period, else simply the next.
  const after = [...subjects.slice(at + 1), ...subjects.slice(0, at)];
  const next = after.find((s) => s.value === undefined) ?? subjects[at + 1];
  return { saved: saved > 0, subject, periodCode: before.periodCode, next };
}

/**
 * The class teacher enters the period marks of the previous school's report within
 * TRANSFER_MARK_DAYS of enrolment (PeriodMark source 'transfer'); the admin at any time.
 */
export async function enterTransferPeriodMarks(
  db: Db,
  actor: Actor,
  input: { studentId: string; yearId: string; periodCode: string; marks: Array<{ subjectId: string; value: string }> },
  now: Date,
): Promise<{ saved: number }> {
  const studentId = toObjectId(input.studentId);
  const { enrolledOn } = await arrivalStudent(db, actor, studentId);
  const year = await yearById(db, actor.schoolId, input.yearId);
  if (!year?.periods.some((p) => p.code === input.periodCode)) throw new DomainError('marks.badPeriod');
  const today = await schoolToday(db, actor, now);
  if (!isAdmin(actor)) {
    if (!enrolledOn) throw new DomainError('marks.transferNoEnrolment');
    const until = addDays(enrolledOn, TRANSFER_MARK_DAYS);
    if (today > until) {
      throw new DomainError('marks.transferLate', {
        date: fullDate(until),
        days: TRANSFER_MARK_DAYS,
        helpers: await helpers(db, actor.schoolId, 'admin'),
      });
    }
  }
  const subjects = await db.models.Subject.find(
    { _id: { $in: input.marks.map((m) => toObjectId(m.subjectId)) }, schoolId: actor.schoolId },
    { _id: 1 },
  ).lean();
  const known = new Set(subjects.map((s) => String(s._id)));
  for (const m of input.marks) {
    if (!known.has(m.subjectId)) throw new AccessDenied();
    if (!(PERIOD_MARK_VALUES as readonly string[]).includes(m.value.trim().toUpperCase())) {
      throw new DomainError('marks.invalidPeriod', { input: m.value.slice(0, 12) });
    }
  }
  let saved = 0;
  for (const m of input.marks) {
    const value = m.value.trim().toUpperCase();
    const key = { studentId, subjectId: toObjectId(m.subjectId), yearId: toObjectId(year.id), periodCode: input.periodCode };
    const before = await db.models.PeriodMark.findOne(key, { value: 1, source: 1 }).lean();
    if (before?.value === value) continue;
    if (await storePeriodMark(db, actor, { ...key, value, source: 'transfer', before }, now)) saved++;
  }
  return { saved };
}
