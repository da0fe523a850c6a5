import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../../src/db/index.js';
import { createTestApp, type TestApp } from '../../support/harness.js';
import { bindTelegram, buildJournalSchool, type JournalFixture, lessonOn } from '../../support/journal-fixtures.js';
import type { TestUser } from '../../support/users.js';

/**
 * Issue 12, "Scale": database round trips per tap. Every collection call the app makes (find,
 * aggregate, insert, update, bulkWrite, …: one command each) is counted through mongoose's
 * per-connection debug hook while one update is handled. The budgets are bench:journal's
 * (scripts/bench-journal.ts); the rules they must not weaken are checked alongside: the actor is
 * read afresh on every update, so a change made by another process counts at the next tap.
 */
let t: TestApp;
let f: JournalFixture;
let teacher: TestUser;
const db = (): Db => t.app.db;
const TODAY = '2026-11-23';
let calls: string[] = [];

async function counted(step: () => Promise<unknown>): Promise<string[]> {
  calls = [];
  await step();
  return calls;
}

beforeAll(async () => {
  t = await createTestApp();
  f = await buildJournalSchool(t.app.db);
  teacher = t.world.user({ firstName: 'Анна', languageCode: 'ru' });
  await bindTelegram(t.app.db, f.teacherId, teacher.id);
  t.app.db.conn.set('debug', (collection: string, method: string) => {
    calls.push(`${method} ${collection}`);
  });
});

afterAll(async () => {
  t?.app.db.conn.set('debug', false);
  await t?.close();
});

describe('round trips per tap (issue 12)', () => {
  it('attendance: a toggle in 3, a save in at most 8, /today in at most 5; the saved sheet is right', async () => {
    await teacher.send('/today'); // the day's lessons are made on the first open
    const today = await counted(() => teacher.send('/today'));
    expect(today.length, today.join(', ')).toBeLessThanOrEqual(5);
    await teacher.press(/^2 · 7Б Математика/);
    await teacher.press('📋 Посещаемость');
    const toggle = await counted(() => teacher.press('✅ Ученик03 И.'));
    expect(toggle, toggle.join(', ')).toHaveLength(3);
    await teacher.press('✅ Ученик17 И.');
    const save = await counted(() => teacher.press('💾 Сохранить'));
    expect(save.length, save.join(', ')).toBeLessThanOrEqual(8);
    // No read after the write: the sheet shown is what was saved (R19), with the audit (R31).
    expect(save.filter((c) => c.startsWith('find absences') || c.startsWith('aggregate absences'))).toEqual([]);
    expect(teacher.lastText()).toContain('Сохранено: отмечено отсутствующих — 2');
    const lessonId = await lessonOn(db(), f, f.mathSlot7, TODAY);
    expect(await db().models.Absence.countDocuments({ lessonId })).toBe(2);
    expect(await db().models.AuditEntry.countDocuments({ lessonId, action: 'absence.marked' })).toBe(2);
    await teacher.press('✏️ Изменить');
    expect(teacher.buttons().filter((b) => b.startsWith('❌ '))).toEqual(['❌ Ученик03 И.', '❌ Ученик17 И.']);
  });

  it('a mark entry in at most 5, saved once with its audit', async () => {
    await teacher.send('/today');
    await teacher.press(/^2 · 7Б Математика/);
    await teacher.press('✏️ Оценки');
    await teacher.press('Ученик10 И.');
    const mark = await counted(() => teacher.press('4'));
    expect(mark.length, mark.join(', ')).toBeLessThanOrEqual(5);
    expect(teacher.lastText()).toContain('✅ Ученик10 И.: 4');
    const lessonId = await lessonOn(db(), f, f.mathSlot7, TODAY);
    expect(await db().models.Mark.countDocuments({ lessonId, studentId: f.class7.studentIds[9] })).toBe(1);
    expect(await db().models.AuditEntry.countDocuments({ lessonId, action: 'mark.created' })).toBe(1);
  });

  it('the actor is read on every update: a teacher deactivated by another process is refused at the next tap', async () => {
    await teacher.send('/today');
    await teacher.press(/^2 · 7Б Математика/);
    await teacher.press('📋 Посещаемость');
    // As an admin's change in another process would: straight to the database, no cache to clear.
    await db().models.Person.updateOne({ _id: f.teacherId }, { $set: { active: false } });
    const before = await db().models.AttendanceDraft.findOne({}).lean();
    await teacher.press('✅ Ученик05 И.');
    const after = await db().models.AttendanceDraft.findOne({ _id: before?._id }).lean();
    expect(after?.absent).toEqual(before?.absent);
    await db().models.Person.updateOne({ _id: f.teacherId }, { $set: { active: true } });
  });
});
