import type { Connection, Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMongo } from '../../../src/db/connection.js';
import { createDb, type Db } from '../../../src/db/index.js';
import { openAttendance } from '../../../src/domain/journal/attendance.js';
import { setHomework } from '../../../src/domain/journal/homework.js';
import { cancelLesson, lessonsForClass } from '../../../src/domain/journal/lessons.js';
import { recordMark } from '../../../src/domain/journal/marks.js';
import { setPeriodMarks } from '../../../src/domain/journal/period-marks.js';
import { systemActor } from '../../../src/domain/school/actor.js';
import { closeYear, closingReport, confirmTimetable, yearToClose } from '../../../src/domain/year/close.js';
import { setOutcome } from '../../../src/domain/year/outcomes.js';
import { diaryMarks, diaryTimetable } from '../../../src/domain/diary/diary.js';
import { acceptConsent } from '../../../src/domain/school/people.js';
import { testMongoUri } from '../../support/db.js';
import { refusal } from '../../support/refusal.js';
import { actorFor, buildJournalSchool, type JournalFixture, lessonOn } from '../../support/journal-fixtures.js';

/**
 * Closing a year (R5, R30): the report of what is missing, the four steps, the year read-only,
 * the next year's first day without lessons until the deputy confirms the carried-over timetable,
 * and a run killed after step (b) that resumes to the same end state as an uninterrupted one.
 */
const JUNE = new Date('2027-06-15T09:00:00Z');
const FIRST_DAY = new Date('2027-09-01T09:00:00Z');

interface World {
  conn: Connection;
  db: Db;
  f: JournalFixture;
  class11: Types.ObjectId;
  s11: Types.ObjectId[];
}

async function world(name: string): Promise<World> {
  const conn = await connectMongo(testMongoUri(name));
  const db = await createDb(conn);
  const f = await buildJournalSchool(db, { students7: 4, students8: 3 });
  const { SchoolClass, Person, AcademicYear, TimetableSlot } = db.models;
  await AcademicYear.create({
    schoolId: f.schoolId,
    name: '2026/2027',
    startsOn: '2026-09-01',
    endsOn: '2027-05-31',
    periods: [
      { code: 'q1', kind: 'quarter', startsOn: '2026-09-01', endsOn: '2026-10-26', grades: [7, 8] },
      { code: 'h1', kind: 'half', startsOn: '2026-09-01', endsOn: '2026-12-28', grades: [11] },
      { code: 'q4', kind: 'quarter', startsOn: '2027-04-01', endsOn: '2027-05-31', grades: [7, 8] },
      { code: 'year', kind: 'year', startsOn: '2026-09-01', endsOn: '2027-05-31' },
    ],
    holidays: [{ name: 'Зимние каникулы', startsOn: '2026-12-29', endsOn: '2027-01-11' }],
  });
  const k11 = await SchoolClass.create({ schoolId: f.schoolId, externalId: '11a', grade: 11, letter: 'А', name: '11А', classTeacherId: f.spareTeacherId });
  const s11 = (
    await Person.insertMany(
      [1, 2, 3].map((i) => ({
        schoolId: f.schoolId,
        externalId: `11a-s${i}`,
        lastName: `Выпускник${i}`,
        firstName: 'Имя',
        roles: ['student'],
        student: { classId: k11._id, status: 'studying' },
      })),
    )
  ).map((d) => d._id as Types.ObjectId);
  await TimetableSlot.create({ schoolId: f.schoolId, classId: k11._id, subjectId: f.mathId, teacherId: f.teacherId, weekday: 1, lessonNo: 5, validFrom: '2026-09-01' });
  const secretary = systemActor(f.schoolId);
  await setOutcome(db, secretary, { studentId: String(f.class7.studentIds[0]), outcome: 'repeating' }, JUNE);
  await setOutcome(db, secretary, { studentId: String(f.class7.studentIds[1]), outcome: 'conditional', retakeSubjectIds: [String(f.mathId)] }, JUNE);
  await setOutcome(db, secretary, { studentId: String(f.class8.studentIds[0]), outcome: 'expelled' }, JUNE);
  await setOutcome(db, secretary, { studentId: String(s11[0]), outcome: 'repeating' }, JUNE);
  // One year mark given, so the report counts the rest as missing.
  await db.models.PeriodMark.create({ schoolId: f.schoolId, yearId: (await AcademicYear.findOne({ schoolId: f.schoolId }).lean())!._id, periodCode: 'year', studentId: f.class8.studentIds[1], subjectId: f.mathId, value: '5' });
  return { conn, db, f, class11: k11._id, s11 };
}

/** Everything the closing changes, by names (ids differ between the two databases). */
async function endState(w: World) {
  const { db, f } = w;
  const classes = await db.models.SchoolClass.find({ schoolId: f.schoolId }).lean();
  const nameOf = new Map(classes.map((k) => [String(k._id), k.name]));
  const students = await db.models.Person.find({ schoolId: f.schoolId, roles: 'student' }).lean();
  const slots = await db.models.TimetableSlot.find({ schoolId: f.schoolId }).lean();
  const years = await db.models.AcademicYear.find({ schoolId: f.schoolId }).sort({ startsOn: 1 }).lean();
  return {
    classes: classes
      .map((k) => ({ name: k.name, grade: k.grade, closed: Boolean(k.closedAt), history: (k.history ?? []).map((h) => `${h.name}/${h.grade}`) }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    students: students.map((s) => `${s.externalId}:${nameOf.get(String(s.student?.classId))}:${s.student?.status}`).sort(),
    slots: slots.map((s) => `${nameOf.get(String(s.classId))}:${s.weekday}:${s.lessonNo}:${s.validFrom}:${s.validTo}:${s.draft}`).sort(),
    years: years.map((y) => ({ name: y.name, status: y.status, startsOn: y.startsOn, endsOn: y.endsOn, periods: y.periods.map((p) => `${p.code}:${p.startsOn}:${p.grades.join(',')}`), holidays: y.holidays.length })),
    outcomes: (await db.models.StudentOutcome.find({ schoolId: f.schoolId }).lean()).map((o) => `${String(o.studentId)}:${o.outcome}`).length,
    movements: await db.models.StudentMovement.countDocuments({ schoolId: f.schoolId }),
    loads: await db.models.TeachingLoad.countDocuments({ schoolId: f.schoolId }),
    audit: (await db.models.AuditEntry.find({ schoolId: f.schoolId, action: /^year\./ }).lean()).map((a) => a.action).sort(),
    closing: (await db.models.YearClosing.findOne({ schoolId: f.schoolId }).lean())?.steps.map((s) => s.name),
  };
}

let a: World;
let b: World;

beforeAll(async () => {
  [a, b] = await Promise.all([world('close_a'), world('close_b')]);
});

afterAll(async () => {
  for (const w of [a, b]) {
    await w?.conn.dropDatabase().catch(() => undefined);
    await w?.conn.close();
  }
});

describe('closing the year (R5, R30)', () => {
  it('reports what is missing before anything changes: year marks per class × subject, outcomes', async () => {
    const admin = systemActor(a.f.schoolId);
    const year = await yearToClose(a.db, admin, JUNE);
    const report = await closingReport(a.db, admin, year);
    expect(report.nextYearName).toBe('2027/2028');
    expect(report.students).toBe(10);
    expect(report.outcomes).toMatchObject({ recorded: 4, notRecorded: 6 });
    const math8 = report.missingYearMarks.find((m) => m.className === '8А');
    expect(math8).toMatchObject({ subjectName: 'Математика', students: 3, missing: 2 });
    expect(report.missingYearMarks.map((m) => m.className)).toContain('7Б');
    const teacher = await actorFor(a.db, a.f.teacherId);
    expect(await refusal(closingReport(a.db, teacher, year))).toBe('errors.forbidden');
  });

  it('runs every step: read-only year, next year, classes up, timetable as drafts', async () => {
    const admin = systemActor(a.f.schoolId);
    const lessonId = await lessonOn(a.db, a.f, a.f.mathSlot7, '2027-05-24');
    const result = await closeYear(a.db, admin, await yearToClose(a.db, admin, JUNE), JUNE);
    expect(result.steps.map((s) => s.ran)).toEqual([true, true, true, true]);
    const s = await endState(a);
    expect(s.years).toEqual([
      expect.objectContaining({ name: '2026/2027', status: 'archived' }),
      expect.objectContaining({ name: '2027/2028', status: 'active', startsOn: '2027-09-01', endsOn: '2028-05-31', periods: ['q1:2027-09-01:7,8', 'h1:2027-09-01:11', 'q4:2028-04-01:7,8', 'year:2027-09-01:'], holidays: 1 }),
    ]);
    // 7Б → 8Б and 8А → 9А keep their ids; 11А graduated (renamed); the 11А repeater is in a new 11А, the 7Б one in a new 7Б.
    expect(s.classes).toEqual([
      { name: '11А', grade: 11, closed: false, history: [] },
      { name: '11А (2026/2027)', grade: 11, closed: true, history: ['11А/11'] },
      { name: '7Б', grade: 7, closed: false, history: [] },
      { name: '8Б', grade: 8, closed: false, history: ['7Б/7'] },
      { name: '9А', grade: 9, closed: false, history: ['8А/8'] },
    ]);
    expect(s.students).toContain('7b-s01:7Б:studying');
    expect(s.students).toContain('7b-s02:8Б:studying');
    expect(s.students).toContain('8a-s01:9А:withdrawn');
    expect(s.students).toContain('11a-s1:11А:studying');
    expect(s.students).toContain('11a-s2:11А (2026/2027):graduated');
    // The old timetable ends with the year; a draft copy starts with the next (none for the graduated class).
    expect(s.slots.filter((x) => x.endsWith(':2027-05-31:false'))).toHaveLength(19);
    expect(s.slots.filter((x) => x.includes(':2027-09-01:null:true'))).toHaveLength(18);
    expect(s.audit).toEqual(['year.closed', 'year.closing.carryOver', 'year.closing.classes', 'year.closing.nextYear', 'year.closing.readOnly', 'year.closing.started']);

    // Read-only: marks, attendance, homework, cancelling, period marks: refused for everyone, the admin too.
    const teacher = await actorFor(a.db, a.f.teacherId);
    const id = String(lessonId);
    const student = String(a.f.class7.studentIds[2]);
    expect(await refusal(recordMark(a.db, teacher, { lessonId: id, studentId: student, value: 5, workKind: 'classwork' }, JUNE))).toBe('year.readOnly');
    expect(await refusal(openAttendance(a.db, admin, id, JUNE))).toBe('year.readOnly');
    expect(await refusal(setHomework(a.db, teacher, id, { text: 'п. 5' }, JUNE))).toBe('year.readOnly');
    expect(await refusal(cancelLesson(a.db, admin, id, 'болезнь', JUNE))).toBe('year.readOnly');
    const yearId = String((await a.db.models.AcademicYear.findOne({ name: '2026/2027' }).lean())!._id);
    const ref = { classId: String(a.f.class8.id), subjectId: String(a.f.mathId), yearId, periodCode: 'year' };
    expect(await refusal(setPeriodMarks(a.db, admin, ref, [{ studentId: String(a.f.class8.studentIds[1]), value: '4' }], { reason: 'исправление' }, JUNE))).toBe('year.readOnly');
    // Last year's journal still reads (the deputy's day in May).
    const deputy = await actorFor(a.db, a.f.deputyId);
    const may = await lessonsForClass(a.db, deputy, String(a.f.class7.id), '2027-05-24', JUNE);
    expect(may.lessons.map((l) => l.id)).toContain(id);
    // …under the class's name of that year (7Б moved up to 8Б).
    expect(may.className).toBe('7Б');
    expect(may.lessons.find((l) => l.id === id)?.className).toBe('7Б');
  });

  it("last year's diary still reads for a parent in the summer after the closing", async () => {
    const child = a.f.class7.studentIds[2];
    const parentId = (await a.db.models.Person.create({ schoolId: a.f.schoolId, externalId: 'p-7b-3', lastName: 'Родителева', firstName: 'Ольга', roles: ['parent'] }))._id;
    await a.db.models.Guardianship.create({ schoolId: a.f.schoolId, parentId, studentId: child, relation: 'mother' });
    const lessonId = await lessonOn(a.db, a.f, a.f.mathSlot7, '2027-05-25');
    await a.db.models.Mark.create({ schoolId: a.f.schoolId, lessonId, studentId: child, subjectId: a.f.mathId, classId: a.f.class7.id, date: '2027-05-25', value: 4, workKind: 'classwork', weight: 1, teacherId: a.f.teacherId });
    const parent = await actorFor(a.db, parentId);
    await acceptConsent(a.db, parent, JUNE);
    const view = await diaryMarks(a.db, parent, String(child), JUNE);
    // June: the quarter that just ended, of the year just closed (not the next year's first quarter).
    expect(view.period).toMatchObject({ code: 'q4', startsOn: '2027-04-01' });
    expect(view.subjects.flatMap((s) => s.marks.map((m) => `${m.date}:${m.value}`))).toContain('2027-05-25:4');
  });

  it('the first day of the next year has no lessons until the deputy confirms the timetable', async () => {
    const deputy = await actorFor(a.db, a.f.deputyId);
    const before = await lessonsForClass(a.db, deputy, String(a.f.class7.id), '2027-09-01', FIRST_DAY);
    expect(before.lessons).toHaveLength(0);
    expect(before.className).toBe('8Б');
    // The family's timetable does not show the drafts either.
    const child = a.f.class7.studentIds[1];
    const parentId = (await a.db.models.Person.create({ schoolId: a.f.schoolId, externalId: 'p-7b-2', lastName: 'Родителева', firstName: 'Анна', roles: ['parent'] }))._id;
    await a.db.models.Guardianship.create({ schoolId: a.f.schoolId, parentId, studentId: child, relation: 'mother' });
    const parent = await actorFor(a.db, parentId);
    await acceptConsent(a.db, parent, FIRST_DAY);
    expect((await diaryTimetable(a.db, parent, String(child), FIRST_DAY, 'today')).days[0]?.lessons).toHaveLength(0);
    const teacher = await actorFor(a.db, a.f.teacherId);
    expect(await refusal(confirmTimetable(a.db, teacher, FIRST_DAY))).toBe('errors.forbidden');
    expect(await confirmTimetable(a.db, deputy, FIRST_DAY)).toEqual({ confirmed: 18 });
    const after = await lessonsForClass(a.db, deputy, String(a.f.class7.id), '2027-09-01', FIRST_DAY);
    expect(after.lessons.map((l) => l.subjectName).sort()).toEqual(['Математика', 'Русский язык']);
    const confirmed = await diaryTimetable(a.db, parent, String(child), FIRST_DAY, 'today');
    expect(confirmed.days[0]?.lessons.map((l) => l.subject).sort()).toEqual(['Математика', 'Русский язык']);
  });

  it('a run killed after step (b) resumes to the same end state as an uninterrupted one', async () => {
    const admin = systemActor(b.f.schoolId);
    const crash = new Error('killed');
    const year = await yearToClose(b.db, admin, JUNE);
    await expect(
      closeYear(b.db, admin, year, JUNE, {
        afterStep: (step) => {
          if (step === 'nextYear') throw crash;
        },
      }),
    ).rejects.toBe(crash);
    const half = await endState(b);
    expect(half.closing).toEqual(['readOnly', 'nextYear']);
    expect(half.years.map((y) => y.status)).toEqual(['archived', 'active']);
    // The resumed run finds the unfinished closing, though the year is archived now.
    const again = await yearToClose(b.db, admin, JUNE);
    expect(again.name).toBe('2026/2027');
    const resumed = await closeYear(b.db, admin, again, JUNE);
    expect(resumed.steps.map((s) => `${s.name}:${s.ran}`)).toEqual(['readOnly:false', 'nextYear:false', 'classes:true', 'carryOver:true']);
    // Once more: nothing changes.
    await closeYear(b.db, admin, again, JUNE);
    const sa = await endState(a);
    const sb = await endState(b);
    // World a has confirmed its timetable since: compare with drafts read as they were.
    sa.slots = sa.slots.map((x) => (x.includes(':2027-09-01:null:') ? x.replace(/:false$/, ':true') : x));
    expect(sb).toEqual(sa);
  });
});
