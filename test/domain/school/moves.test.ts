import type { Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMongo } from '../../../src/db/connection.js';
import { createDb, type Db } from '../../../src/db/index.js';
import { recordMark } from '../../../src/domain/journal/marks.js';
import { classReport } from '../../../src/domain/reports/index.js';
import { loadActor } from '../../../src/domain/school/actor.js';
import { arriveStudent, studentsForMoves, transferStudent, withdrawStudent } from '../../../src/domain/school/moves.js';
import { listWorkKinds, updateWorkKinds } from '../../../src/domain/school/work-kinds.js';
import { testMongoUri } from '../../support/db.js';
import { actorFor, addSchoolYear, buildJournalSchool, type JournalFixture, lessonOn } from '../../support/journal-fixtures.js';
import { refusal } from '../../support/refusal.js';

/** R5: the secretary moves one student (arrival, transfer, withdrawal); marks and the family stay. Work kinds (R12). */
const at = (date: string) => new Date(`${date}T09:00:00Z`);
const TODAY = '2026-11-23';
let conn: Connection;
let db: Db;
let f: JournalFixture;

beforeAll(async () => {
  conn = await connectMongo(testMongoUri('moves'));
  db = await createDb(conn);
  f = await buildJournalSchool(db, { students7: 3, students8: 2 });
  await addSchoolYear(db, f);
});

afterAll(async () => {
  await conn?.dropDatabase().catch(() => undefined);
  await conn?.close();
});

const secretary = async () => {
  const p = await db.models.Person.create({ schoolId: f.schoolId, externalId: `sec-${Math.random()}`, lastName: 'Секретарёва', firstName: 'Ольга', roles: ['secretary'] });
  return (await loadActor(db, p._id))!;
};

describe('moving one student (R5)', () => {
  it('transfer: the class changes, marks stay with the student, the family stays, the old class groups drop them, history and audit', async () => {
    const sec = await secretary();
    const student = f.class7.studentIds[0]!;
    const parent = await db.models.Person.create({ schoolId: f.schoolId, externalId: 'mv-parent', lastName: 'Мамина', firstName: 'Ирина', roles: ['parent'] });
    await db.models.Guardianship.create({ schoolId: f.schoolId, parentId: parent._id, studentId: student, relation: 'mother' });
    const group = await db.models.Group.create({ schoolId: f.schoolId, externalId: 'mv-g1', classId: f.class7.id, subjectId: f.russianId, name: 'гр. 1', studentIds: [student] });
    const lessonId = String(await lessonOn(db, f, f.mathSlot7, '2026-11-20'));
    await recordMark(db, await actorFor(db, f.teacherId), { lessonId, studentId: String(student), value: 4, workKind: 'classwork' }, at('2026-11-20'));

    const moved = await transferStudent(db, sec, { studentId: String(student), toClassId: String(f.class8.id), date: TODAY, note: 'заявление' }, at(TODAY));
    expect(moved).toMatchObject({ kind: 'transfer', fromClass: '7Б', toClass: '8А', name: 'Ученик01 Имя01 Ивановна'.replace(' Ивановна', '') });
    const p = await db.models.Person.findById(student).lean();
    expect(String(p?.student?.classId)).toBe(String(f.class8.id));
    expect(p?.student?.status).toBe('studying');
    expect(await db.models.Mark.countDocuments({ studentId: student, deletedAt: null })).toBe(1);
    expect(await db.models.Guardianship.countDocuments({ studentId: student })).toBe(1);
    expect((await db.models.Group.findById(group._id).lean())?.studentIds.map(String)).toEqual([]);
    expect(await db.models.StudentMovement.countDocuments({ studentId: student, kind: 'transfer', fromClassId: f.class7.id, toClassId: f.class8.id, date: TODAY })).toBe(1);
    const audit = await db.models.AuditEntry.findOne({ action: 'student.transfer', studentId: student }).lean();
    expect(audit?.reason).toBe('заявление');
    // The class lists follow.
    expect((await studentsForMoves(db, sec, String(f.class8.id))).find((s) => s.id === String(student))).toMatchObject({ className: '8А', studying: true, parents: 1 });
    expect((await studentsForMoves(db, sec, String(f.class7.id))).some((s) => s.id === String(student))).toBe(false);
    // The new class's report counts the student; the old one's does not.
    const admin = await actorFor(db, f.adminId);
    const r8 = await classReport(db, admin, String(f.class8.id), { from: '2026-11-01', to: TODAY }, at(TODAY));
    expect(r8.attendance.students.map((s) => s.studentId)).toContain(String(student));
    expect(await refusal(transferStudent(db, sec, { studentId: String(student), toClassId: String(f.class8.id), date: TODAY }, at(TODAY)))).toBe('office.moves.sameClass');
  });

  it('withdrawal and coming back: the status and the history, the family kept', async () => {
    const sec = await secretary();
    const student = String(f.class7.studentIds[1]);
    const left = await withdrawStudent(db, sec, { studentId: student, date: TODAY }, at(TODAY));
    expect(left).toMatchObject({ kind: 'withdrawal', fromClass: '7Б' });
    expect((await db.models.Person.findById(student).lean())?.student?.status).toBe('withdrawn');
    expect((await studentsForMoves(db, sec, String(f.class7.id))).find((s) => s.id === student)?.studying).toBe(false);
    expect(await refusal(withdrawStudent(db, sec, { studentId: student, date: TODAY }, at(TODAY)))).toBe('office.moves.notStudying');
    expect(await refusal(transferStudent(db, sec, { studentId: student, toClassId: String(f.class8.id), date: TODAY }, at(TODAY)))).toBe('office.moves.notStudying');
    const back = await arriveStudent(db, sec, { studentId: student, classId: String(f.class8.id), date: TODAY }, at(TODAY));
    expect(back).toMatchObject({ kind: 'arrival', toClass: '8А' });
    expect((await db.models.Person.findById(student).lean())?.student).toMatchObject({ status: 'studying', enrolledOn: TODAY });
    expect((await db.models.StudentMovement.find({ studentId: student }).sort({ _id: 1 }).lean()).map((m) => m.kind)).toEqual(['withdrawal', 'arrival']);
  });

  it('arrival of a new student: a student of the class, enrolled on the date', async () => {
    const sec = await secretary();
    const r = await arriveStudent(db, sec, { classId: String(f.class7.id), date: TODAY, lastName: 'Новикова', firstName: 'Дарья', middleName: 'Петровна' }, at(TODAY));
    expect(r).toMatchObject({ kind: 'arrival', name: 'Новикова Дарья Петровна', toClass: '7Б' });
    const p = await db.models.Person.findById(r.studentId).lean();
    expect(p?.roles).toEqual(['student']);
    expect(p?.student).toMatchObject({ status: 'studying', enrolledOn: TODAY, classId: f.class7.id });
    expect(await db.models.AuditEntry.countDocuments({ action: 'student.arrival', studentId: p?._id })).toBe(1);
  });

  it('refuses a teacher, a class teacher, a future date, another school and bad input', async () => {
    const student = String(f.class7.studentIds[2]);
    const input = { studentId: student, toClassId: String(f.class8.id), date: TODAY };
    expect(await refusal(transferStudent(db, await actorFor(db, f.classTeacherId), input, at(TODAY)))).toBe('errors.forbidden');
    expect(await refusal(withdrawStudent(db, await actorFor(db, f.teacherId), { studentId: student, date: TODAY }, at(TODAY)))).toBe('errors.forbidden');
    const sec = await secretary();
    expect(await refusal(transferStudent(db, sec, { ...input, date: '2026-11-30' }, at(TODAY)))).toBe('office.moves.future');
    expect(await refusal(transferStudent(db, sec, { ...input, date: 'завтра' }, at(TODAY)))).toBe('office.moves.invalid');
    const other = await buildJournalSchool(db, { tag: 'mv-', students7: 1, students8: 1 });
    expect(await refusal(transferStudent(db, sec, { ...input, toClassId: String(other.class8.id) }, at(TODAY)))).toBe('errors.forbidden');
    expect(await refusal(transferStudent(db, sec, { ...input, studentId: String(other.class7.studentIds[0]) }, at(TODAY)))).toBe('errors.forbidden');
    // The deputy may move students too.
    expect((await transferStudent(db, await actorFor(db, f.deputyId), input, at(TODAY))).toClass).toBe('8А');
  });
});

describe('kinds of work and their weights', () => {
  it('the office reads them, the admin changes them (audited), a kind in use cannot be removed, others are refused', async () => {
    const admin = await actorFor(db, f.adminId);
    const sec = await secretary();
    const kinds = await listWorkKinds(db, sec);
    expect(kinds.map((k) => [k.code, k.weight])).toEqual([['classwork', 1], ['homework', 1], ['oral', 1], ['test', 1.5], ['control', 2]]);
    expect(await refusal(updateWorkKinds(db, sec, kinds, at(TODAY)))).toBe('errors.forbidden');
    expect(await refusal(updateWorkKinds(db, await actorFor(db, f.deputyId), kinds, at(TODAY)))).toBe('errors.forbidden');
    expect(await refusal(listWorkKinds(db, await actorFor(db, f.teacherId)))).toBe('errors.forbidden');
    const next = kinds.map((k) => (k.code === 'control' ? { ...k, weight: 3 } : k));
    next.push({ code: 'project', name: { ru: 'Проект', en: 'Project' }, weight: 2.5, written: true });
    const r = await updateWorkKinds(db, admin, next, at(TODAY));
    expect(r.changed).toEqual(['control', 'project']);
    expect((await listWorkKinds(db, admin)).find((k) => k.code === 'control')?.weight).toBe(3);
    const audit = await db.models.AuditEntry.findOne({ action: 'school.workKinds' }).lean();
    expect(audit?.before).toEqual([{ code: 'control', name: { ru: 'Контрольная работа', en: 'Control work' }, weight: 2, written: true }]);
    // classwork is used by a mark above.
    expect(await refusal(updateWorkKinds(db, admin, next.filter((k) => k.code !== 'classwork'), at(TODAY)))).toBe('office.kinds.inUse');
    expect(await refusal(updateWorkKinds(db, admin, [...next, next[0]], at(TODAY)))).toBe('office.kinds.duplicate');
    expect(await refusal(updateWorkKinds(db, admin, [{ ...next[0], weight: 0 }], at(TODAY)))).toBe('office.kinds.invalid');
    expect((await updateWorkKinds(db, admin, next.filter((k) => k.code !== 'oral'), at(TODAY))).changed).toEqual(['oral']);
  });
});
