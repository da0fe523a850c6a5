import type { Connection, Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMongo } from '../../../src/db/connection.js';
import { createDb, type Db } from '../../../src/db/index.js';
import { classReport, gradeReport, schoolReport, studentReport } from '../../../src/domain/reports/index.js';
import type { Actor } from '../../../src/domain/school/actor.js';
import { testMongoUri } from '../../support/db.js';
import { actorFor, addSchoolYear, buildJournalSchool, type JournalFixture, lessonOn } from '../../support/journal-fixtures.js';

/**
 * Success, quality, СОУ, average (R27, R28), against numbers computed by hand.
 *
 * 7Б, quarter q1 (1 Sep – 26 Oct). Students s0…s5 of the fixture, plus s6 who arrives on 15 Nov.
 * - s5 left on 1 Oct (before q1's end): not counted, although she has a 2 in math.
 * - s4 left on 10 Nov (after q1's end): counted in q1.
 * - s6 arrived on 15 Nov (after q1's end): not counted in q1.
 * - s3 is exempt from PE (R21, 10 Sep – 1 Dec) and has no PE mark: not in PE's denominator.
 *
 *            math  russian  PE       ОРКСЭ (pass/fail)
 *   s0        5      5       5        К
 *   s1        4      5       4        К
 *   s2        3      4       4        К
 *   s3        2      3      (exempt)  К
 *   s4        Н      —       3        Н
 *   s5        2      (left)
 *
 * Math: 5 counted, assessed 5 (5,4,3,2,Н): success 3/5 = 60 %, quality 2/5 = 40 %,
 *   СОУ (100+64+36+16+7)/5 = 44.6, average (5+4+3+2)/4 = 3.5.
 * Russian: 5 counted, assessed 4 (s4 missing): success 4/4 = 100 %, quality 3/4 = 75 %,
 *   СОУ (100+100+64+36)/4 = 75, average 17/4 = 4.25.
 * PE: 4 counted (s3 exempt), assessed 4: success 100 %, quality 3/4 = 75 %, СОУ (100+64+64+36)/4 = 66, average 4.
 * ОРКСЭ: 5, К×4 and Н: success 4/5 = 80 %, no quality, СОУ or average.
 * Overall: s0 and s1 only 4/5/К (success, quality); s2 has a 3 (success only); s3 a 2, s4 Н (neither).
 *   success 3/5 = 60 %, quality 2/5 = 40 %; the marked subjects' marks 5×4, 4×4, 3×3, 2×1, Н×1:
 *   СОУ (400+256+108+16+7)/13 = 787/13 = 60.5; average (20+16+9+2)/12 = 47/12 = 3.92.
 *
 * 8А (2 students) q1 math: 5 and 2. The school's math: 5×2, 4, 3, 2×2, Н: assessed 7, success 4/7 = 57.1 %,
 *   quality 3/7 = 42.9 %, СОУ (200+64+36+32+7)/7 = 339/7 = 48.4, average 21/6 = 3.5.
 *   The school overall: 7 students, success 3+1 = 4/7 = 57.1 %, quality 2+1 = 3/7 = 42.9 %.
 *
 * A date range (9–14 Nov, 8А math) from current marks under the assessment rule (R17, minMarks 3):
 *   8А s0: 5 (weight 1), 4 (weight 2), 4 (1): (5+8+4)/4 = 4.25 → 4; 8А s1: 3 and 2 (two marks, fewer
 *   than 3) and one absence Б → Б. Math: 4×1, Н×1: success 50 %, quality 50 %, СОУ (64+7)/2 = 35.5, average 4.
 */
const at = (date: string) => new Date(`${date}T09:00:00Z`);
const NOW = at('2026-11-23');
let conn: Connection;
let db: Db;
let f: JournalFixture;
let yearId: Types.ObjectId;
let deputy: Actor;
let pe: Types.ObjectId;
let orkse: Types.ObjectId;
let s6: Types.ObjectId;

async function periodMarks(subjectId: Types.ObjectId, students: Types.ObjectId[], values: Array<string | null>) {
  const docs = values.flatMap((value, i) =>
    value ? [{ schoolId: f.schoolId, yearId, periodCode: 'q1', studentId: students[i], subjectId, value, source: 'teacher' }] : [],
  );
  await db.models.PeriodMark.insertMany(docs);
}

beforeAll(async () => {
  conn = await connectMongo(testMongoUri('reports_progress'));
  db = await createDb(conn);
  f = await buildJournalSchool(db, { students7: 6, students8: 2 });
  yearId = await addSchoolYear(db, f);
  deputy = await actorFor(db, f.deputyId);
  const { Subject, TeachingLoad, Person, StudentMovement, PeExemption } = db.models;
  pe = (await Subject.create({ schoolId: f.schoolId, externalId: 'pe', name: 'Физкультура', pe: true }))._id;
  orkse = (await Subject.create({ schoolId: f.schoolId, externalId: 'orkse', name: 'ОРКСЭ', assessment: 'passfail' }))._id;
  await TeachingLoad.create([
    { schoolId: f.schoolId, classId: f.class7.id, subjectId: pe, teacherId: f.spareTeacherId, hoursPerYear: 68 },
    { schoolId: f.schoolId, classId: f.class7.id, subjectId: orkse, teacherId: f.spareTeacherId, hoursPerYear: 34 },
  ]);
  const s = f.class7.studentIds;
  await Person.updateMany({ _id: { $in: [s[4], s[5]] } }, { $set: { 'student.status': 'withdrawn' } });
  s6 = (
    await Person.create({
      schoolId: f.schoolId,
      externalId: 'new7',
      lastName: 'Ученик07',
      firstName: 'Новый',
      roles: ['student'],
      student: { classId: f.class7.id, status: 'studying', form: 'regular' },
    })
  )._id;
  await StudentMovement.create([
    { schoolId: f.schoolId, studentId: s[5], kind: 'withdrawal', fromClassId: f.class7.id, date: '2026-10-01' },
    { schoolId: f.schoolId, studentId: s[4], kind: 'withdrawal', fromClassId: f.class7.id, date: '2026-11-10' },
    { schoolId: f.schoolId, studentId: s6, kind: 'arrival', toClassId: f.class7.id, date: '2026-11-15' },
  ]);
  await PeExemption.create({ schoolId: f.schoolId, studentId: s[3], from: '2026-09-10', to: '2026-12-01' });
  await periodMarks(f.mathId, s, ['5', '4', '3', '2', 'Н', '2']);
  await periodMarks(f.russianId, s, ['5', '5', '4', '3', null]);
  await periodMarks(pe, s, ['5', '4', '4', null, '3']);
  await periodMarks(orkse, s, ['К', 'К', 'К', 'К', 'Н']);
  await periodMarks(f.mathId, f.class8.studentIds, ['5', '2']);
});

afterAll(async () => {
  await conn.dropDatabase();
  await conn.close();
});

describe('progress figures from period marks', () => {
  it('per subject: success, quality, СОУ and average; the exempt student and the leaver are in no denominator', async () => {
    const r = await classReport(db, deputy, String(f.class7.id), { periodCode: 'q1' }, NOW);
    expect(r.progress.source).toBe('periodMarks');
    const bySubject = Object.fromEntries(r.progress.subjects.map((x) => [x.subjectName, x]));
    expect(bySubject.Математика).toMatchObject({
      students: 5,
      exempt: 0,
      assessed: 5,
      missing: 0,
      counts: { '5': 1, '4': 1, '3': 1, '2': 1, na: 1, passed: 0 },
      successPct: 60,
      qualityPct: 40,
      sou: 44.6,
      averageMark: 3.5,
    });
    expect(bySubject['Русский язык']).toMatchObject({ students: 5, assessed: 4, missing: 1, successPct: 100, qualityPct: 75, sou: 75, averageMark: 4.25 });
    expect(bySubject.Физкультура).toMatchObject({ students: 4, exempt: 1, assessed: 4, missing: 0, successPct: 100, qualityPct: 75, sou: 66, averageMark: 4 });
    expect(bySubject.ОРКСЭ).toMatchObject({
      assessment: 'passfail',
      students: 5,
      assessed: 5,
      counts: { '5': 0, '4': 0, '3': 0, '2': 0, na: 1, passed: 4 },
      successPct: 80,
      qualityPct: null,
      sou: null,
      averageMark: null,
    });
  });

  it('overall: a student succeeds with 3–5 or К in every subject, has quality with only 4, 5 or К', async () => {
    const r = await classReport(db, deputy, String(f.class7.id), { periodCode: 'q1' }, NOW);
    expect(r.progress.overall).toMatchObject({
      students: 5,
      assessed: 5,
      missing: 0,
      counts: { '5': 4, '4': 4, '3': 3, '2': 1, na: 2, passed: 4 },
      successPct: 60,
      qualityPct: 40,
      sou: 60.5,
      averageMark: 3.92,
    });
    expect(r.progress.classes).toHaveLength(1);
    expect(r.progress.classes[0]?.overall).toEqual(r.progress.overall);
    const rows = r.progress.students.map((s) => [s.name.split(' ')[0], s.success, s.quality]);
    expect(rows).toEqual([
      ['Ученик01', true, true],
      ['Ученик02', true, true],
      ['Ученик03', true, false],
      ['Ученик04', false, false],
      ['Ученик05', false, false],
    ]);
    expect(r.progress.students[3]?.marks[String(pe)]).toBe('exempt');
  });

  it('the student scope: one report card', async () => {
    const r = await studentReport(db, deputy, String(f.class7.studentIds[2]), { periodCode: 'q1' }, NOW);
    expect(r.progress.students).toHaveLength(1);
    expect(r.progress.students[0]?.marks).toEqual({ [String(f.mathId)]: '3', [String(f.russianId)]: '4', [String(pe)]: '4', [String(orkse)]: 'К' });
    expect(r.progress.overall).toMatchObject({ students: 1, assessed: 1, successPct: 100, qualityPct: 0, sou: 54.7 });
  });

  it('the school and its grade levels add the counts, never the percentages', async () => {
    const r = await schoolReport(db, deputy, { periodCode: 'q1' }, NOW);
    const math = r.progress.subjects.find((x) => x.subjectName === 'Математика');
    expect(math).toMatchObject({ students: 7, assessed: 7, successPct: 57.1, qualityPct: 42.9, sou: 48.4, averageMark: 3.5 });
    expect(r.progress.overall).toMatchObject({ students: 7, assessed: 7, successPct: 57.1, qualityPct: 42.9 });
    expect(r.progress.grades.map((g) => [g.name, g.overall.students, g.overall.successPct])).toEqual([
      ['7', 5, 60],
      ['8', 2, 50],
    ]);
    expect(r.progress.students).toEqual([]);
    const grade = await gradeReport(db, deputy, 8, { periodCode: 'q1' }, NOW);
    expect(grade.progress.overall).toMatchObject({ students: 2, successPct: 50, qualityPct: 50, sou: 58, averageMark: 3.5 });
  });
});

describe('progress figures for a date range', () => {
  it('suggests each mark from the current marks by the assessment rule (R17)', async () => {
    const s = f.class8.studentIds;
    const mark = async (student: Types.ObjectId, date: string, value: 2 | 3 | 4 | 5, weight: number) => {
      const lessonId = await lessonOn(db, f, f.mathSlot8, date);
      await db.models.Mark.create({ schoolId: f.schoolId, lessonId, studentId: student, subjectId: f.mathId, classId: f.class8.id, date, value, workKind: 'classwork', weight, teacherId: f.teacherId });
    };
    await mark(s[0] as Types.ObjectId, '2026-11-09', 5, 1);
    await mark(s[0] as Types.ObjectId, '2026-11-10', 4, 2);
    await mark(s[0] as Types.ObjectId, '2026-11-11', 4, 1);
    await mark(s[1] as Types.ObjectId, '2026-11-09', 3, 1);
    await mark(s[1] as Types.ObjectId, '2026-11-10', 2, 1);
    const other = await lessonOn(db, f, f.mathSlot8, '2026-11-12');
    await db.models.Absence.create({ schoolId: f.schoolId, lessonId: other, studentId: s[1], classId: f.class8.id, date: '2026-11-12', code: 'Б' });
    const r = await classReport(db, deputy, String(f.class8.id), { from: '2026-11-09', to: '2026-11-14' }, NOW);
    expect(r.progress.source).toBe('currentMarks');
    expect(r.scope.period).toBeUndefined();
    const math = r.progress.subjects.find((x) => x.subjectName === 'Математика');
    expect(math).toMatchObject({ assessed: 2, counts: { '5': 0, '4': 1, '3': 0, '2': 0, na: 1, passed: 0 }, successPct: 50, qualityPct: 50, sou: 35.5, averageMark: 4 });
    expect(r.progress.students.map((x) => [x.marks[String(f.mathId)], x.averages?.[String(f.mathId)]])).toEqual([
      ['4', 4.25],
      ['Б', 2.5],
    ]);
  });
});
