import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outcomeTapCb } from '../../../src/bot/callbacks/year.js';
import type { Db } from '../../../src/db/index.js';
import { createTestApp, type TestApp } from '../../support/harness.js';
import { bindTelegram, buildJournalSchool, type JournalFixture } from '../../support/journal-fixtures.js';
import type { TestUser } from '../../support/users.js';

/**
 * The year's end in the bot: the secretary's /outcomes (R5: promoted by default, one tap cycles,
 * conditional asks the subjects), the class teacher's /pe (R21) and the deputy's /newyear (R7).
 * The clock is Monday 2026-11-23, 12:00 in Moscow.
 */
let t: TestApp;
let f: JournalFixture;
let secretary: TestUser;
let classTeacher: TestUser;
let deputy: TestUser;
let teacher: TestUser;
const db = (): Db => t.app.db;

beforeAll(async () => {
  t = await createTestApp();
  f = await buildJournalSchool(t.app.db, { students7: 3, students8: 1 });
  await db().models.AcademicYear.create({ schoolId: f.schoolId, name: '2026/2027', startsOn: '2026-09-01', endsOn: '2027-05-31' });
  const secretaryId = (await db().models.Person.create({ schoolId: f.schoolId, externalId: 'sec', lastName: 'Секретарёва', firstName: 'Инна', roles: ['secretary'] }))._id;
  secretary = t.world.user({ firstName: 'Инна' });
  classTeacher = t.world.user({ firstName: 'Мария' });
  deputy = t.world.user({ firstName: 'Нина' });
  teacher = t.world.user({ firstName: 'Анна' });
  await bindTelegram(db(), secretaryId, secretary.id);
  await bindTelegram(db(), f.classTeacherId, classTeacher.id);
  await bindTelegram(db(), f.deputyId, deputy.id);
  await bindTelegram(db(), f.teacherId, teacher.id);
});

afterAll(async () => {
  await t?.close();
});

describe('the year’s end in the bot', () => {
  it('/outcomes: the class list promoted by default; a tap makes a student conditional and asks the subjects', async () => {
    await secretary.send('/outcomes');
    await secretary.press('7Б');
    expect(secretary.buttons()).toContain('✅ Ученик01 Имя01');
    await secretary.press('✅ Ученик01 Имя01');
    expect(secretary.lastText()).toContain('Условный перевод: Ученик01 Имя01');
    await secretary.press('⬜️ Математика');
    expect(secretary.buttons()).toContain('⚠️ Ученик01 Имя01 (Математика)');
    const o = await db().models.StudentOutcome.findOne({ studentId: f.class7.studentIds[0] }).lean();
    expect(o).toMatchObject({ outcome: 'conditional', retakeSubjectIds: [f.mathId] });
    await secretary.press('⚠️ Ученик01 Имя01 (Математика)');
    expect(secretary.buttons()).toContain('🔁 Ученик01 Имя01');
  });

  it('a teacher cannot set outcomes, not even with a forged button', async () => {
    await teacher.send('/outcomes');
    expect(teacher.lastText()).toContain('нет доступа');
    const answer = await teacher.pressData(outcomeTapCb.pack({ c: String(f.class7.id), s: String(f.class7.studentIds[1]) }));
    expect(answer?.show_alert).toBe(true);
    expect(await db().models.StudentOutcome.countDocuments({ studentId: f.class7.studentIds[1] })).toBe(0);
  });

  it('/pe: the class teacher exempts a student for a month', async () => {
    await classTeacher.send('/pe');
    await classTeacher.press('Ученик02 Имя02');
    expect(classTeacher.lastText()).toContain('Сейчас не освобождён.');
    await classTeacher.press('Месяц');
    expect(classTeacher.lastText()).toContain('Освобождён: 23.11.2026 — 23.12.2026');
    expect(await db().models.PeExemption.countDocuments({ studentId: f.class7.studentIds[1], from: '2026-11-23', to: '2026-12-23' })).toBe(1);
  });

  it('/newyear: the deputy confirms the carried-over timetable', async () => {
    await db().models.TimetableSlot.create({ schoolId: f.schoolId, classId: f.class7.id, subjectId: f.mathId, teacherId: f.teacherId, weekday: 1, lessonNo: 2, validFrom: '2027-09-01', draft: true });
    await deputy.send('/newyear');
    expect(deputy.lastText()).toContain('уроков в неделю 1');
    await deputy.press('✅ Подтвердить расписание');
    expect(deputy.lastText()).toContain('Расписание подтверждено');
    expect(await db().models.TimetableSlot.countDocuments({ schoolId: f.schoolId, draft: true })).toBe(0);
  });
});
