import type { Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/index.js';
import { diaryFinalMarks } from '../../src/domain/diary/final-marks.js';
import { openAttendance, saveAttendance, toggleAttendance } from '../../src/domain/journal/attendance.js';
import { recordMark } from '../../src/domain/journal/marks.js';
import { closeYear, confirmTimetable, yearToClose } from '../../src/domain/year/close.js';
import { createTestApp, type TestApp } from '../support/harness.js';
import { actorFor, buildJournalSchool, type JournalFixture, lessonOn } from '../support/journal-fixtures.js';
import type { TestUser } from '../support/users.js';
import { waitFor } from '../support/wait.js';
import { bind } from '../notify/world.js';

/**
 * A whole school year on a compressed calendar with a controlled clock (issue 13): four two-week
 * quarters in September–October 2026, daily marks and attendance → each quarter's window opens →
 * the teacher accepts the suggested marks in the bot → year marks → outcomes → the admin closes the
 * year → the next year's first lesson is in /today, and last year's diary still reads.
 */
let t: TestApp;
let f: JournalFixture;
let teacher: TestUser;
let mother: TestUser;
let parentId: Types.ObjectId;
const db = (): Db => t.app.db;
const QUARTERS = [
  ['q1', '2026-09-01', '2026-09-12'],
  ['q2', '2026-09-14', '2026-09-26'],
  ['q3', '2026-09-28', '2026-10-10'],
  ['q4', '2026-10-12', '2026-10-24'],
] as const;
const noon = (date: string) => new Date(`${date}T09:00:00Z`); // 12:00 in Moscow
const LESSON_DAYS = (from: string) => [0, 1, 2, 3].map((d) => new Date(Date.parse(`${from}T00:00:00Z`) + d * 86_400_000).toISOString().slice(0, 10));

beforeAll(async () => {
  t = await createTestApp({ jobs: true });
  f = await buildJournalSchool(db(), { students7: 3, students8: 2, settings: { finalMarkWindowDays: 3 } });
  await db().models.AcademicYear.create({
    schoolId: f.schoolId,
    name: '2026/2027',
    startsOn: '2026-09-01',
    endsOn: '2026-10-24',
    periods: [
      ...QUARTERS.map(([code, startsOn, endsOn]) => ({ code, kind: 'quarter', startsOn, endsOn })),
      { code: 'year', kind: 'year', startsOn: '2026-09-01', endsOn: '2026-10-24' },
    ],
  });
  const boundAt = new Date('2026-08-20T09:00:00Z');
  teacher = t.world.user({ firstName: 'Анна', languageCode: 'ru' });
  mother = t.world.user({ firstName: 'Мария', languageCode: 'ru' });
  await bind(db(), f.teacherId, teacher, boundAt);
  const parent = await db().models.Person.create({ schoolId: f.schoolId, externalId: 'p-1', lastName: 'Мамина', firstName: 'Мария', roles: ['parent'] });
  parentId = parent._id;
  await db().models.Guardianship.create({ schoolId: f.schoolId, parentId, studentId: f.class7.studentIds[0] as Types.ObjectId, relation: 'mother' });
  await bind(db(), parentId, mother, boundAt);
});

afterAll(async () => {
  await t?.close();
});

describe('a whole school year', () => {
  it('plays the year: marks and attendance every day, quarter marks in each window, year marks, outcomes, closing, the next year', async () => {
    const actor = await actorFor(db(), f.teacherId);
    const [s0, s1, s2] = f.class7.studentIds.map(String) as [string, string, string];
    for (const [code, from, to] of QUARTERS) {
      // Daily work: lessons of the first four school days of the quarter, marks and one absence.
      for (const [i, day] of LESSON_DAYS(from).entries()) {
        if (new Date(`${day}T00:00:00Z`).getUTCDay() === 0) continue; // no Sunday lessons
        t.clock.set(noon(day));
        const lessonId = String(await lessonOn(db(), f, f.mathSlot7, day));
        const sheet = await openAttendance(db(), actor, lessonId, t.clock.now());
        const absentNow = i === 0 ? await toggleAttendance(db(), actor, lessonId, sheet.version, 2, t.clock.now()) : sheet;
        await saveAttendance(db(), actor, lessonId, absentNow.version, t.clock.now());
        await recordMark(db(), actor, { lessonId, studentId: s0, value: 5, workKind: 'classwork' }, t.clock.now());
        await recordMark(db(), actor, { lessonId, studentId: s1, value: i % 2 ? 3 : 4, workKind: 'classwork' }, t.clock.now());
        if (i > 0) await recordMark(db(), actor, { lessonId, studentId: s2, value: 4, workKind: 'classwork' }, t.clock.now());
      }
      // The window opens by itself on the last three days: the teacher accepts the suggestions.
      t.clock.set(noon(to));
      await teacher.send('/periodmarks');
      await teacher.press(new RegExp(`^7Б · Математика · ${code[1]}-я четверть · ✏️`));
      await teacher.press(/^✅ Принять все предложенные/);
      expect(teacher.lastText()).toContain('Принято предложенных отметок: 3.');
    }
    const q = await db().models.PeriodMark.find({ subjectId: f.mathId, studentId: f.class7.studentIds[0] }).lean();
    expect(q.map((p) => [p.periodCode, p.value]).sort()).toEqual([
      ['q1', '5'],
      ['q2', '5'],
      ['q3', '5'],
      ['q4', '5'],
    ]);
    // The year marks, in the same window (the year period ends with q4).
    await teacher.send('/periodmarks');
    expect(teacher.buttons().some((b) => b.startsWith('7Б · Математика · 4-я четверть · ✅'))).toBe(true);
    const yearSheet = await import('../../src/domain/journal/period-marks.js');
    const ref = { classId: String(f.class7.id), subjectId: String(f.mathId), yearId: String((await db().models.AcademicYear.findOne({}).lean())?._id), periodCode: 'year' };
    const year = await yearSheet.acceptSuggestions(db(), actor, ref, {}, t.clock.now());
    expect(year.saved).toBe(3);
    // The mother was told about her child's quarter marks.
    t.clock.advance(10 * 60_000);
    await waitFor(() => mother.messages().find((m) => m.content.includes('4-я четверть: Математика')));

    // After the year: the admin closes it (outcomes default to promoted; 8А moves up too).
    t.clock.set(noon('2026-10-26'));
    const admin = await actorFor(db(), f.adminId);
    const toClose = await yearToClose(db(), admin, t.clock.now());
    const closed = await closeYear(db(), admin, toClose, t.clock.now());
    expect(closed.steps.every((s) => s.ran)).toBe(true);
    const next = await db().models.AcademicYear.findById(closed.nextYearId).lean();
    expect([next?.name, next?.startsOn]).toEqual(['2027/2028', '2027-09-01']);
    expect((await db().models.SchoolClass.findById(f.class7.id).lean())?.name).toBe('8Б');
    // Nobody writes to the closed year, the teacher included.
    const oldLesson = String(await lessonOn(db(), f, f.mathSlot7, '2026-10-22'));
    await expect(recordMark(db(), actor, { lessonId: oldLesson, studentId: s2, value: 5, workKind: 'classwork' }, t.clock.now())).rejects.toMatchObject({
      key: 'year.readOnly',
    });

    // The deputy confirms the carried-over timetable; the first day of the next year has its lesson.
    await confirmTimetable(db(), admin, t.clock.now());
    t.clock.set(noon('2027-09-01'));
    await teacher.send('/today');
    expect(teacher.lastText()).toContain('8Б · Математика');

    // Last year's diary still reads: the quarter and year marks of 2026/2027.
    const parent = await actorFor(db(), parentId);
    const view = await diaryFinalMarks(db(), parent, s0, t.clock.now(), { yearId: String(toClose.id) });
    expect(view.rows[0]?.values).toEqual({ q1: '5', q2: '5', q3: '5', q4: '5', year: '5' });
    await mother.send('/diary');
    await mother.press('🏁 Четвертные и годовые');
    await mother.press('2026/2027');
    expect(mother.lastText()).toContain('4-я четверть: 5 · год: 5');
  });
});
