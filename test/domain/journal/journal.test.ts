import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import type { Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMongo } from '../../../src/db/connection.js';
import { createDb, type Db } from '../../../src/db/index.js';
import type { Actor } from '../../../src/domain/school/actor.js';
import {
  classAbsencesOfDay,
  everyonePresent,
  openAttendance,
  saveAttendance,
  setAbsenceReason,
  toggleAttendance,
} from '../../../src/domain/journal/attendance.js';
import { lessonHistory, studentHistory } from '../../../src/domain/school/audit.js';
import {
  addDays,
  daysBetween,
  isLocalDate,
  isoWeekday,
  instantOf,
  localDate,
  localTimeOf,
  minutesOf,
} from '../../../src/domain/shared/calendar.js';
import { DomainError } from '../../../src/domain/shared/errors.js';
import { grantAccess } from '../../../src/domain/school/grants.js';
import { nextLessonOfSubject, setHomework } from '../../../src/domain/journal/homework.js';
import { cancelLesson, lessonsForTeacher, rosterLabels } from '../../../src/domain/journal/lessons.js';
import { isLocked, lockCutoff, lockOldLessons } from '../../../src/domain/journal/locks.js';
import { enterTransferPeriodMarks } from '../../../src/domain/journal/arrivals.js';
import { changeMark, deleteMark, parseMarkValue, recordMark } from '../../../src/domain/journal/marks.js';
import { weightedAverage } from '../../../src/domain/journal/averages.js';
import { diaryMarks } from '../../../src/domain/diary/diary.js';
import { loadPlan, parsePlanFile, parsePlanText, planReport, setLessonTopic, suggestTopic } from '../../../src/domain/journal/plan.js';
import { testMongoUri } from '../../support/db.js';
import { actorFor, buildJournalSchool, type JournalFixture, lessonOn } from '../../support/journal-fixtures.js';

const NOW = new Date('2026-11-23T09:00:00Z'); // Monday, 12:00 in Moscow
const TODAY = '2026-11-23';
let conn: Connection;
let db: Db;
let f: JournalFixture;
let teacher: Actor;
let other: Actor;
let classTeacher: Actor;
let admin: Actor;
let deputy: Actor;
let spare: Actor;

/** The DomainError key a promise rejects with (fails the test when it resolves). */
async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof DomainError) return e.key;
    throw e;
  }
  throw new Error('expected a refusal, but the call succeeded');
}

beforeAll(async () => {
  conn = await connectMongo(testMongoUri('journal'));
  db = await createDb(conn);
  f = await buildJournalSchool(db);
  teacher = await actorFor(db, f.teacherId);
  other = await actorFor(db, f.otherTeacherId);
  classTeacher = await actorFor(db, f.classTeacherId);
  admin = await actorFor(db, f.adminId);
  deputy = await actorFor(db, f.deputyId);
  spare = await actorFor(db, f.spareTeacherId);
});

afterAll(async () => {
  await conn?.dropDatabase().catch(() => undefined);
  await conn?.close();
});

describe('calendar (school-local dates)', () => {
  it('dates and times are the school time zone’s, not the server’s', () => {
    const late = new Date('2026-11-23T22:30:00Z');
    expect(localDate(late, 'Europe/Moscow')).toBe('2026-11-24');
    expect(localDate(late, 'America/New_York')).toBe('2026-11-23');
    expect(localTimeOf(NOW, 'Asia/Vladivostok')).toBe('19:00');
    expect(isoWeekday('2026-11-23')).toBe(1);
    expect(isoWeekday('2026-11-29')).toBe(7);
    expect(addDays('2026-02-28', 1)).toBe('2026-03-01');
    expect(daysBetween('2026-11-16', '2026-11-23')).toBe(7);
    expect(isLocalDate('2026-02-30')).toBe(false);
    // Across a DST change (Berlin, 2026-03-29): 09:00 local is 07:00 UTC after it, 08:00 before.
    expect(instantOf('2026-03-30', minutesOf('09:00'), 'Europe/Berlin').toISOString()).toBe('2026-03-30T07:00:00.000Z');
    expect(instantOf('2026-03-27', minutesOf('09:00'), 'Europe/Berlin').toISOString()).toBe('2026-03-27T08:00:00.000Z');
  });
});

describe('lessons of a day', () => {
  it('are made from the timetable valid on that date, once, with what is missing', async () => {
    const day = await lessonsForTeacher(db, teacher, TODAY, NOW);
    expect(day.lessons.map((l) => `${l.lessonNo} ${l.className} ${l.subjectName}`)).toEqual(['2 7Б Математика', '4 8А Математика']);
    expect(day.lessons[0]?.missing).toEqual(['attendance', 'topic', 'homework', 'marks']);
    expect(day.lessons[0]?.start).toBe('09:25');
    await lessonsForTeacher(db, teacher, TODAY, NOW);
    expect(await db.models.Lesson.countDocuments({ date: TODAY, teacherId: f.teacherId })).toBe(2);
    // Sunday: no slots. Before validFrom: nothing either.
    expect((await lessonsForTeacher(db, teacher, '2026-11-22', NOW)).lessons).toEqual([]);
    expect((await lessonsForTeacher(db, teacher, '2026-08-31', NOW)).lessons).toEqual([]);
  });

  it('a substitute sees the lesson of that date, and the original teacher still does (R7)', async () => {
    const date = '2026-11-24';
    const slot = await db.models.TimetableSlot.findOne({ _id: { $in: f.russianSlot7 }, weekday: 2 }).lean();
    await db.models.Substitution.create({ schoolId: f.schoolId, slotId: slot?._id, date, substituteId: f.spareTeacherId });
    const sub = await lessonsForTeacher(db, spare, date, NOW);
    expect(sub.lessons.map((l) => [l.subjectName, l.substitution])).toEqual([['Русский язык', 'me']]);
    const orig = await lessonsForTeacher(db, other, date, NOW);
    expect(orig.lessons.map((l) => [l.subjectName, l.substitution])).toEqual([['Русский язык', 'other']]);
    // The substitute may write in it; a teacher of another subject may not.
    const lessonId = String(sub.lessons[0]?.id);
    await setLessonTopic(db, spare, lessonId, { text: 'Причастный оборот' }, NOW);
    expect(await refusal(setLessonTopic(db, teacher, lessonId, { text: 'x' }, NOW))).toBe('journal.notYours');
  });

  it('the deputy cancels a lesson that did not take place; it takes no attendance then (R7)', async () => {
    const lessonId = String(await lessonOn(db, f, f.russianSlot7, '2026-11-20'));
    expect(await refusal(cancelLesson(db, teacher, lessonId, 'болезнь', NOW))).toBe('errors.forbidden');
    await cancelLesson(db, deputy, lessonId, 'учитель на курсах', NOW);
    const lesson = await db.models.Lesson.findById(lessonId).lean();
    expect(lesson?.status).toBe('cancelled');
    expect(await refusal(openAttendance(db, other, lessonId, NOW))).toBe('journal.cancelled');
    const audit = await db.models.AuditEntry.findOne({ lessonId, action: 'lesson.cancelled' }).lean();
    expect(audit?.reason).toBe('учитель на курсах');
  });

  it('short roster labels stay unique', () => {
    expect(rosterLabels([
      { lastName: 'Иванов', firstName: 'Пётр' },
      { lastName: 'Иванов', firstName: 'Павел' },
      { lastName: 'Сидоров', firstName: 'Олег' },
    ])).toEqual(['Иванов Пётр', 'Иванов Павел', 'Сидоров О.']);
  });
});

describe('attendance (R19, R20)', () => {
  it('a draft in MongoDB: toggles survive re-opening; Save writes only the differences', async () => {
    const lessonId = String(await lessonOn(db, f, f.mathSlot7, TODAY));
    let sheet = await openAttendance(db, teacher, lessonId, NOW);
    expect(sheet.students).toHaveLength(30);
    expect(sheet.absentCount).toBe(0);
    sheet = await toggleAttendance(db, teacher, lessonId, sheet.version, 0, NOW);
    sheet = await toggleAttendance(db, teacher, lessonId, sheet.version, 5, NOW);
    // Nothing is in memory: opening again (as after a restart) reads the draft.
    const reopened = await openAttendance(db, teacher, lessonId, NOW);
    expect(reopened.students.filter((s) => s.absent).map((s) => s.idx)).toEqual([0, 5]);
    expect(await db.models.Absence.countDocuments({ lessonId })).toBe(0);
    const saved = await saveAttendance(db, teacher, lessonId, sheet.version, NOW);
    expect([saved.marked, saved.cleared]).toEqual([2, 0]);
    const absences = await db.models.Absence.find({ lessonId }).lean();
    expect(absences.map((a) => a.code)).toEqual(['Н', 'Н']);
    // The class teacher sets a reason; the teacher later corrects the sheet: Б stays, only the change is written.
    const firstAbsence = absences.find((a) => String(a.studentId) === String(f.class7.studentIds[0]));
    await setAbsenceReason(db, classTeacher, String(firstAbsence?._id), 'Б', NOW);
    sheet = await openAttendance(db, teacher, lessonId, NOW);
    expect(sheet.students[0]?.code).toBe('Б');
    sheet = await toggleAttendance(db, teacher, lessonId, sheet.version, 5, NOW);
    const second = await saveAttendance(db, teacher, lessonId, sheet.version, NOW);
    expect([second.marked, second.cleared]).toEqual([0, 1]);
    const left = await db.models.Absence.find({ lessonId }).lean();
    expect(left.map((a) => [String(a.studentId), a.code])).toEqual([[String(f.class7.studentIds[0]), 'Б']]);
    const trail = await db.models.AuditEntry.find({ lessonId }).sort({ at: 1, _id: 1 }).lean();
    expect(trail.map((e) => e.action)).toEqual(['absence.marked', 'absence.marked', 'absence.reason', 'absence.cleared']);
    // Save spends the draft (recorded on the lesson in its own write, not deleted: issue 12).
    const spent = await db.models.AttendanceDraft.findOne({ lessonId, editorId: f.teacherId }).lean();
    const lessonDoc = await db.models.Lesson.findById(lessonId).lean();
    expect(String((lessonDoc?.attendanceSaved as Record<string, unknown>)?.[String(f.teacherId)])).toBe(String(spent?.rev));
    // A spent draft is never replayed: the admin marks student 5 absent again after the teacher's
    // save; the teacher's re-opened sheet shows it (the old draft, where 5 was cleared, is gone).
    let other = await openAttendance(db, admin, lessonId, NOW);
    other = await toggleAttendance(db, admin, lessonId, other.version, 5, NOW);
    await saveAttendance(db, admin, lessonId, other.version, NOW);
    const after = await openAttendance(db, teacher, lessonId, NOW);
    expect(after.students.filter((s) => s.absent).map((s) => s.idx)).toEqual([0, 5]);
    expect(after.dirty).toBe(false);
    // A button of a sheet already saved (its draft spent) is refused, not applied to the spent draft.
    await saveAttendance(db, teacher, lessonId, after.version, NOW);
    await expect(toggleAttendance(db, teacher, lessonId, after.version, 7, NOW)).rejects.toMatchObject({ key: 'attendance.stale' });
  });

  it('two editors of one lesson: each save writes only its own changes, neither undoes the other’s', async () => {
    const lessonId = String(await lessonOn(db, f, f.mathSlot7, '2026-11-20'));
    const [s0, s3, s4] = [f.class7.studentIds[0], f.class7.studentIds[3], f.class7.studentIds[4]];
    // Student 0 was absent before either opened the sheet.
    let first = await openAttendance(db, teacher, lessonId, NOW);
    first = await toggleAttendance(db, teacher, lessonId, first.version, 0, NOW);
    await saveAttendance(db, teacher, lessonId, first.version, NOW);
    // Both open: the teacher and the admin, each with their own draft of the same saved sheet.
    let a = await openAttendance(db, teacher, lessonId, NOW);
    let b = await openAttendance(db, admin, lessonId, NOW);
    // The admin marks 3 absent and saves.
    b = await toggleAttendance(db, admin, lessonId, b.version, 3, NOW);
    expect((await saveAttendance(db, admin, lessonId, b.version, NOW)).marked).toBe(1);
    // The teacher, from the older draft (3 present there), marks 4 absent and clears 0.
    a = await toggleAttendance(db, teacher, lessonId, a.version, 4, NOW);
    a = await toggleAttendance(db, teacher, lessonId, a.version, 0, NOW);
    const saved = await saveAttendance(db, teacher, lessonId, a.version, NOW);
    expect([saved.marked, saved.cleared]).toEqual([1, 1]);
    const absent = (await db.models.Absence.find({ lessonId }).lean()).map((x) => String(x.studentId)).sort();
    // 3 (the admin's) stays; 4 (the teacher's) is added; 0 (cleared by the teacher) is gone.
    expect(absent).toEqual([String(s3), String(s4)].sort());
    expect(absent).not.toContain(String(s0));
    expect(saved.sheet.students.filter((x) => x.absent).map((x) => x.idx)).toEqual([3, 4]);

    // Re-opening a draft after the other editor saved shows their change, keeping one's own.
    let c = await openAttendance(db, teacher, lessonId, NOW);
    c = await toggleAttendance(db, teacher, lessonId, c.version, 6, NOW); // the teacher's own change, unsaved
    let d = await openAttendance(db, admin, lessonId, NOW);
    d = await toggleAttendance(db, admin, lessonId, d.version, 3, NOW); // the admin clears 3
    await saveAttendance(db, admin, lessonId, d.version, NOW);
    const reopened = await openAttendance(db, teacher, lessonId, NOW);
    expect(reopened.students.filter((x) => x.absent).map((x) => x.idx)).toEqual([4, 6]);
    await saveAttendance(db, teacher, lessonId, reopened.version, NOW);
    const final = (await db.models.Absence.find({ lessonId }).lean()).map((x) => String(x.studentId)).sort();
    expect(final).toEqual([String(s4), String(f.class7.studentIds[6])].sort());
  });

  it('an absence covered by a confirmed parent report gets its reason at once (Б), others stay Н', async () => {
    const lessonId = String(await lessonOn(db, f, f.mathSlot7, TODAY));
    const [ill, other] = [f.class7.studentIds[1], f.class7.studentIds[2]];
    await db.models.AbsenceReport.create({
      schoolId: f.schoolId,
      studentId: ill,
      parentId: ill, // the parent is irrelevant here
      from: TODAY,
      to: TODAY,
      reason: 'illness',
      status: 'confirmed',
      code: 'Б',
    });
    let sheet = await openAttendance(db, teacher, lessonId, NOW);
    sheet = await toggleAttendance(db, teacher, lessonId, sheet.version, 1, NOW);
    sheet = await toggleAttendance(db, teacher, lessonId, sheet.version, 2, NOW);
    await saveAttendance(db, teacher, lessonId, sheet.version, NOW);
    const codes = new Map((await db.models.Absence.find({ lessonId }).lean()).map((a) => [String(a.studentId), a.code]));
    expect(codes.get(String(ill))).toBe('Б');
    expect(codes.get(String(other))).toBe('Н');
  });

  it('a button from another roster version or after saving is refused, nothing changes', async () => {
    const lessonId = String(await lessonOn(db, f, f.mathSlot7, '2026-11-21'));
    const sheet = await openAttendance(db, teacher, lessonId, NOW);
    expect(await refusal(toggleAttendance(db, teacher, lessonId, 'deadbeef', 1, NOW))).toBe('attendance.stale');
    expect(await refusal(toggleAttendance(db, teacher, lessonId, sheet.version, 99, NOW))).toBe('attendance.stale');
    await everyonePresent(db, teacher, lessonId, sheet.version, NOW);
    await saveAttendance(db, teacher, lessonId, sheet.version, NOW);
    expect(await refusal(saveAttendance(db, teacher, lessonId, sheet.version, NOW))).toBe('attendance.stale');
    const lesson = await db.models.Lesson.findById(lessonId).lean();
    expect(lesson?.attendanceTakenAt).toBeInstanceOf(Date);
  });

  it('attendance of a future lesson, or of another teacher’s lesson, is refused', async () => {
    const future = String(await lessonOn(db, f, f.mathSlot7, '2026-11-25'));
    expect(await refusal(openAttendance(db, teacher, future, NOW))).toBe('journal.notYet');
    const russian = String(await lessonOn(db, f, f.russianSlot7, TODAY));
    expect(await refusal(openAttendance(db, teacher, russian, NOW))).toBe('journal.notYours');
  });

  it('reasons: the class teacher and the deputy, from the day list of the class; others not', async () => {
    const list = await classAbsencesOfDay(db, classTeacher, String(f.class7.id), TODAY);
    expect(list.length).toBeGreaterThan(0);
    expect(await refusal(classAbsencesOfDay(db, teacher, String(f.class7.id), TODAY))).toBe('errors.forbidden');
    expect(await refusal(setAbsenceReason(db, teacher, String(list[0]?.absenceId), 'У', NOW))).toBe('errors.forbidden');
    expect(await refusal(setAbsenceReason(db, deputy, String(list[0]?.absenceId), 'X', NOW))).toBe('attendance.badCode');
    await setAbsenceReason(db, deputy, String(list[0]?.absenceId), 'У', NOW);
    expect((await db.models.Absence.findById(list[0]?.absenceId).lean())?.code).toBe('У');
  });
});

describe('marks (R11–R13, R18)', () => {
  it('R11: a mark is exactly one of 2, 3, 4, 5', () => {
    for (const bad of ['5+', '4-', '4−', '1', '6', '.', '5.', '', ' ', '0', '55', 'пять', '3,5']) {
      expect(() => parseMarkValue(bad), bad).toThrow(DomainError);
    }
    expect(() => parseMarkValue(7)).toThrow(DomainError);
    try {
      parseMarkValue('5+');
    } catch (e) {
      expect((e as DomainError).key).toBe('marks.invalid');
      expect((e as DomainError).vars).toEqual({ input: '5+' });
    }
    expect([2, 3, 4, 5].map((v) => parseMarkValue(String(v)))).toEqual([2, 3, 4, 5]);
    expect(parseMarkValue(' 4 ')).toBe(4);
  });

  it('saves once per clientKey (a double-pressed button), with the kind’s weight; several marks per lesson', async () => {
    const lessonId = String(await lessonOn(db, f, f.mathSlot7, TODAY));
    const studentId = String(f.class7.studentIds[3]);
    const a = await recordMark(db, teacher, { lessonId, studentId, value: '5', workKind: 'classwork', clientKey: 'k-double' }, NOW);
    const b = await recordMark(db, teacher, { lessonId, studentId, value: '5', workKind: 'classwork', clientKey: 'k-double' }, NOW);
    expect(b.duplicate).toBe(true);
    expect(b.mark.id).toBe(a.mark.id);
    await recordMark(db, teacher, { lessonId, studentId, value: 3, workKind: 'test' }, NOW);
    const marks = await db.models.Mark.find({ lessonId, studentId }).lean();
    expect(marks.map((m) => [m.value, m.workKind, m.weight])).toEqual([
      [5, 'classwork', 1],
      [3, 'test', 1.5],
    ]);
    expect(await db.models.AuditEntry.countDocuments({ studentId, action: 'mark.created' })).toBe(2);
    // R17: the average weighs each mark by its kind's weight at the time: (5 × 1 + 3 × 1.5) / 2.5.
    const math = (await diaryMarks(db, teacher, studentId, NOW)).subjects.find((s) => s.subjectId === String(f.mathId));
    expect({ average: math?.average, count: math?.marks.length }).toEqual({ average: 3.8, count: 2 });
    expect(weightedAverage([])).toBeUndefined();
    expect(weightedAverage([{ value: 5, weight: 2 }, { value: 2, weight: 1 }])).toBe(4);
  });

  it('invalid values, unknown kinds and students of another class are refused; nothing saved', async () => {
    const lessonId = String(await lessonOn(db, f, f.mathSlot7, TODAY));
    const studentId = String(f.class7.studentIds[4]);
    for (const value of ['5+', '4-', '1', '6', '.', '']) {
      expect(await refusal(recordMark(db, teacher, { lessonId, studentId, value, workKind: 'classwork' }, NOW))).toMatch(/^marks\.(invalid|empty)$/);
    }
    expect(await refusal(recordMark(db, teacher, { lessonId, studentId, value: 4, workKind: 'dance' }, NOW))).toBe('marks.unknownKind');
    const from8 = String(f.class8.studentIds[0]);
    expect(await refusal(recordMark(db, teacher, { lessonId, studentId: from8, value: 4, workKind: 'classwork' }, NOW))).toBe('marks.notInLesson');
    expect(await db.models.Mark.countDocuments({ lessonId, studentId })).toBe(0);
  });

  it('R13: class work within 1 day, written work within 5; the admin is not bound', async () => {
    const saturday = String(await lessonOn(db, f, f.mathSlot7, '2026-11-21'));
    const studentId = String(f.class7.studentIds[6]);
    expect(await refusal(recordMark(db, teacher, { lessonId: saturday, studentId, value: 4, workKind: 'classwork' }, NOW))).toBe('marks.deadline');
    await recordMark(db, teacher, { lessonId: saturday, studentId, value: 4, workKind: 'control' }, NOW);
    await recordMark(db, admin, { lessonId: saturday, studentId, value: 5, workKind: 'classwork' }, NOW);
    expect(await db.models.Mark.countDocuments({ lessonId: saturday, studentId })).toBe(2);
  });

  it('correcting and deleting keep the old value in the audit trail (R31)', async () => {
    const lessonId = String(await lessonOn(db, f, f.mathSlot7, TODAY));
    const studentId = String(f.class7.studentIds[7]);
    const { mark } = await recordMark(db, teacher, { lessonId, studentId, value: 3, workKind: 'oral' }, NOW);
    await changeMark(db, teacher, { markId: mark.id, value: '4', comment: 'устно у доски' }, NOW);
    await deleteMark(db, teacher, { markId: mark.id }, NOW);
    const trail = await db.models.AuditEntry.find({ 'entity.id': mark.id }).sort({ _id: 1 }).lean();
    expect(trail.map((e) => [e.action, (e.before as { value?: number } | null)?.value ?? null, (e.after as { value?: number } | null)?.value ?? null])).toEqual([
      ['mark.created', null, 3],
      ['mark.changed', 3, 4],
      ['mark.deleted', 4, null],
    ]);
    const stored = await db.models.Mark.findById(mark.id).lean();
    expect(stored?.deletedAt).toBeInstanceOf(Date);
    expect(await refusal(changeMark(db, teacher, { markId: mark.id, value: 5 }, NOW))).toBe('marks.gone');
  });

  it('R14: a locked lesson — the teacher is refused; the admin needs a reason, which the audit keeps', async () => {
    const old = String(await lessonOn(db, f, f.mathSlot7, '2026-11-16'));
    const studentId = String(f.class7.studentIds[8]);
    const { mark } = await recordMark(db, admin, { lessonId: old, studentId, value: 4, workKind: 'classwork', reason: 'по журналу' }, NOW);
    expect(await refusal(changeMark(db, teacher, { markId: mark.id, value: 5 }, NOW))).toBe('lock.locked');
    expect(await refusal(openAttendance(db, teacher, old, NOW))).toBe('lock.locked');
    expect(await refusal(setLessonTopic(db, teacher, old, { text: 'x' }, NOW))).toBe('lock.locked');
    expect(await refusal(changeMark(db, admin, { markId: mark.id, value: 5 }, NOW))).toBe('lock.reasonRequired');
    await changeMark(db, admin, { markId: mark.id, value: 5, reason: 'ошибка учителя' }, NOW);
    const entry = await db.models.AuditEntry.findOne({ 'entity.id': mark.id, action: 'mark.changed' }).lean();
    expect(entry?.reason).toBe('ошибка учителя');
    expect(entry?.before).toMatchObject({ value: 4 });
    expect(entry?.after).toMatchObject({ value: 5 });
    expect(entry?.actorRole).toBe('admin');
    // 2026-11-17 is still open on 2026-11-23 (lockAfterDays 7): the cut-off is 16.11.
    expect(lockCutoff(TODAY, 7)).toBe('2026-11-16');
    expect(isLocked({ date: '2026-11-17' }, { lockAfterDays: 7 }, TODAY)).toBe(false);
  });

  it('R18: home-schooled — the class teacher marks weekly in any subject; hospital — only through the admin', async () => {
    const [home, hospital] = [f.class7.studentIds[20], f.class7.studentIds[21]];
    await db.models.Person.updateOne({ _id: home }, { $set: { 'student.form': 'home' } });
    await db.models.Person.updateOne({ _id: hospital }, { $set: { 'student.form': 'hospital' } });
    const tuesday = String(await lessonOn(db, f, f.russianSlot7, '2026-11-17'));
    // Six days after the lesson: past the 1-day deadline, inside the week.
    await recordMark(db, classTeacher, { lessonId: tuesday, studentId: String(home), value: 5, workKind: 'classwork' }, NOW);
    expect(await refusal(recordMark(db, classTeacher, { lessonId: tuesday, studentId: String(f.class7.studentIds[22]), value: 5, workKind: 'classwork' }, NOW))).toBe('journal.notYours');
    const today = String(await lessonOn(db, f, f.russianSlot7, TODAY));
    expect(await refusal(recordMark(db, other, { lessonId: today, studentId: String(hospital), value: 4, workKind: 'classwork' }, NOW))).toBe('marks.hospital');
    await recordMark(db, admin, { lessonId: today, studentId: String(hospital), value: 4, workKind: 'classwork' }, NOW);
  });

  it('R18: period marks of an arriving student from the old school’s report, within 3 days of enrolment', async () => {
    const year = await db.models.AcademicYear.create({
      schoolId: f.schoolId,
      name: '2026/2027',
      startsOn: '2026-09-01',
      endsOn: '2027-05-31',
      periods: [{ code: 'q1', kind: 'quarter', startsOn: '2026-09-01', endsOn: '2026-10-26' }],
    });
    const newcomer = f.class7.studentIds[29];
    await db.models.Person.updateOne({ _id: newcomer }, { $set: { 'student.enrolledOn': '2026-11-21' } });
    const input = { studentId: String(newcomer), yearId: String(year._id), periodCode: 'q1', marks: [{ subjectId: String(f.mathId), value: '4' }] };
    expect(await refusal(enterTransferPeriodMarks(db, teacher, input, NOW))).toBe('errors.forbidden');
    expect(await refusal(enterTransferPeriodMarks(db, classTeacher, { ...input, marks: [{ subjectId: String(f.mathId), value: '4+' }] }, NOW))).toBe('marks.invalidPeriod');
    await enterTransferPeriodMarks(db, classTeacher, input, NOW);
    const pm = await db.models.PeriodMark.findOne({ studentId: newcomer }).lean();
    expect([pm?.value, pm?.source]).toEqual(['4', 'transfer']);
    const late = new Date('2026-11-25T09:00:00Z');
    expect(await refusal(enterTransferPeriodMarks(db, classTeacher, input, late))).toBe('marks.transferLate');
    await db.models.AcademicYear.deleteOne({ _id: year._id }); // keep other tests free of holidays logic
  });
});

describe('plan (КТП, R8–R10) and topics', () => {
  it('parses text lines and CSV/XLSX files; bad hours are reported by line', async () => {
    expect(parsePlanText('1. Дроби; 2\nДесятичные дроби\n\nПроценты | 1,5 ч')).toEqual([
      { topic: 'Дроби', hours: 2 },
      { topic: 'Десятичные дроби', hours: 1 },
      { topic: 'Проценты', hours: 1.5 },
    ]);
    expect(await refusal(Promise.resolve().then(() => parsePlanText('Дроби; два')))).toBe('plan.badHours');
    const csv = Buffer.from('№;Тема;Часы\n2;Второе;1\n1;Первое;2\n', 'utf8');
    expect(await parsePlanFile(csv, 'plan.csv')).toEqual([
      { topic: 'Первое', hours: 2, periodCode: undefined },
      { topic: 'Второе', hours: 1, periodCode: undefined },
    ]);
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('КТП');
    ws.addRow(['Тема', 'Часы', 'Четверть']);
    ws.addRow(['Уравнения', 3, 'q2']);
    const xlsx = Buffer.from(await wb.xlsx.writeBuffer());
    expect(await parsePlanFile(xlsx, 'plan.xlsx')).toEqual([{ topic: 'Уравнения', hours: 3, periodCode: 'q2' }]);
    expect(await refusal(parsePlanFile(Buffer.from('Часы\n1\n'), 'x.csv'))).toBe('plan.noTopicColumn');
  });

  it('loads a plan, compares its hours with the curriculum (R9), and follows it for topics (R10)', async () => {
    const target = { classId: String(f.class7.id), subjectId: String(f.mathId) };
    expect(await refusal(loadPlan(db, other, target, [{ topic: 'x', hours: 1 }], NOW))).toBe('errors.forbidden');
    const report = await loadPlan(db, teacher, target, [
      { topic: 'Линейные уравнения', hours: 2 },
      { topic: 'Системы уравнений', hours: 1 },
    ], NOW);
    expect(report).toMatchObject({ items: 2, plannedHours: 3, curriculumHours: 170, difference: -167 });
    const monday = String(await lessonOn(db, f, f.mathSlot7, '2026-11-30'));
    const tuesday = String(await lessonOn(db, f, f.mathSlot7, '2026-12-01'));
    const wednesday = String(await lessonOn(db, f, f.mathSlot7, '2026-12-02'));
    const first = await suggestTopic(db, teacher, monday);
    expect(first).toMatchObject({ order: 1, topic: 'Линейные уравнения', hourNo: 1 });
    // In advance (R10): the lesson is next week.
    await setLessonTopic(db, teacher, monday, { planItemId: first?.planItemId }, NOW);
    expect(await suggestTopic(db, teacher, tuesday)).toMatchObject({ order: 1, hourNo: 2 });
    await setLessonTopic(db, teacher, tuesday, { planItemId: first?.planItemId }, NOW);
    expect(await suggestTopic(db, teacher, wednesday)).toMatchObject({ order: 2, topic: 'Системы уравнений' });
    // Re-loading keeps item ids by position: lessons stay linked.
    await loadPlan(db, teacher, target, [{ topic: 'Линейные уравнения (повтор)', hours: 2 }], NOW);
    expect(await suggestTopic(db, teacher, wednesday)).toBeUndefined();
    expect((await planReport(db, teacher, target)).items).toBe(1);
  });
});

describe('homework (R22)', () => {
  it('text and files for this lesson or the next lesson of the subject; editable with the audit', async () => {
    const friday = String(await lessonOn(db, f, f.mathSlot7, '2026-11-20'));
    const next = await nextLessonOfSubject(db, teacher, friday);
    expect(next?.date).toBe('2026-11-21');
    await setHomework(db, teacher, friday, { text: '§12, №5' }, NOW);
    await setHomework(db, teacher, friday, { text: '§12, №5–7', attachments: [{ kind: 'photo', fileId: 'AgACAgIAAxkBAAIBfake' }] }, NOW);
    const lesson = await db.models.Lesson.findById(friday).lean();
    expect(lesson?.homework?.text).toBe('§12, №5–7');
    expect(lesson?.homework?.attachments?.[0]?.fileId).toBe('AgACAgIAAxkBAAIBfake');
    const trail = await db.models.AuditEntry.find({ lessonId: friday, action: /^homework/ }).sort({ _id: 1 }).lean();
    expect(trail.map((e) => e.action)).toEqual(['homework.set', 'homework.changed']);
    expect(await refusal(setHomework(db, teacher, friday, { text: '  ' }, NOW))).toBe('homework.empty');
  });
});

describe('grants (R7) and the audit trail (R31)', () => {
  it('a teacher with a grant for the class and dates edits its lessons; outside the range not', async () => {
    const lessonId = String(await lessonOn(db, f, f.russianSlot7, TODAY));
    expect(await refusal(setLessonTopic(db, spare, lessonId, { text: 'x' }, NOW))).toBe('journal.notYours');
    expect(await refusal(grantAccess(db, teacher, { teacherId: String(f.spareTeacherId), classId: String(f.class7.id), from: TODAY, to: TODAY }, NOW))).toBe('errors.forbidden');
    await grantAccess(db, deputy, { teacherId: String(f.spareTeacherId), classId: String(f.class7.id), subjectId: String(f.russianId), from: TODAY, to: '2026-11-24' }, NOW);
    await setLessonTopic(db, spare, lessonId, { text: 'Деепричастие' }, NOW);
    const day = await lessonsForTeacher(db, spare, TODAY, NOW);
    expect(day.lessons.map((l) => l.subjectName)).toContain('Русский язык');
    const later = String(await lessonOn(db, f, f.russianSlot7, '2026-11-25'));
    expect(await refusal(setLessonTopic(db, spare, later, { text: 'x' }, NOW))).toBe('journal.notYours');
  });

  it('history of a lesson and of a student: admin and deputy only, newest first, paged', async () => {
    const lessonId = String(await lessonOn(db, f, f.mathSlot7, TODAY));
    expect(await refusal(lessonHistory(db, teacher, lessonId))).toBe('errors.forbidden');
    const page = await lessonHistory(db, deputy, lessonId, 0, 3);
    expect(page.entries).toHaveLength(3);
    expect(page.pages).toBeGreaterThan(1);
    expect(page.entries[0]?.at.getTime()).toBeGreaterThanOrEqual(page.entries[2]?.at.getTime() ?? 0);
    const student = await studentHistory(db, admin, String(f.class7.studentIds[7]));
    expect(student.entries.map((e) => e.action)).toEqual(['mark.deleted', 'mark.changed', 'mark.created']);
    expect(student.entries[0]?.actorName).toBe('Учителева Анна Ивановна');
  });

  it('appendAudit is the only write path: nothing updates or deletes an audit entry, every part of the app only appends through it', () => {
    const root = new URL('../../../src', import.meta.url).pathname;
    const files = (dir: string): string[] =>
      readdirSync(dir).flatMap((n) => {
        const p = join(dir, n);
        return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
      });
    for (const file of files(root)) {
      const text = readFileSync(file, 'utf8');
      expect(text, file).not.toMatch(/AuditEntry\s*\.\s*(update|delete|replace|findOneAnd|bulkWrite|findByIdAnd)/);
      expect(text, file).not.toMatch(/audit_trail['"]\s*\)\s*\.\s*(update|delete|replace)/);
      // One write path for every part of the app (R31): appendAudit in src/domain/school/audit.ts.
      if (!file.endsWith(join('school', 'audit.ts'))) expect(text, file).not.toMatch(/AuditEntry\s*\.\s*(create|insert)/);
    }
  });

  it('the lock job’s work is idempotent per school (R14)', async () => {
    const first = await lockOldLessons(db, NOW);
    const mine = first.find((r) => r.schoolId === String(f.schoolId));
    expect(mine?.cutoff).toBe('2026-11-16');
    const again = await lockOldLessons(db, NOW);
    expect(again.find((r) => r.schoolId === String(f.schoolId))?.locked).toBe(0);
  });
});
