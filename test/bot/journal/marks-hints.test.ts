import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../../src/db/index.js';
import { createTestApp, type TestApp } from '../../support/harness.js';
import { bindTelegram, buildJournalSchool, type JournalFixture, lessonOn } from '../../support/journal-fixtures.js';
import type { TestUser } from '../../support/users.js';

/**
 * Issue 11, small things on the marks screen: after a mark, "Comment" and "Correct" stand on a
 * row of their own (not beside student names); a mark for a student marked absent in that
 * lesson is saved (work handed in) but the teacher gets a hint (R19).
 */
let t: TestApp;
let f: JournalFixture;
let teacher: TestUser;
const db = (): Db => t.app.db;
const TODAY = '2026-11-23';

beforeAll(async () => {
  t = await createTestApp();
  f = await buildJournalSchool(t.app.db, { students7: 6 });
  teacher = t.world.user({ firstName: 'Анна', languageCode: 'ru' });
  await bindTelegram(t.app.db, f.teacherId, teacher.id);
});
afterAll(async () => {
  await t?.close();
});

async function giveMark(student: string, value: string): Promise<void> {
  await teacher.send('/today');
  await teacher.press(/^2 · 7Б Математика/);
  await teacher.press('✏️ Оценки');
  await teacher.press(student);
  await teacher.press(value);
}

describe('the marks screen after a mark (issue 11)', () => {
  it('“Comment” and “Correct” are on their own row, the students below', async () => {
    await giveMark('Ученик01 И.', '5');
    const rows = teacher.buttonRows();
    const actions = rows.find((r) => r.includes('💬 Комментарий'));
    expect(actions).toEqual(['💬 Комментарий', '✏️ Исправить']);
    expect(teacher.lastText()).not.toContain('пропуск');
  });

  it('a mark for a student marked absent in this lesson is saved with a hint', async () => {
    const lessonId = await lessonOn(db(), f, f.mathSlot7, TODAY);
    const student = await db().models.Person.findOne({ lastName: 'Ученик02' }).lean();
    await db().models.Absence.create({ schoolId: f.schoolId, lessonId, studentId: student?._id, classId: f.class7.id, date: TODAY, code: 'Н' });
    await giveMark('Ученик02 И.', '4');
    expect(teacher.lastText()).toContain('На этом уроке у ученика отмечен пропуск (Н)');
    expect(await db().models.Mark.countDocuments({ lessonId, studentId: student?._id })).toBe(1);
  });
});
