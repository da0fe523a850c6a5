import type { Connection, Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMongo } from '../../../src/db/connection.js';
import { createDb, type Db } from '../../../src/db/index.js';
import { setPaperLetter } from '../../../src/domain/notices/preferences.js';
import { classJournalDocument } from '../../../src/domain/reports/sheets/journal.js';
import { classTeacherReport } from '../../../src/domain/reports/sheets/quarter-report.js';
import { studentReportCard } from '../../../src/domain/reports/sheets/report-card.js';
import { classYearSummary } from '../../../src/domain/reports/sheets/summary.js';
import { paperFamilies, weeklyLetter, weeklyLettersForClass } from '../../../src/domain/reports/sheets/weekly-letter.js';
import type { Actor } from '../../../src/domain/school/actor.js';
import { AccessDenied } from '../../../src/domain/shared/errors.js';
import type { PERIOD_MARK_VALUES } from '../../../src/domain/shared/vocabulary.js';
import { testMongoUri } from '../../support/db.js';
import { actorFor, addSchoolYear, bindTelegram, buildJournalSchool, type JournalFixture, lessonOn } from '../../support/journal-fixtures.js';

// Documents of issue 14 (R25, R29) on a hand-built class: 7Б, 30 students, math (Учителева) and Russian (Другова).
const NOW = new Date('2026-11-13T09:00:00Z'); // Friday, Moscow noon
let conn: Connection;
let db: Db;
let f: JournalFixture;
let yearId: Types.ObjectId;
let classTeacher: Actor;
let mathTeacher: Actor;
let russianTeacher: Actor;
let admin: Actor;
let parent0: Actor;
let parent1: Actor;
let parent2: Actor;
const student = (i: number) => f.class7.studentIds[i] as Types.ObjectId;
const sid = (i: number) => String(student(i));

async function mark(i: number, date: string, value: 2 | 3 | 4 | 5, weight = 1, subject: 'math' | 'rus' = 'math') {
  const lessonId = await lessonOn(db, f, subject === 'math' ? f.mathSlot7 : f.russianSlot7, date);
  await db.models.Mark.create({
    ...{ schoolId: f.schoolId, lessonId, studentId: student(i), classId: f.class7.id, date, value, weight },
    subjectId: subject === 'math' ? f.mathId : f.russianId,
    workKind: weight === 2 ? 'control' : 'classwork',
    teacherId: subject === 'math' ? f.teacherId : f.otherTeacherId,
  });
}

async function absent(i: number, date: string, code: 'Н' | 'Б' | 'У', subject: 'math' | 'rus' = 'math') {
  const lessonId = await lessonOn(db, f, subject === 'math' ? f.mathSlot7 : f.russianSlot7, date);
  await db.models.Absence.create({ schoolId: f.schoolId, lessonId, studentId: student(i), classId: f.class7.id, date, code });
}

async function periodMark(i: number, subjectId: Types.ObjectId, periodCode: string, value: (typeof PERIOD_MARK_VALUES)[number]) {
  await db.models.PeriodMark.create({ schoolId: f.schoolId, yearId, periodCode, studentId: student(i), subjectId, value });
}

async function parentOf(i: number, tag: string, telegramId?: number): Promise<Actor> {
  const p = await db.models.Person.create({
    ...{ schoolId: f.schoolId, externalId: `p-${tag}`, lastName: 'Родителева', firstName: tag, roles: ['parent'] },
    consent: { acceptedAt: new Date(), version: 1 },
  });
  await db.models.Guardianship.create({ schoolId: f.schoolId, parentId: p._id, studentId: student(i) });
  if (telegramId) await bindTelegram(db, p._id, telegramId);
  return actorFor(db, p._id);
}

beforeAll(async () => {
  conn = await connectMongo(testMongoUri('report_sheets'));
  db = await createDb(conn);
  f = await buildJournalSchool(db, { students8: 3 });
  yearId = await addSchoolYear(db, f);
  [classTeacher, mathTeacher, russianTeacher, admin] = await Promise.all([
    actorFor(db, f.classTeacherId),
    actorFor(db, f.teacherId),
    actorFor(db, f.otherTeacherId),
    actorFor(db, f.adminId),
  ]);
  // Student 0: math 5 on Monday, control 4 (weight 2) on Tuesday → (5 + 8) / 3 = 4.33; Russian 3.
  await mark(0, '2026-11-09', 5);
  await mark(0, '2026-11-10', 4, 2);
  await mark(0, '2026-11-11', 3, 1, 'rus');
  // Student 1: ill on Monday's math yet marked 3 (a written work handed in), unexcused at Russian on Wednesday.
  await absent(1, '2026-11-09', 'Б');
  await mark(1, '2026-11-09', 3);
  await absent(1, '2026-11-11', 'Н', 'rus');
  // The lessons' topics and homework; a cancelled lesson is no lesson of the journal.
  const mon = await lessonOn(db, f, f.mathSlot7, '2026-11-09');
  const tue = await lessonOn(db, f, f.mathSlot7, '2026-11-10');
  const wed = await lessonOn(db, f, f.mathSlot7, '2026-11-12');
  await db.models.Lesson.updateOne({ _id: mon }, { $set: { topic: 'Дроби', homework: { text: '№ 12', dueOn: '2026-11-10' } } });
  await db.models.Lesson.updateOne({ _id: tue }, { $set: { topic: 'Контрольная работа', homework: { text: '§ 5, № 3–7', dueOn: '2026-11-16' } } });
  await db.models.Lesson.updateOne({ _id: wed }, { $set: { status: 'cancelled' } });
  // Period and year marks (R15, R16).
  await periodMark(0, f.mathId, 'q1', '5');
  await periodMark(0, f.mathId, 'q2', '4');
  await periodMark(0, f.mathId, 'year', '5');
  await periodMark(0, f.russianId, 'q1', '3');
  await periodMark(1, f.mathId, 'q1', 'Б');
  // Families: 0 joined the bot; 1 has a parent who never joined; 2 joined and asks for paper (R25); 3+ have no parent on file.
  parent0 = await parentOf(0, 'Анна', 7001);
  parent1 = await parentOf(1, 'Борис');
  parent2 = await parentOf(2, 'Вера', 7002);
});

afterAll(async () => {
  await conn?.dropDatabase().catch(() => undefined);
  await conn?.close();
});

describe('the summary sheet of the year (R29)', () => {
  it('students × subjects × periods with the year mark, for the class teacher', async () => {
    const sheet = await classYearSummary(db, classTeacher, String(f.class7.id), {}, NOW);
    expect(sheet.head).toMatchObject({ school: 'Школа журнала', className: '7Б', classTeacher: 'Классова Мария Ивановна', yearName: '2026/2027', periodCode: 'year', madeOn: '2026-11-13' });
    expect(sheet.periods).toEqual(['q1', 'q2', 'year']);
    expect(sheet.subjects.map((s) => s.name)).toEqual(['Математика', 'Русский язык']);
    expect(sheet.students).toHaveLength(30);
    expect(sheet.students[0]).toEqual({ no: 1, studentId: sid(0), name: 'Ученик01 Имя01', marks: { [String(f.mathId)]: { q1: '5', q2: '4', year: '5' }, [String(f.russianId)]: { q1: '3' } } });
    expect(sheet.students[1]?.marks).toEqual({ [String(f.mathId)]: { q1: 'Б' } });
    expect(sheet.students[29]).toMatchObject({ no: 30, name: 'Ученик30 Имя30', marks: {} });
  });

  it('a subject teacher sees their own subject only; a parent and a teacher of another class are refused (R4)', async () => {
    const sheet = await classYearSummary(db, mathTeacher, String(f.class7.id), {}, NOW);
    expect(sheet.subjects.map((s) => s.name)).toEqual(['Математика']);
    await expect(classYearSummary(db, parent0, String(f.class7.id), {}, NOW)).rejects.toBeInstanceOf(AccessDenied);
    await expect(classYearSummary(db, russianTeacher, String(f.class8.id), {}, NOW)).rejects.toBeInstanceOf(AccessDenied);
  });
});

describe('the class journal of a period as a document (R29)', () => {
  it('lessons with topics and homework, the grid of absences and marks, the average and the period mark', async () => {
    const doc = await classJournalDocument(db, classTeacher, { classId: String(f.class7.id), subjectId: String(f.mathId), periodCode: 'q2' }, NOW);
    expect(doc.subject.name).toBe('Математика');
    expect(doc.teachers).toEqual(['Учителева Анна Ивановна']);
    expect(doc.lessons.map(({ date, lessonNo, topic, homework }) => ({ date, lessonNo, topic, homework }))).toEqual([
      { date: '2026-11-09', lessonNo: 2, topic: 'Дроби', homework: '№ 12' },
      { date: '2026-11-10', lessonNo: 2, topic: 'Контрольная работа', homework: '§ 5, № 3–7' },
    ]);
    expect(doc.students).toHaveLength(30);
    expect(doc.students[0]).toEqual({ no: 1, studentId: sid(0), name: 'Ученик01 Имя01', cells: ['5', '4'], average: 4.33, periodMark: '4' });
    expect(doc.students[1]).toEqual({ no: 2, studentId: sid(1), name: 'Ученик02 Имя02', cells: ['Б 3', ''], average: 3, periodMark: '' });
    expect(doc.students[2]).toEqual({ no: 3, studentId: sid(2), name: 'Ученик03 Имя03', cells: ['', ''], periodMark: '' });
  });

  it("another subject's teacher is refused; the subject's teacher reads it", async () => {
    const req = { classId: String(f.class7.id), subjectId: String(f.mathId), periodCode: 'q2' };
    await expect(classJournalDocument(db, russianTeacher, req, NOW)).rejects.toBeInstanceOf(AccessDenied);
    await expect(classJournalDocument(db, parent1, req, NOW)).rejects.toBeInstanceOf(AccessDenied);
    expect((await classJournalDocument(db, mathTeacher, req, NOW)).lessons).toHaveLength(2);
  });
});

describe('the weekly letter for families without internet (R25)', () => {
  it("one student's week: marks, absences, the homework due after Friday", async () => {
    const { letters, head } = await weeklyLetter(db, classTeacher, sid(1), { weekOf: '2026-11-11' }, NOW);
    expect(head.className).toBe('7Б');
    expect(letters).toEqual([
      {
        studentId: sid(1),
        name: 'Ученик02 Имя02',
        weekFrom: '2026-11-09',
        weekTo: '2026-11-15',
        marks: [{ date: '2026-11-09', subject: 'Математика', value: 3, workKind: { ru: 'Работа на уроке', en: 'Class work' } }],
        absences: [
          { date: '2026-11-09', subject: 'Математика', lessonNo: 2, code: 'Б' },
          { date: '2026-11-11', subject: 'Русский язык', lessonNo: 3, code: 'Н' },
        ],
        // Due on the 10th: before the week's Friday, not in the letter; due on the 16th: in it.
        homework: [{ dueOn: '2026-11-16', subject: 'Математика', text: '§ 5, № 3–7' }],
      },
    ]);
  });

  it('the paper families: a parent who never joined, no parent on file, a parent who chose paper; not a joined one', async () => {
    // Before parent 2 chooses paper: every student but 0 and 2.
    const before = await paperFamilies(db, String(f.schoolId), f.class7.studentIds.map(String));
    expect(before.has(sid(0))).toBe(false);
    expect(before.has(sid(1))).toBe(true);
    expect(before.has(sid(2))).toBe(false);
    expect(before.size).toBe(28);
    await setPaperLetter(db, parent2, sid(2), true);
    const { letters } = await weeklyLettersForClass(db, classTeacher, String(f.class7.id), { weekOf: '2026-11-11' }, NOW);
    expect(letters.map((l) => l.name)).toHaveLength(29);
    expect(letters.map((l) => l.studentId)).not.toContain(sid(0));
    expect(letters.map((l) => l.studentId)).toContain(sid(2));
    expect(letters[0]?.name).toBe('Ученик02 Имя02');
    await setPaperLetter(db, parent2, sid(2), false);
    expect((await paperFamilies(db, String(f.schoolId), [sid(2)])).size).toBe(0);
  });

  it('only the family itself chooses paper; the letters are for the class teacher, not a subject teacher or a parent', async () => {
    await expect(setPaperLetter(db, parent0, sid(2), true)).rejects.toBeInstanceOf(AccessDenied);
    await expect(weeklyLettersForClass(db, mathTeacher, String(f.class7.id), {}, NOW)).rejects.toBeInstanceOf(AccessDenied);
    await expect(weeklyLettersForClass(db, parent1, String(f.class7.id), {}, NOW)).rejects.toBeInstanceOf(AccessDenied);
    await expect(weeklyLetter(db, parent0, sid(1), {}, NOW)).rejects.toBeInstanceOf(AccessDenied);
    expect((await weeklyLetter(db, parent1, sid(1), {}, NOW)).letters).toHaveLength(1);
  });
});

describe("the student's report card for a period", () => {
  it('per subject: the average of current marks, their number, the period mark, absences by reason; the totals', async () => {
    const card = await studentReportCard(db, parent1, sid(1), { periodCode: 'q2' }, NOW);
    expect(card.student).toEqual({ studentId: sid(1), name: 'Ученик02 Имя02' });
    expect(card.rows).toEqual([
      { subjectId: String(f.mathId), subject: 'Математика', average: 3, marks: 1, periodMark: '', absences: { Н: 0, Б: 1, У: 0 } },
      { subjectId: String(f.russianId), subject: 'Русский язык', marks: 0, periodMark: '', absences: { Н: 1, Б: 0, У: 0 } },
    ]);
    expect(card.absences).toEqual({ Н: 1, Б: 1, У: 0 });
    const own = await studentReportCard(db, admin, sid(0), { periodCode: 'q2' }, NOW);
    expect(own.rows.map((r) => [r.subject, r.average, r.periodMark])).toEqual([
      ['Математика', 4.33, '4'],
      ['Русский язык', 3, ''],
    ]);
  });

  it("another child's parent is refused; a subject teacher gets their subject only", async () => {
    await expect(studentReportCard(db, parent0, sid(1), { periodCode: 'q2' }, NOW)).rejects.toBeInstanceOf(AccessDenied);
    const card = await studentReportCard(db, russianTeacher, sid(1), { periodCode: 'q2' }, NOW);
    expect(card.rows.map((r) => r.subject)).toEqual(['Русский язык']);
    expect(card.absences).toEqual({ Н: 1, Б: 0, У: 0 });
  });
});

describe("the class teacher's report (R27, R28) on the reports' figures", () => {
  it('by subject and overall, attendance of every student; refused to a subject teacher and a parent', async () => {
    const report = await classTeacherReport(db, classTeacher, String(f.class7.id), { periodCode: 'q2' }, NOW);
    expect(report.head).toMatchObject({ className: '7Б', periodCode: 'q2' });
    expect(report.rows.map((r) => r.subject)).toEqual(['Математика', 'Русский язык']);
    expect(report.rows[0]?.cell.counts['4']).toBe(1);
    expect(report.students).toHaveLength(30);
    expect(report.students.find((s) => s.studentId === sid(1))?.missedLessons).toMatchObject({ Н: 1, Б: 1, total: 2 });
    await expect(classTeacherReport(db, mathTeacher, String(f.class7.id), { periodCode: 'q2' }, NOW)).rejects.toBeInstanceOf(AccessDenied);
    await expect(classTeacherReport(db, parent0, String(f.class7.id), { periodCode: 'q2' }, NOW)).rejects.toBeInstanceOf(AccessDenied);
  });
});
