import type { Connection, Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMongo } from '../../../src/db/connection.js';
import { createDb, type Db } from '../../../src/db/index.js';
import { classReport, gradeReport, resolveReportScope, schoolReport, studentReport } from '../../../src/domain/reports/index.js';
import { testMongoUri } from '../../support/db.js';
import { actorFor, addSchoolYear, buildJournalSchool, type JournalFixture } from '../../support/journal-fixtures.js';
import { refusal } from '../../support/refusal.js';

/** Who may see which report (issue 14, R4, R26–R28): refused in the domain, whatever the face. */
const NOW = new Date('2026-11-23T09:00:00Z');
let conn: Connection;
let db: Db;
let f: JournalFixture;
let other: JournalFixture;
let parentId: Types.ObjectId;
let secretaryId: Types.ObjectId;

beforeAll(async () => {
  conn = await connectMongo(testMongoUri('reports_access'));
  db = await createDb(conn);
  f = await buildJournalSchool(db, { students7: 3, students8: 2 });
  other = await buildJournalSchool(db, { students7: 2, students8: 1, tag: 'x' });
  await addSchoolYear(db, f);
  await addSchoolYear(db, other);
  const { Person, Guardianship } = db.models;
  parentId = (
    await Person.create({ schoolId: f.schoolId, externalId: 'p1', lastName: 'Родителева', firstName: 'Анна', roles: ['parent'], consent: { acceptedAt: NOW, version: 1 } })
  )._id;
  await Guardianship.create({ schoolId: f.schoolId, parentId, studentId: f.class7.studentIds[0] });
  secretaryId = (await Person.create({ schoolId: f.schoolId, externalId: 'sec', lastName: 'Секретарева', firstName: 'Ия', roles: ['secretary'] }))._id;
  await db.models.Person.updateOne({ _id: f.class7.studentIds[1] }, { $set: { consent: { acceptedAt: NOW, version: 1 } } });
});

afterAll(async () => {
  await conn.dropDatabase();
  await conn.close();
});

const id = (x: Types.ObjectId | undefined) => String(x);

describe('report access', () => {
  it('a parent sees their own child only: another child, a class, a grade, the school are refused', async () => {
    const parent = await actorFor(db, parentId);
    const own = await studentReport(db, parent, id(f.class7.studentIds[0]), { periodCode: 'q2' }, NOW);
    expect(own.scope).toMatchObject({ kind: 'student', studentId: id(f.class7.studentIds[0]), period: { code: 'q2' } });
    expect(own.scope.pairs).toBeUndefined();
    expect(await refusal(studentReport(db, parent, id(f.class7.studentIds[1]), {}, NOW))).toBe('errors.forbidden');
    expect(await refusal(classReport(db, parent, id(f.class7.id), {}, NOW))).toBe('errors.forbidden');
    expect(await refusal(gradeReport(db, parent, 7, {}, NOW))).toBe('errors.forbidden');
    expect(await refusal(schoolReport(db, parent, {}, NOW))).toBe('errors.forbidden');
  });

  it('a student sees themself only', async () => {
    const student = await actorFor(db, f.class7.studentIds[1] as Types.ObjectId);
    await expect(studentReport(db, student, id(f.class7.studentIds[1]), {}, NOW)).resolves.toBeTruthy();
    expect(await refusal(studentReport(db, student, id(f.class7.studentIds[0]), {}, NOW))).toBe('errors.forbidden');
    expect(await refusal(classReport(db, student, id(f.class7.id), {}, NOW))).toBe('errors.forbidden');
  });

  it('a teacher sees the classes they teach, in their own subjects only; another class, a grade, the school are refused', async () => {
    const russian = await actorFor(db, f.otherTeacherId);
    const r = await classReport(db, russian, id(f.class7.id), {}, NOW);
    expect(r.scope.pairs).toEqual([`${f.class7.id}|${f.russianId}`]);
    expect(r.coverage.rows.map((x) => x.subjectName)).toEqual(['Русский язык']);
    expect(await refusal(classReport(db, russian, id(f.class8.id), {}, NOW))).toBe('errors.forbidden');
    expect(await refusal(studentReport(db, russian, id(f.class8.studentIds[0]), {}, NOW))).toBe('errors.forbidden');
    expect(await refusal(gradeReport(db, russian, 7, {}, NOW))).toBe('errors.forbidden');
    expect(await refusal(schoolReport(db, russian, {}, NOW))).toBe('errors.forbidden');
    const spare = await actorFor(db, f.spareTeacherId);
    expect(await refusal(classReport(db, spare, id(f.class7.id), {}, NOW))).toBe('errors.forbidden');
  });

  it('a class teacher sees their class in every subject (R26), not another class', async () => {
    const lead = await actorFor(db, f.classTeacherId);
    const r = await classReport(db, lead, id(f.class7.id), {}, NOW);
    expect(r.scope.pairs).toBeUndefined();
    expect(r.coverage.rows.map((x) => x.subjectName).sort()).toEqual(['Математика', 'Русский язык']);
    expect(await refusal(classReport(db, lead, id(f.class8.id), {}, NOW))).toBe('errors.forbidden');
  });

  it("another school's staff are refused this school's class, student and ids; forged ids too", async () => {
    const theirAdmin = await actorFor(db, other.adminId);
    const theirTeacher = await actorFor(db, other.teacherId);
    expect(await refusal(classReport(db, theirAdmin, id(f.class7.id), {}, NOW))).toBe('errors.forbidden');
    expect(await refusal(studentReport(db, theirAdmin, id(f.class7.studentIds[0]), {}, NOW))).toBe('errors.forbidden');
    expect(await refusal(classReport(db, theirTeacher, id(f.class7.id), {}, NOW))).toBe('errors.forbidden');
    expect(await refusal(classReport(db, theirAdmin, 'not-an-id', {}, NOW))).toBe('errors.forbidden');
    const theirs = await schoolReport(db, theirAdmin, {}, NOW);
    expect(theirs.scope.classes.map((c) => c.classId).sort()).toEqual([id(other.class7.id), id(other.class8.id)].sort());
  });

  it('the deputy and the admin see a grade level and the school; the secretary does not', async () => {
    const deputy = await actorFor(db, f.deputyId);
    const grade = await gradeReport(db, deputy, 8, {}, NOW);
    expect(grade.scope.classes.map((c) => c.name)).toEqual(['8А']);
    const school = await schoolReport(db, await actorFor(db, f.adminId), {}, NOW);
    expect(school.scope.classes.map((c) => c.name)).toEqual(['7Б', '8А']);
    // No period asked for: the term the school is in (23 Nov is in q2).
    expect(school.scope.period?.code).toBe('q2');
    expect(await refusal(schoolReport(db, await actorFor(db, secretaryId), {}, NOW))).toBe('errors.forbidden');
  });

  it('refuses an unknown period, a backwards range and a bad grade with their own keys', async () => {
    const deputy = await actorFor(db, f.deputyId);
    expect(await refusal(resolveReportScope(db, deputy, { kind: 'school', periodCode: 'q9' }, NOW))).toBe('reports.badPeriod');
    expect(await refusal(resolveReportScope(db, deputy, { kind: 'school', from: '2026-11-10', to: '2026-11-01' }, NOW))).toBe('reports.badRange');
    expect(await refusal(resolveReportScope(db, deputy, { kind: 'school', from: '10.11.2026' }, NOW))).toBe('reports.badRange');
    expect(await refusal(resolveReportScope(db, deputy, { kind: 'grade', grade: 12 }, NOW))).toBe('reports.badGrade');
    const range = await resolveReportScope(db, deputy, { kind: 'class', classId: id(f.class7.id), from: '2026-11-01', to: '2026-11-20' }, NOW);
    expect(range).toMatchObject({ from: '2026-11-01', to: '2026-11-20', today: '2026-11-23' });
    expect(range.period).toBeUndefined();
  });
});
