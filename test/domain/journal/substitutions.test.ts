import type { Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMongo } from '../../../src/db/connection.js';
import { createDb, type Db } from '../../../src/db/index.js';
import { lessonsForTeacher } from '../../../src/domain/journal/lessons.js';
import { recordMark } from '../../../src/domain/journal/marks.js';
import { cancelSubstitution, createSubstitution, listSubstitutions, slotsOfDay } from '../../../src/domain/journal/substitutions.js';
import type { Actor } from '../../../src/domain/school/actor.js';
import { testMongoUri } from '../../support/db.js';
import { actorFor, addSchoolYear, buildJournalSchool, type JournalFixture, lessonOn } from '../../support/journal-fixtures.js';
import { refusal } from '../../support/refusal.js';

/** R7: the deputy puts a substitute on one lesson (a slot on a date), and cancels it; the substitute fills that lesson. */
const at = (date: string, hour = 9) => new Date(`${date}T${String(hour).padStart(2, '0')}:00:00Z`);
const MONDAY = '2026-11-23';
let conn: Connection;
let db: Db;
let f: JournalFixture;
let deputy: Actor;
let teacher: Actor;
let spare: () => Promise<Actor>;

beforeAll(async () => {
  conn = await connectMongo(testMongoUri('subs'));
  db = await createDb(conn);
  f = await buildJournalSchool(db, { students7: 3, students8: 1 });
  await addSchoolYear(db, f);
  deputy = await actorFor(db, f.deputyId);
  teacher = await actorFor(db, f.teacherId);
  spare = () => actorFor(db, f.spareTeacherId);
});

afterAll(async () => {
  await conn?.dropDatabase().catch(() => undefined);
  await conn?.close();
});

const mathSlotOn = async (date: string) => {
  const weekday = new Date(`${date}T00:00:00Z`).getUTCDay() || 7;
  const slot = await db.models.TimetableSlot.findOne({ _id: { $in: f.mathSlot7 }, weekday }).lean();
  return String(slot?._id);
};

describe('substitutions (R7)', () => {
  it('a teacher without the lesson cannot fill it; after the deputy substitutes them they can, and see it in their day', async () => {
    const lessonId = String(await lessonOn(db, f, f.mathSlot7, MONDAY));
    const student = String(f.class7.studentIds[0]);
    const mark = { lessonId, studentId: student, value: 5, workKind: 'classwork' };
    expect(await refusal(recordMark(db, await spare(), mark, at(MONDAY)))).toBe('journal.notYours');

    const slotId = await mathSlotOn(MONDAY);
    const sub = await createSubstitution(db, deputy, { slotId, date: MONDAY, substituteId: String(f.spareTeacherId), reason: 'болезнь' }, at(MONDAY, 6));
    expect(sub).toMatchObject({ date: MONDAY, className: '7Б', subjectName: 'Математика', teacherName: 'Учителева Анна Ивановна', substituteName: 'Запасова Ирина Ивановна', reason: 'болезнь', lessonNo: 2 });
    // The lesson made already follows at once.
    expect(String((await db.models.Lesson.findById(lessonId).lean())?.substituteId)).toBe(String(f.spareTeacherId));
    const day = await lessonsForTeacher(db, await spare(), MONDAY, at(MONDAY));
    expect(day.lessons.map((l) => [l.className, l.subjectName, l.substitution])).toEqual([['7Б', 'Математика', 'me']]);
    const { mark: saved } = await recordMark(db, await spare(), mark, at(MONDAY));
    expect(saved.value).toBe(5);

    expect(await listSubstitutions(db, deputy, MONDAY)).toEqual([sub]);
    const slots = await slotsOfDay(db, deputy, MONDAY);
    expect(slots.find((s) => s.slotId === slotId)?.substitution?.substituteName).toBe('Запасова Ирина Ивановна');
    const audit = await db.models.AuditEntry.find({ schoolId: f.schoolId, action: /^substitution\./ }).lean();
    expect(audit.map((a) => a.action)).toEqual(['substitution.created']);

    await cancelSubstitution(db, deputy, sub.id, at(MONDAY, 10));
    expect((await db.models.Lesson.findById(lessonId).lean())?.substituteId).toBeNull();
    expect(await refusal(recordMark(db, await spare(), { ...mark, studentId: String(f.class7.studentIds[1]) }, at(MONDAY)))).toBe('journal.notYours');
    // What the substitute entered stays.
    expect(await db.models.Mark.countDocuments({ lessonId, deletedAt: null })).toBe(1);
    expect(await refusal(cancelSubstitution(db, deputy, sub.id, at(MONDAY, 11)))).toBe('office.subs.gone');
    expect((await db.models.AuditEntry.find({ schoolId: f.schoolId, action: /^substitution\./ }).lean()).map((a) => a.action)).toEqual([
      'substitution.created',
      'substitution.cancelled',
    ]);
  });

  it('a substitution made before the lesson exists makes the lesson with the substitute', async () => {
    const date = '2026-11-24';
    const slotId = await mathSlotOn(date);
    await createSubstitution(db, deputy, { slotId, date, substituteId: String(f.spareTeacherId) }, at('2026-11-23'));
    const day = await lessonsForTeacher(db, await spare(), date, at(date));
    expect(day.lessons).toHaveLength(1);
    expect(day.lessons[0]?.substitution).toBe('me');
  });

  it('refuses a wrong role, the own teacher, a day without the slot, a holiday-less wrong weekday and bad input', async () => {
    const slotId = await mathSlotOn(MONDAY);
    const input = { slotId, date: MONDAY, substituteId: String(f.spareTeacherId) };
    expect(await refusal(createSubstitution(db, teacher, input, at(MONDAY)))).toBe('errors.forbidden');
    expect(await refusal(createSubstitution(db, await actorFor(db, f.classTeacherId), input, at(MONDAY)))).toBe('errors.forbidden');
    expect(await refusal(slotsOfDay(db, teacher, MONDAY))).toBe('errors.forbidden');
    expect(await refusal(createSubstitution(db, deputy, { ...input, substituteId: String(f.teacherId) }, at(MONDAY)))).toBe('office.subs.ownTeacher');
    expect(await refusal(createSubstitution(db, deputy, { ...input, date: '2026-11-29' }, at(MONDAY)))).toBe('office.subs.noLesson');
    expect(await refusal(createSubstitution(db, deputy, { ...input, substituteId: String(f.class7.studentIds[0]) }, at(MONDAY)))).toBe('errors.forbidden');
    expect(await refusal(createSubstitution(db, deputy, { ...input, date: '23.11.2026' }, at(MONDAY)))).toBe('office.subs.invalid');
    const foreign = await buildJournalSchool(db, { tag: 'y-', students7: 1, students8: 1 });
    expect(await refusal(createSubstitution(db, await actorFor(db, foreign.deputyId), input, at(MONDAY)))).toBe('errors.forbidden');
  });
});
