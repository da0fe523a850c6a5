/**
 * A school for the journal's tests, built directly with the models:
 * - class 7Б (30 students by default) with its class teacher (Классова), math taught by Учителева
 *   (timetable: lesson 2, Monday–Saturday) and Russian by Другова (lesson 3, Monday–Saturday);
 * - class 8А (40 students by default), math by Учителева (lesson 4, Monday–Saturday);
 * - an admin and a deputy; the teaching load (math 7Б: 170 hours a year);
 * - students named so that the roster order is known: "Ученик01 Имя01", …
 * Dates are Moscow dates; the test clock's default (2026-11-23 09:00 UTC) is Monday 12:00 there.
 */
import { Types } from 'mongoose';
import type { Db } from '../../src/db/index.js';
import type { Role } from '../../src/domain/shared/vocabulary.js';
import { type Actor, loadActor } from '../../src/domain/school/actor.js';

type Id = Types.ObjectId;

export interface JournalFixture {
  schoolId: Id;
  adminId: Id;
  deputyId: Id;
  teacherId: Id;
  otherTeacherId: Id;
  classTeacherId: Id;
  /** A teacher with no lessons (for substitutions and grants). */
  spareTeacherId: Id;
  class7: { id: Id; name: string; studentIds: Id[] };
  class8: { id: Id; name: string; studentIds: Id[] };
  mathId: Id;
  russianId: Id;
  /** Math in 7Б, lesson 2, every day Mon–Sat. */
  mathSlot7: Id[];
  /** Russian in 7Б, lesson 3 (Другова). */
  russianSlot7: Id[];
  /** Math in 8А, lesson 4. */
  mathSlot8: Id[];
}

export interface JournalFixtureOptions {
  students7?: number;
  students8?: number;
  timezone?: string;
  tag?: string;
  settings?: Record<string, unknown>;
}

const pad = (n: number) => String(n).padStart(2, '0');

export async function buildJournalSchool(db: Db, opts: JournalFixtureOptions = {}): Promise<JournalFixture> {
  const tag = opts.tag ?? '';
  const { School, Person, SchoolClass, Subject, TeachingLoad, TimetableSlot } = db.models;
  const school = await School.create({
    name: `Школа журнала${tag}`,
    timezone: opts.timezone ?? 'Europe/Moscow',
    locale: 'ru',
    settings: opts.settings ?? {},
  });
  const schoolId = school._id;
  const person = async (externalId: string, lastName: string, firstName: string, roles: Role[], extra: Record<string, unknown> = {}) =>
    (await Person.create({ schoolId, externalId: `${tag}${externalId}`, lastName, firstName, middleName: 'Ивановна', roles, ...extra }))._id;
  const adminId = await person('admin', 'Админова', 'Ольга', ['admin']);
  const deputyId = await person('deputy', 'Завучева', 'Нина', ['deputy', 'teacher']);
  const teacherId = await person('t-math', 'Учителева', 'Анна', ['teacher']);
  const otherTeacherId = await person('t-rus', 'Другова', 'Вера', ['teacher']);
  const classTeacherId = await person('t-class', 'Классова', 'Мария', ['teacher']);
  const spareTeacherId = await person('t-spare', 'Запасова', 'Ирина', ['teacher']);
  const class7 = await SchoolClass.create({ schoolId, externalId: `${tag}7b`, grade: 7, letter: 'Б', name: '7Б', classTeacherId });
  const class8 = await SchoolClass.create({ schoolId, externalId: `${tag}8a`, grade: 8, letter: 'А', name: '8А' });
  const students = async (cls: { _id: Id; externalId: string }, n: number, prefix: string) => {
    const docs = Array.from({ length: n }, (_, i) => ({
      schoolId,
      externalId: `${cls.externalId}-s${pad(i + 1)}`,
      lastName: `${prefix}${pad(i + 1)}`,
      firstName: `Имя${pad(i + 1)}`,
      roles: ['student'],
      student: { classId: cls._id, status: 'studying', form: 'regular', enrolledOn: '2026-09-01' },
    }));
    const created = await Person.insertMany(docs);
    return created.map((d) => d._id as Id);
  };
  const s7 = await students(class7, opts.students7 ?? 30, 'Ученик');
  const s8 = await students(class8, opts.students8 ?? 40, 'Восьмой');
  const math = await Subject.create({ schoolId, externalId: `${tag}math`, name: 'Математика' });
  const russian = await Subject.create({ schoolId, externalId: `${tag}rus`, name: 'Русский язык' });
  await TeachingLoad.create([
    { schoolId, classId: class7._id, subjectId: math._id, teacherId, hoursPerYear: 170 },
    { schoolId, classId: class7._id, subjectId: russian._id, teacherId: otherTeacherId, hoursPerYear: 136 },
    { schoolId, classId: class8._id, subjectId: math._id, teacherId, hoursPerYear: 170 },
  ]);
  const slots = async (classId: Id, subjectId: Id, teacher: Id, lessonNo: number, room: string) => {
    const created = await TimetableSlot.insertMany(
      [1, 2, 3, 4, 5, 6].map((weekday) => ({
        schoolId,
        classId,
        subjectId,
        teacherId: teacher,
        weekday,
        lessonNo,
        room,
        validFrom: '2026-09-01',
        validTo: null,
      })),
    );
    return created.map((d) => d._id as Id);
  };
  return {
    schoolId,
    adminId,
    deputyId,
    teacherId,
    otherTeacherId,
    classTeacherId,
    spareTeacherId,
    class7: { id: class7._id, name: '7Б', studentIds: s7 },
    class8: { id: class8._id, name: '8А', studentIds: s8 },
    mathId: math._id,
    russianId: russian._id,
    mathSlot7: await slots(class7._id, math._id, teacherId, 2, '204'),
    russianSlot7: await slots(class7._id, russian._id, otherTeacherId, 3, '305'),
    mathSlot8: await slots(class8._id, math._id, teacherId, 4, '204'),
  };
}

/** Binds a Telegram account to a person (what redeeming an invite does). */
export async function bindTelegram(db: Db, personId: Id, telegramId: number): Promise<void> {
  await db.models.Person.updateOne({ _id: personId }, { $set: { telegramId, boundAt: new Date() } });
}

export async function actorFor(db: Db, personId: Id): Promise<Actor> {
  const actor = await loadActor(db, personId);
  if (!actor) throw new Error(`no actor for ${personId}`);
  return actor;
}

/** The Lesson of a slot on a date, created as the app would (upsert on slotId+date). */
export async function lessonOn(db: Db, f: JournalFixture, slotIds: Id[], date: string): Promise<Id> {
  const weekday = new Date(`${date}T00:00:00Z`).getUTCDay() || 7;
  const slot = await db.models.TimetableSlot.findOne({ _id: { $in: slotIds }, weekday }).lean();
  if (!slot) throw new Error(`no slot on ${date}`);
  const lesson = await db.models.Lesson.findOneAndUpdate(
    { slotId: slot._id, date },
    {
      $setOnInsert: {
        schoolId: f.schoolId,
        classId: slot.classId,
        groupId: null,
        subjectId: slot.subjectId,
        teacherId: slot.teacherId,
        lessonNo: slot.lessonNo,
        room: slot.room,
        status: 'scheduled',
      },
    },
    { upsert: true, returnDocument: 'after' },
  ).lean();
  if (!lesson) throw new Error('lesson not created');
  return lesson._id;
}

export const newId = () => new Types.ObjectId();

/**
 * The school's 2026/2027 year (1 Sep – 31 May) with q1 (1 Sep – 26 Oct), q2 (5 Nov – `q2EndsOn`) and
 * the year itself; `holidays` as given. Returns its id.
 */
export async function addSchoolYear(
  db: Db,
  f: Pick<JournalFixture, 'schoolId'>,
  opts: { q2EndsOn?: string; holidays?: Array<{ name: string; startsOn: string; endsOn: string }> } = {},
): Promise<Id> {
  const year = await db.models.AcademicYear.create({
    schoolId: f.schoolId,
    name: '2026/2027',
    startsOn: '2026-09-01',
    endsOn: '2027-05-31',
    periods: [
      { code: 'q1', kind: 'quarter', startsOn: '2026-09-01', endsOn: '2026-10-26' },
      { code: 'q2', kind: 'quarter', startsOn: '2026-11-05', endsOn: opts.q2EndsOn ?? '2026-12-28' },
      { code: 'year', kind: 'year', startsOn: '2026-09-01', endsOn: '2027-05-31' },
    ],
    holidays: opts.holidays ?? [],
  });
  return year._id;
}
