import type { Connection, Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMongo } from '../../../src/db/connection.js';
import { createDb, type Db } from '../../../src/db/index.js';
import { openAttendance, saveAttendance, toggleAttendance } from '../../../src/domain/journal/attendance.js';
import { listPeExemptions, recordPeExemption, revokePeExemption, setSubjectPe } from '../../../src/domain/journal/exemptions.js';
import { lessonMarksSheet } from '../../../src/domain/journal/marks.js';
import type { Actor } from '../../../src/domain/school/actor.js';
import { testMongoUri } from '../../support/db.js';
import { refusal } from '../../support/refusal.js';
import { actorFor, buildJournalSchool, type JournalFixture, lessonOn } from '../../support/journal-fixtures.js';

/** R21: the class teacher records a PE exemption; the PE teacher sees it; missed PE is no absence. */
const at = (date: string) => new Date(`${date}T09:00:00Z`);
let conn: Connection;
let db: Db;
let f: JournalFixture;
let classTeacher: Actor;
let peTeacher: Actor;
let peSlots: Types.ObjectId[];

beforeAll(async () => {
  conn = await connectMongo(testMongoUri('pe'));
  db = await createDb(conn);
  f = await buildJournalSchool(db, { students7: 4, students8: 1 });
  const pe = await db.models.Subject.create({ schoolId: f.schoolId, externalId: 'pe', name: 'Физическая культура' });
  await db.models.TeachingLoad.create({ schoolId: f.schoolId, classId: f.class7.id, subjectId: pe._id, teacherId: f.spareTeacherId, hoursPerYear: 102 });
  peSlots = (
    await db.models.TimetableSlot.insertMany(
      [1, 2, 3, 4, 5, 6].map((weekday) => ({ schoolId: f.schoolId, classId: f.class7.id, subjectId: pe._id, teacherId: f.spareTeacherId, weekday, lessonNo: 5, validFrom: '2026-09-01' })),
    )
  ).map((d) => d._id as Types.ObjectId);
  classTeacher = await actorFor(db, f.classTeacherId);
  peTeacher = await actorFor(db, f.spareTeacherId);
  const admin = await actorFor(db, f.adminId);
  // PE is a flag on the subject (R21); the import has a column for it too.
  expect(await setSubjectPe(db, admin, String(pe._id), true, at('2026-11-02'))).toBe(true);
});

afterAll(async () => {
  await conn?.dropDatabase().catch(() => undefined);
  await conn?.close();
});

describe('PE exemptions (R21)', () => {
  it('only the class teacher of the student (or the admin) records one, with valid dates', async () => {
    const student = String(f.class7.studentIds[0]);
    expect(await refusal(recordPeExemption(db, peTeacher, { studentId: student, from: '2026-11-01', to: '2026-11-30' }, at('2026-11-02')))).toBe('errors.forbidden');
    expect(await refusal(recordPeExemption(db, classTeacher, { studentId: student, from: '2026-11-30', to: '2026-11-01' }, at('2026-11-02')))).toBe('pe.backwards');
    const e = await recordPeExemption(db, classTeacher, { studentId: student, from: '2026-11-01', to: '2026-11-30', note: 'справка' }, at('2026-11-02'));
    expect(e).toMatchObject({ from: '2026-11-01', to: '2026-11-30' });
    expect(await listPeExemptions(db, peTeacher, student, '2026-11-02')).toHaveLength(1);
    const audit = await db.models.AuditEntry.findOne({ action: 'peExemption.set' }).lean();
    expect(audit?.after).toEqual({ from: '2026-11-01', to: '2026-11-30' });
  });

  it('the PE teacher sees the exempt student in attendance and marks; a tap on them is refused', async () => {
    const lessonId = String(await lessonOn(db, f, peSlots, '2026-11-09'));
    const sheet = await openAttendance(db, peTeacher, lessonId, at('2026-11-09'));
    expect(sheet.students.filter((s) => s.exempt).map((s) => s.id)).toEqual([String(f.class7.studentIds[0])]);
    expect(await refusal(toggleAttendance(db, peTeacher, lessonId, sheet.version, 0, at('2026-11-09')))).toBe('pe.exemptNoAbsence');
    const marks = await lessonMarksSheet(db, peTeacher, lessonId, at('2026-11-09'));
    expect(marks.students[0]?.exempt).toBe(true);
    expect(marks.students[1]?.exempt).toBeUndefined();
  });

  it('an exempt student missing PE is no absence: Save skips them, others are saved', async () => {
    const lessonId = await lessonOn(db, f, peSlots, '2026-11-10');
    const sheet = await openAttendance(db, peTeacher, String(lessonId), at('2026-11-10'));
    // A draft that has the exempt student absent (made before the exemption, or forged).
    await db.models.AttendanceDraft.updateOne({ lessonId, editorId: f.spareTeacherId }, { $set: { absent: [0, 1] } });
    const saved = await saveAttendance(db, peTeacher, String(lessonId), sheet.version, at('2026-11-10'));
    expect(saved.marked).toBe(1);
    const absences = await db.models.Absence.find({ lessonId }).lean();
    expect(absences.map((a) => String(a.studentId))).toEqual([String(f.class7.studentIds[1])]);
  });

  it('outside the dates, in another subject, or once revoked, the student is not exempt', async () => {
    const december = String(await lessonOn(db, f, peSlots, '2026-12-01'));
    expect((await openAttendance(db, peTeacher, december, at('2026-12-01'))).students.some((s) => s.exempt)).toBe(false);
    const teacher = await actorFor(db, f.teacherId);
    const math = String(await lessonOn(db, f, f.mathSlot7, '2026-11-11'));
    expect((await openAttendance(db, teacher, math, at('2026-11-11'))).students.some((s) => s.exempt)).toBe(false);
    const [e] = await listPeExemptions(db, classTeacher, String(f.class7.studentIds[0]), '2026-11-02');
    await revokePeExemption(db, classTeacher, e!.id, at('2026-11-12'));
    const pe = String(await lessonOn(db, f, peSlots, '2026-11-12'));
    expect((await openAttendance(db, peTeacher, pe, at('2026-11-12'))).students.some((s) => s.exempt)).toBe(false);
  });
});
