import type { Types } from 'mongoose';
import type { Db } from '../../db/index.js';
import type { AcademicYear } from '../school/academic-year.js';
import { STUDYING_STATUS } from '../shared/vocabulary.js';
import { defaultOutcome, LAST_GRADE } from './outcomes.js';

/**
 * The steps of closing a year (R5, R30), each idempotent on its own: every write is an upsert on a
 * unique key or an update conditional on the state before it, so a step interrupted halfway and
 * run again ends where one uninterrupted run would. close.ts runs them in order and records each.
 */
type Id = Types.ObjectId;

export interface StepContext {
  db: Db;
  schoolId: Id;
  year: AcademicYear;
  yearId: Id;
  now: Date;
  actorId?: Id;
}

// ───────────── (a) read-only ─────────────

/** Everyone without a recorded outcome gets the default (promoted; graduated in grade 11), with their class, then the year is archived. */
export async function freezeYear(c: StepContext): Promise<{ defaulted: number }> {
  const { db, schoolId, yearId } = c;
  const classes = await db.models.SchoolClass.find({ schoolId, closedAt: null }, { grade: 1 }).lean();
  const gradeOf = new Map(classes.map((k) => [String(k._id), k.grade]));
  const students = await db.models.Person.find(
    { schoolId, roles: 'student', 'student.status': STUDYING_STATUS, 'student.classId': { $in: classes.map((k) => k._id) } },
    { student: 1 },
  ).lean();
  const ops = students.map((s) => ({
    updateOne: {
      filter: { yearId, studentId: s._id },
      update: {
        $setOnInsert: {
          schoolId,
          classId: s.student?.classId,
          outcome: defaultOutcome(gradeOf.get(String(s.student?.classId)) ?? 1),
          retakeSubjectIds: [],
          setBy: null,
          byDefault: true,
        },
      },
      upsert: true,
    },
  }));
  const res = ops.length ? await db.models.StudentOutcome.bulkWrite(ops, { ordered: false }) : undefined;
  await db.models.AcademicYear.updateOne({ _id: yearId, schoolId }, { $set: { status: 'archived' } });
  return { defaulted: res?.upsertedCount ?? 0 };
}

// ───────────── (b) the next year ─────────────

/** A date a year later (29 February becomes 28 February). */
export function nextYearDate(date: string): string {
  const md = date.slice(4);
  return `${Number(date.slice(0, 4)) + 1}${md === '-02-29' ? '-02-28' : md}`;
}

/** "2026/2027" → "2027/2028"; any other name: the years of its dates. */
export function nextYearName(year: Pick<AcademicYear, 'name' | 'startsOn' | 'endsOn'>): string {
  if (/^\d{4}\/\d{4}$/.test(year.name)) return year.name.replace(/\d{4}/g, (y) => String(Number(y) + 1));
  return `${nextYearDate(year.startsOn).slice(0, 4)}/${nextYearDate(year.endsOn).slice(0, 4)}`;
}

/** The next year from this one's calendar shifted by a year (periods with their grades, holidays), to be edited; windows are not copied. */
export async function createNextYear(c: StepContext): Promise<Id> {
  const { db, schoolId, year } = c;
  const name = nextYearName(year);
  const doc = await db.models.AcademicYear.findOneAndUpdate(
    { schoolId, name },
    {
      $setOnInsert: {
        startsOn: nextYearDate(year.startsOn),
        endsOn: nextYearDate(year.endsOn),
        periods: year.periods.map((p) => ({
          code: p.code,
          kind: p.kind,
          startsOn: nextYearDate(p.startsOn),
          endsOn: nextYearDate(p.endsOn),
          grades: p.grades,
          classWindows: [],
        })),
        holidays: year.holidays.map((h) => ({ name: h.name, startsOn: nextYearDate(h.startsOn), endsOn: nextYearDate(h.endsOn) })),
        status: 'active',
      },
    },
    { upsert: true, returnDocument: 'after' },
  ).lean();
  if (!doc) throw new Error('next year not created');
  return doc._id;
}

// ───────────── (c) classes move up ─────────────

/** "5А" → "6А": the leading grade in the name follows the grade; a name without it becomes grade + letter. */
export function movedName(name: string, grade: number, letter: string, to: number): string {
  return name.startsWith(String(grade)) && !/^\d/.test(name.slice(String(grade).length)) ? `${to}${name.slice(String(grade).length)}` : `${to}${letter}`;
}

/**
 * Every class of the snapshot moves up a grade (the highest first, so the name it takes is free),
 * keeping its id, groups and load, with a `history` entry of the year; the last grade graduates:
 * closed and renamed. Then the students whose outcome says so move: repeaters to the class that
 * is now their grade and letter (created if missing), the expelled withdraw, graduates leave.
 */
export async function moveClassesUp(c: StepContext, classIds: Id[]): Promise<{ moved: number; closed: number; students: number }> {
  const { db, schoolId, yearId, year, now } = c;
  const classes = await db.models.SchoolClass.find({ _id: { $in: classIds }, schoolId }).lean();
  let moved = 0;
  let closed = 0;
  for (const k of [...classes].sort((a, b) => b.grade - a.grade)) {
    const history = k.history ?? [];
    if (history.some((h) => String(h.yearId) === String(yearId))) continue;
    const entry = { yearId, name: k.name, grade: k.grade, classTeacherId: k.classTeacherId ?? undefined, endsOn: year.endsOn };
    const set =
      k.grade >= LAST_GRADE
        ? { closedAt: now, name: `${k.name} (${year.name})`, externalId: `${k.externalId}@${year.name}`, classTeacherId: null }
        : { grade: k.grade + 1, name: movedName(k.name, k.grade, k.letter, k.grade + 1) };
    const res = await db.models.SchoolClass.updateOne({ _id: k._id, 'history.yearId': { $ne: yearId } }, { $set: set, $push: { history: entry } });
    if (res.modifiedCount === 0) continue;
    if (k.grade >= LAST_GRADE) closed++;
    else moved++;
  }
  const closedIds = classes.filter((k) => k.grade >= LAST_GRADE).map((k) => k._id);
  // A graduated class is taught no more: its load goes (its lessons and marks stay, and the archive has them).
  if (closedIds.length) await db.models.TeachingLoad.deleteMany({ schoolId, classId: { $in: closedIds } });
  return { moved, closed, students: await moveStudents(c) };
}

async function moveStudents(c: StepContext): Promise<number> {
  const { db, schoolId, yearId, year } = c;
  const outcomes = await db.models.StudentOutcome.find({ yearId, outcome: { $in: ['repeating', 'expelled', 'graduated'] } }).lean();
  if (outcomes.length === 0) return 0;
  const classes = await db.models.SchoolClass.find({ schoolId }, { history: 1, letter: 1, grade: 1, closedAt: 1, name: 1 }).lean();
  const thenOf = new Map(classes.map((k) => [String(k._id), k.history?.find((h) => String(h.yearId) === String(yearId))]));
  const letterOf = new Map(classes.map((k) => [String(k._id), k.letter]));
  const note = `year-end ${year.name}`;
  let n = 0;
  for (const o of outcomes) {
    const from = o.classId ?? undefined;
    const filter = { _id: o.studentId, schoolId, 'student.classId': from, 'student.status': STUDYING_STATUS };
    if (o.outcome === 'repeating' && from) {
      const grade = thenOf.get(String(from))?.grade;
      if (grade === undefined || grade === null) continue;
      const to = await classForRepeater(c, grade, letterOf.get(String(from)) ?? '');
      if (String(to) === String(from)) continue;
      const res = await db.models.Person.updateOne(filter, { $set: { 'student.classId': to } });
      await db.models.Group.updateMany({ schoolId, classId: from, studentIds: o.studentId }, { $pull: { studentIds: o.studentId } });
      if (res.modifiedCount) n++;
      await recordMovement(c, o.studentId, 'transfer', from, to, note);
    } else if (o.outcome === 'expelled' || o.outcome === 'graduated') {
      const status = o.outcome === 'expelled' ? 'withdrawn' : 'graduated';
      const res = await db.models.Person.updateOne(filter, { $set: { 'student.status': status } });
      if (res.modifiedCount) n++;
      await recordMovement(c, o.studentId, 'withdrawal', from, undefined, `${note}: ${o.outcome}`);
    }
  }
  return n;
}

/** The class that is now `grade` + `letter` (after moving up), created when there is none. */
async function classForRepeater(c: StepContext, grade: number, letter: string): Promise<Id> {
  const { db, schoolId, year } = c;
  const found = await db.models.SchoolClass.findOne({ schoolId, grade, letter, closedAt: null }, { _id: 1 }).lean();
  if (found) return found._id;
  const name = `${grade}${letter}`;
  const created = await db.models.SchoolClass.findOneAndUpdate(
    { schoolId, externalId: `${name}@${nextYearName(year)}` },
    { $setOnInsert: { grade, letter, name, history: [] } },
    { upsert: true, returnDocument: 'after' },
  ).lean();
  if (!created) throw new Error('class not created');
  return created._id;
}

/** R5 student movement, once per student and reason (a resumed run does not repeat it). */
async function recordMovement(c: StepContext, studentId: Id, kind: 'transfer' | 'withdrawal', from: Id | undefined, to: Id | undefined, note: string) {
  const { db, schoolId, year } = c;
  const date = year.endsOn;
  const done = await db.models.StudentMovement.exists({ schoolId, studentId, kind, date, note });
  if (done) return;
  await db.models.StudentMovement.create({ schoolId, studentId, kind, fromClassId: from, toClassId: to, date, note, byPersonId: c.actorId });
}

// ───────────── (d) timetable carried over ─────────────

/**
 * The timetable in force at the year's end ends there (validTo) and is copied from the next year's
 * first day as drafts (no lessons until the deputy confirms, timetable-drafts.ts). Groups and load
 * stay as they are: they belong to the class, which kept its id.
 */
export async function carryTimetableOver(c: StepContext, next: { startsOn: string }): Promise<{ copied: number; ended: number }> {
  const { db, schoolId, year } = c;
  const open = {
    schoolId,
    draft: { $ne: true },
    validFrom: { $lte: year.endsOn },
    $or: [{ validTo: null }, { validTo: { $gt: year.endsOn } }],
  };
  const slots = await db.models.TimetableSlot.find(open).lean();
  const live = new Set((await db.models.SchoolClass.find({ schoolId, closedAt: null }, { _id: 1 }).lean()).map((k) => String(k._id)));
  const copies = slots
    .filter((s) => live.has(String(s.classId)))
    .map((s) => ({
      updateOne: {
        filter: { schoolId, classId: s.classId, groupId: s.groupId ?? null, weekday: s.weekday, lessonNo: s.lessonNo, validFrom: next.startsOn },
        update: { $setOnInsert: { subjectId: s.subjectId, teacherId: s.teacherId, room: s.room ?? undefined, validTo: null, draft: true } },
        upsert: true,
      },
    }));
  const res = copies.length ? await db.models.TimetableSlot.bulkWrite(copies, { ordered: false }) : undefined;
  const ended = await db.models.TimetableSlot.updateMany(open, { $set: { validTo: year.endsOn } });
  return { copied: res?.upsertedCount ?? 0, ended: ended.modifiedCount };
}
