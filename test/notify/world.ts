/**
 * A school with bound families for the notification and diary tests: the fixture school of
 * test/support/fixtures.ts, plus a second parent for family A, Telegram users bound to the
 * people (consent given), an academic year and a timetable with today's lessons.
 */
import { Api } from 'grammy';
import { Types } from 'mongoose';
import type { Db } from '../../src/db/index.js';
import { CONSENT_VERSION } from '../../src/domain/school/people.js';
import { academicYearFor } from '../../src/domain/school/academic-year.js';
import { type DeliveryOptions, DeliveryWorker } from '../../src/notify/delivery.js';
import { publishEvent } from '../../src/domain/notices/events.js';
import { isoWeekday, localDate } from '../../src/domain/shared/calendar.js';
import { makeSchool, type SchoolFixture } from '../support/fixtures.js';
import { TEST_TOKEN, type TestApp } from '../support/harness.js';
import type { TestUser } from '../support/users.js';

type Id = Types.ObjectId;

export interface FamilyWorld {
  s: SchoolFixture;
  today: string;
  /** Family A: mother, father and the student, all bound. */
  motherA: TestUser;
  fatherA: TestUser;
  fatherAId: Id;
  studentA: TestUser;
  /** Family B: the mother, bound. */
  motherB: TestUser;
  /** Class teacher of 5А, bound; the subject teacher, bound. */
  classTeacherA: TestUser;
  mathTeacher: TestUser;
  lessonA: LessonRef;
  lessonB: LessonRef;
}

export interface LessonRef {
  id: Id;
  schoolId: Id;
  classId: Id;
  subjectId: Id;
  teacherId: Id;
  date: string;
}

export async function bind(db: Db, personId: Id, user: TestUser, boundAt: Date): Promise<void> {
  await db.models.Person.updateOne(
    { _id: personId },
    { $set: { telegramId: user.id, boundAt, consent: { acceptedAt: boundAt, version: CONSENT_VERSION } } },
  );
  await db.models.Account.updateOne(
    { telegramId: user.id },
    { $set: { chatStatus: 'active' }, $setOnInsert: { telegramId: user.id } },
    { upsert: true },
  );
}

let slotCounter = 0;

/** A timetable slot on the date's weekday and its lesson on that date. */
export async function makeLesson(
  db: Db,
  opts: { schoolId: Id; classId: Id; subjectId: Id; teacherId: Id; date: string; lessonNo?: number; groupId?: Id },
): Promise<LessonRef> {
  const lessonNo = opts.lessonNo ?? (++slotCounter % 8) + 1;
  const slot = await db.models.TimetableSlot.create({
    schoolId: opts.schoolId,
    classId: opts.classId,
    groupId: opts.groupId ?? null,
    subjectId: opts.subjectId,
    teacherId: opts.teacherId,
    weekday: isoWeekday(opts.date),
    lessonNo,
    room: '12',
    validFrom: `2026-09-${String(1 + (slotCounter % 28)).padStart(2, '0')}`,
  });
  const lesson = await db.models.Lesson.create({
    schoolId: opts.schoolId,
    date: opts.date,
    slotId: slot._id,
    classId: opts.classId,
    groupId: opts.groupId ?? null,
    subjectId: opts.subjectId,
    teacherId: opts.teacherId,
    lessonNo,
  });
  return { id: lesson._id, schoolId: opts.schoolId, classId: opts.classId, subjectId: opts.subjectId, teacherId: opts.teacherId, date: opts.date };
}

export async function setGrace(db: Db, schoolId: Id, minutes: number): Promise<void> {
  await db.models.School.updateOne({ _id: schoolId }, { $set: { 'settings.markGraceMinutes': minutes } });
}

export async function familyWorld(t: TestApp, opts: { tag?: string; graceMinutes?: number } = {}): Promise<FamilyWorld> {
  const db = t.app.db;
  const s = await makeSchool(db, { tag: opts.tag });
  await setGrace(db, s.schoolId, opts.graceMinutes ?? 0);
  const now = t.clock.now();
  const today = localDate(now, 'Europe/Moscow');
  await db.models.AcademicYear.create({ schoolId: s.schoolId, ...academicYearFor(today) });
  const fatherA = await db.models.Person.create({
    schoolId: s.schoolId,
    externalId: `${opts.tag ?? ''}p-a2`,
    lastName: `Иванов${opts.tag ?? ''}`,
    firstName: 'Пётр',
    roles: ['parent'],
  });
  await db.models.Guardianship.create({ schoolId: s.schoolId, parentId: fatherA._id, studentId: s.familyA.studentId, relation: 'father' });
  const boundAt = new Date(now.getTime() - 86_400_000);
  const user = (firstName: string) => t.world.user({ firstName, languageCode: 'ru' });
  const w: FamilyWorld = {
    s,
    today,
    motherA: user('Мария'),
    fatherA: user('Пётр'),
    fatherAId: fatherA._id,
    studentA: user('Матвей'),
    motherB: user('Светлана'),
    classTeacherA: user('Анна'),
    mathTeacher: user('Игорь'),
    lessonA: await makeLesson(db, { schoolId: s.schoolId, classId: s.classA.id, subjectId: s.subjectId, teacherId: s.subjectTeacherId, date: today, lessonNo: 2 }),
    lessonB: await makeLesson(db, { schoolId: s.schoolId, classId: s.classB.id, subjectId: s.subjectId, teacherId: s.subjectTeacherId, date: today, lessonNo: 3 }),
  };
  await bind(db, s.familyA.parentId, w.motherA, boundAt);
  await bind(db, fatherA._id, w.fatherA, boundAt);
  await bind(db, s.familyA.studentId, w.studentA, boundAt);
  await bind(db, s.familyB.parentId, w.motherB, boundAt);
  await bind(db, s.teacherAId, w.classTeacherA, boundAt);
  await bind(db, s.subjectTeacherId, w.mathTeacher, boundAt);
  return w;
}

/** Saves a mark as the journal would and publishes its event. */
export async function giveMark(
  db: Db,
  lesson: LessonRef,
  studentId: Id,
  value: 2 | 3 | 4 | 5,
  at: Date,
  workKind = 'classwork',
): Promise<Id> {
  const weights: Record<string, number> = { classwork: 1, homework: 1, oral: 1, test: 1.5, control: 2 };
  const mark = await db.models.Mark.create({
    schoolId: lesson.schoolId,
    lessonId: lesson.id,
    studentId,
    subjectId: lesson.subjectId,
    classId: lesson.classId,
    date: lesson.date,
    value,
    workKind,
    weight: weights[workKind] ?? 1,
    teacherId: lesson.teacherId,
    clientKey: new Types.ObjectId().toHexString(),
  });
  await publishEvent(db, { kind: 'mark.created', schoolId: lesson.schoolId, studentId, markId: mark._id, lessonId: lesson.id, at });
  return mark._id;
}

export async function markAbsent(db: Db, lesson: LessonRef, studentId: Id, at: Date, code: 'Н' | 'Б' | 'У' = 'Н'): Promise<void> {
  await db.models.Absence.create({
    schoolId: lesson.schoolId,
    lessonId: lesson.id,
    studentId,
    classId: lesson.classId,
    date: lesson.date,
    code,
  });
  await publishEvent(db, { kind: 'absence.marked', schoolId: lesson.schoolId, studentId, lessonId: lesson.id, at });
}

/** A separate worker on the app's database (crash tests): the fake Telegram, the test clock. */
export function newWorker(t: TestApp, opts: Partial<DeliveryOptions> = {}): DeliveryWorker {
  return new DeliveryWorker({
    db: t.app.db,
    logger: t.app.logger,
    i18n: t.app.deps.i18n,
    defaultLocale: 'ru',
    bots: { default: new Api(TEST_TOKEN, { fetch: t.fake.fetch, apiRoot: 'http://fake-bot-api.local' }) },
    now: t.clock.now,
    pollMs: 50,
    ...opts,
  });
}

/** Texts the bot sent into a user's chat (sendMessage/sendPhoto), oldest first. */
export const received = (u: TestUser) => u.messages().map((m) => m.content);
