import type { Connection, Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMongo } from '../../../src/db/connection.js';
import { createDb, type Db } from '../../../src/db/index.js';
import { classReport, type Report } from '../../../src/domain/reports/index.js';
import { testMongoUri } from '../../support/db.js';
import { actorFor, addSchoolYear, buildJournalSchool, type JournalFixture, lessonOn } from '../../support/journal-fixtures.js';

/**
 * Attendance (R19, R20) and journal filling (R26, R27, R13) of 7Б, 16–18 Nov 2026, by hand.
 *
 * Lessons: Mon 16 math + russian, Tue 17 math (held by a substitute) + russian, Wed 18 math cancelled.
 * Students counted: s0–s3 and s6 (arrived 15 Nov); s4 and s5 left before 18 Nov.
 * Absences:
 *   s0: Mon math Б, Mon russian Б (the whole day: a day missed, Б); Tue math Н.
 *   s1: Tue math У, Tue russian Н (the whole day; a tie favours the student: У).
 *   s2: Wed math (cancelled: not counted, or Wed would be a missed day).
 *   s5 (left): Mon math Н — not counted.
 * Each counted student has 4 lessons: 5 × 4 = 20. Missed lessons: Б 2, Н 2, У 1 = 5 (25 %). Days: Б 1, У 1.
 *
 * Filling: Mon math (Учителева): attendance, topic, homework; marks entered on 17 Nov (class work,
 *   due 17 Nov: on time), 18 Nov (class work: late), 20 Nov (control work, written, due 21 Nov: on time).
 * Tue math (Запасова, the substitute): topic. Mon russian (Другова): attendance. Tue russian: nothing,
 *   one class-work mark entered on 17 Nov (on time). Wed math: cancelled, with a topic — not counted.
 * Totals: held 4, attendance 2, topic 2, homework 1, marks 4, on time 3, late 1.
 */
const NOW = new Date('2026-11-23T09:00:00Z');
let conn: Connection;
let db: Db;
let f: JournalFixture;
let report: Report;

beforeAll(async () => {
  conn = await connectMongo(testMongoUri('reports_attendance'));
  db = await createDb(conn);
  f = await buildJournalSchool(db, { students7: 6, students8: 1 });
  await addSchoolYear(db, f);
  const s = f.class7.studentIds as Types.ObjectId[];
  const { Person, StudentMovement, Lesson, Absence, Mark } = db.models;
  await Person.updateMany({ _id: { $in: [s[4], s[5]] } }, { $set: { 'student.status': 'withdrawn' } });
  const s6 = (
    await Person.create({ schoolId: f.schoolId, externalId: 'new7', lastName: 'Ученик07', firstName: 'Новый', roles: ['student'], student: { classId: f.class7.id, status: 'studying' } })
  )._id;
  await StudentMovement.create([
    { schoolId: f.schoolId, studentId: s[5], kind: 'withdrawal', fromClassId: f.class7.id, date: '2026-10-01' },
    { schoolId: f.schoolId, studentId: s[4], kind: 'withdrawal', fromClassId: f.class7.id, date: '2026-11-10' },
    { schoolId: f.schoolId, studentId: s6, kind: 'arrival', toClassId: f.class7.id, date: '2026-11-15' },
  ]);
  const monMath = await lessonOn(db, f, f.mathSlot7, '2026-11-16');
  const monRus = await lessonOn(db, f, f.russianSlot7, '2026-11-16');
  const tueMath = await lessonOn(db, f, f.mathSlot7, '2026-11-17');
  const tueRus = await lessonOn(db, f, f.russianSlot7, '2026-11-17');
  const wedMath = await lessonOn(db, f, f.mathSlot7, '2026-11-18');
  const taken = new Date('2026-11-16T10:00:00Z');
  await Lesson.updateOne({ _id: monMath }, { $set: { attendanceTakenAt: taken, topic: 'Дроби', homework: { text: '№ 12' } } });
  await Lesson.updateOne({ _id: monRus }, { $set: { attendanceTakenAt: taken, topic: '  ' } });
  await Lesson.updateOne({ _id: tueMath }, { $set: { substituteId: f.spareTeacherId, topic: 'Дроби 2' } });
  await Lesson.updateOne({ _id: wedMath }, { $set: { status: 'cancelled', topic: 'Не было' } });
  const absent = (student: Types.ObjectId | undefined, lessonId: Types.ObjectId, date: string, code: 'Н' | 'Б' | 'У') =>
    Absence.create({ schoolId: f.schoolId, lessonId, studentId: student, classId: f.class7.id, date, code });
  await absent(s[0], monMath, '2026-11-16', 'Б');
  await absent(s[0], monRus, '2026-11-16', 'Б');
  await absent(s[0], tueMath, '2026-11-17', 'Н');
  await absent(s[1], tueMath, '2026-11-17', 'У');
  await absent(s[1], tueRus, '2026-11-17', 'Н');
  await absent(s[2], wedMath, '2026-11-18', 'Н');
  await absent(s[5], monMath, '2026-11-16', 'Н');
  // Marks with the moment they were entered (createdAt), written as stored.
  const mark = (lessonId: Types.ObjectId, subjectId: Types.ObjectId, date: string, workKind: string, createdAt: string) =>
    Mark.collection.insertOne({
      schoolId: f.schoolId,
      lessonId,
      studentId: s[2],
      subjectId,
      classId: f.class7.id,
      date,
      value: 4,
      workKind,
      weight: 1,
      teacherId: f.teacherId,
      createdAt: new Date(createdAt),
      updatedAt: new Date(createdAt),
    });
  await mark(monMath, f.mathId, '2026-11-16', 'classwork', '2026-11-17T18:00:00Z'); // 21:00 Moscow on the 17th: on time
  await mark(monMath, f.mathId, '2026-11-16', 'classwork', '2026-11-17T21:30:00Z'); // 00:30 on the 18th: late
  await mark(monMath, f.mathId, '2026-11-16', 'control', '2026-11-20T09:00:00Z');
  await mark(tueRus, f.russianId, '2026-11-17', 'classwork', '2026-11-17T09:00:00Z');
  report = await classReport(db, await actorFor(db, f.classTeacherId), String(f.class7.id), { from: '2026-11-16', to: '2026-11-18' }, NOW);
});

afterAll(async () => {
  await conn.dropDatabase();
  await conn.close();
});

describe('attendance figures', () => {
  it('lessons and whole days missed by reason; cancelled lessons and leavers are not counted', () => {
    expect(report.attendance.total).toMatchObject({
      students: 5,
      lessons: 20,
      missedLessons: { Н: 2, Б: 2, У: 1, total: 5 },
      missedDays: { Н: 0, Б: 1, У: 1, total: 2 },
      missedPct: 25,
    });
    const byName = Object.fromEntries(report.attendance.students.map((r) => [r.name.split(' ')[0], r]));
    expect(Object.keys(byName)).toEqual(['Ученик01', 'Ученик02', 'Ученик03', 'Ученик04', 'Ученик07']);
    expect(byName.Ученик01).toMatchObject({ lessons: 4, missedLessons: { Н: 1, Б: 2, У: 0, total: 3 }, missedDays: { Б: 1, total: 1 } });
    expect(byName.Ученик02).toMatchObject({ missedLessons: { Н: 1, У: 1, total: 2 }, missedDays: { У: 1, Н: 0, total: 1 } });
    expect(byName.Ученик03).toMatchObject({ lessons: 4, missedLessons: { total: 0 }, missedDays: { total: 0 } });
    expect(report.attendance.classes).toEqual([{ ...report.attendance.total, id: String(f.class7.id), name: '7Б' }]);
  });
});

describe('journal filling figures', () => {
  it('per class × subject × the teacher who held the lesson; marks against the R13 deadlines', () => {
    expect(report.filling.total).toEqual({ held: 4, withAttendance: 2, withTopic: 2, withHomework: 1, marks: 4, marksOnTime: 3, marksLate: 1 });
    const rows = report.filling.rows.map((r) => [r.subjectName, r.teacherName.split(' ')[0], r.held, r.withAttendance, r.withTopic, r.withHomework, r.marks, r.marksOnTime, r.marksLate]);
    expect(rows).toEqual([
      ['Математика', 'Запасова', 1, 0, 1, 0, 0, 0, 0],
      ['Математика', 'Учителева', 1, 1, 1, 1, 3, 2, 1],
      ['Русский язык', 'Другова', 2, 1, 0, 0, 1, 1, 0],
    ]);
    expect(report.filling.teachers.map((t) => [t.teacherName.split(' ')[0], t.held])).toEqual([
      ['Другова', 2],
      ['Запасова', 1],
      ['Учителева', 1],
    ]);
  });
});
