import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../../src/db/index.js';
import { fanOutIntent, intentOf } from '../../../src/domain/notices/intents.js';
import { CONSENT_VERSION } from '../../../src/domain/school/people.js';
import { createTestApp, type TestApp } from '../../support/harness.js';
import { bindTelegram, buildJournalSchool, type JournalFixture, lessonOn } from '../../support/journal-fixtures.js';
import { createTelegramWorld, type TestUser } from '../../support/users.js';

/**
 * Issue 12, "Scale": database round trips per tap (targets: toggle 3, save 6, mark 5, /today 5). Every collection call the app makes (find,
 * aggregate, insert, update, bulkWrite, …: one command each) is counted through mongoose's
 * per-connection debug hook while one update is handled. The budgets are bench:journal's
 * (scripts/bench-journal.ts); the rules they must not weaken are checked alongside: the actor is
 * read afresh on every update, so a change made by another process counts at the next tap.
 *
 * A tap is counted until its answer: the families' notices are fanned out after it
 * (src/notify/fan-out.ts), so this file's users do not wait for the fan-out (the harness's do);
 * the fan-out's own commands are counted apart.
 */
let t: TestApp;
let f: JournalFixture;
let teacher: TestUser;
const db = (): Db => t.app.db;
const TODAY = '2026-11-23';
let calls: string[] = [];
/** The commands up to the answer (the world below takes them when handleUpdate returns). */
let answered: string[] = [];

async function counted(step: () => Promise<unknown>): Promise<string[]> {
  calls = [];
  answered = [];
  await step();
  return answered;
}

/** Two parents of a student, bound to Telegram and consenting (R4, R32): both hear of an absence. */
async function bindFamily(studentId: JournalFixture['schoolId'], tg: number): Promise<void> {
  const { Person, Guardianship } = db().models;
  for (const [i, firstName] of ['Мама', 'Папа'].entries()) {
    const boundAt = new Date('2026-09-01T00:00:00Z');
    const parent = await Person.create({
      schoolId: f.schoolId,
      externalId: `parent-${tg + i}`,
      lastName: `Родитель${tg}`,
      firstName,
      roles: ['parent'],
      telegramId: tg + i,
      boundAt,
      consent: { version: CONSENT_VERSION, acceptedAt: boundAt },
    });
    await Guardianship.create({ schoolId: f.schoolId, parentId: parent._id, studentId });
  }
}

/** Notice intents not yet fanned out: in their collection and inside lessons (attendance). */
async function pendingIntents(): Promise<number> {
  const lessons = await db().models.Lesson.find({ 'noticeIntents.0': { $exists: true } }, { noticeIntents: 1 }).lean();
  return (await db().models.NoticeIntent.countDocuments()) + lessons.reduce((n, l) => n + (l.noticeIntents?.length ?? 0), 0);
}

beforeAll(async () => {
  t = await createTestApp();
  f = await buildJournalSchool(t.app.db);
  // Not the harness's world: its updates end when the fan-out is done; these end at the answer.
  const world = createTelegramWorld(t.fake, async (update) => {
    await t.app.bot.handleUpdate(update);
    answered = [...calls];
  });
  teacher = world.user({ firstName: 'Анна', languageCode: 'ru' });
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
  it('attendance: a toggle in 3, a save in at most 6, /today in at most 5; the saved sheet is right', async () => {
    await teacher.send('/today'); // the day's lessons are made on the first open
    const today = await counted(() => teacher.send('/today'));
    expect(today.length, today.join(', ')).toBeLessThanOrEqual(5);
    await teacher.press(/^2 · 7Б Математика/);
    await teacher.press('📋 Посещаемость');
    const toggle = await counted(() => teacher.press('✅ Ученик03 И.'));
    expect(toggle, toggle.join(', ')).toHaveLength(3);
    await teacher.press('✅ Ученик17 И.');
    const save = await counted(() => teacher.press('💾 Сохранить'));
    expect(save.length, save.join(', ')).toBeLessThanOrEqual(6);
    // The draft is not deleted: the lesson's write records it as spent (one round trip fewer).
    expect(save.filter((c) => c.endsWith('attendance_drafts'))).toEqual([]);
    await t.app.fanOut.idle();
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
    await t.app.fanOut.idle();
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

  it('families in Telegram cost a tap nothing: one intent with the save, their messages right after the answer', async () => {
    const [s21, s22] = [f.class7.studentIds[20], f.class7.studentIds[21]];
    if (!s21 || !s22) throw new Error('fixture');
    await bindFamily(s21, 9_100_000);
    await bindFamily(s22, 9_200_000);
    await teacher.send('/today');
    await teacher.press(/^2 · 7Б Математика/);
    await teacher.press('📋 Посещаемость');
    await teacher.press('✅ Ученик21 И.');
    await teacher.press('✅ Ученик22 И.');
    const save = await counted(() => teacher.press('💾 Сохранить'));
    expect(save.length, save.join(', ')).toBeLessThanOrEqual(6);
    // The intent rides on the lesson's write; nobody's families are read, nor the outbox written,
    // while the teacher waits.
    expect(save.filter((c) => /persons|guardianships|outbox|notify_pref|notice_intents/.test(c))).toEqual([]);
    await t.app.fanOut.idle();
    const fanOut = calls.slice(save.length);
    expect(fanOut[0]).toBe('aggregate persons');
    expect(fanOut.at(-1)).toBe('updateOne lessons'); // the intent pulled from the lesson
    const chats = [9_100_000, 9_100_001, 9_200_000, 9_200_001];
    const queued = await db().models.OutboxMessage.find({ chatId: { $in: chats } }, { chatId: 1, kind: 1, events: 1 }).lean();
    expect(queued.map((m) => m.chatId).sort()).toEqual(chats);
    expect(new Set(queued.map((m) => m.kind))).toEqual(new Set(['absence']));
    expect(await pendingIntents()).toBe(0);
  });

  it('an intent left by a process that died is fanned out by a sweep, once', async () => {
    const s23 = f.class7.studentIds[22];
    if (!s23) throw new Error('fixture');
    await bindFamily(s23, 9_300_000);
    // As if this process died after the save: nobody in it takes the intent.
    await t.app.fanOut.stop();
    try {
      await teacher.send('/today');
      await teacher.press(/^2 · 7Б Математика/);
      await teacher.press('📋 Посещаемость');
      await teacher.press('✅ Ученик23 И.');
      await teacher.press('💾 Сохранить');
      const family = { chatId: { $in: [9_300_000, 9_300_001] } };
      expect(await pendingIntents()).toBe(1);
      expect(await db().models.OutboxMessage.countDocuments(family)).toBe(0);
      const lesson = await db().models.Lesson.findOne({ 'noticeIntents.0': { $exists: true } }).lean();
      const left = lesson?.noticeIntents?.[0];
      // Not before its due time (a live process may still be fanning it out)…
      await t.app.fanOut.sweep();
      expect(await pendingIntents()).toBe(1);
      // …then by any process's sweep.
      t.clock.advance(31_000);
      await t.app.fanOut.sweep();
      expect(await db().models.OutboxMessage.countDocuments(family)).toBe(2);
      expect(await pendingIntents()).toBe(0);
      // A fan-out done twice (a sweep racing a slow process) adds nothing.
      const intent = left && lesson && intentOf({ _id: left._id, schoolId: lesson.schoolId, events: left.events });
      if (!intent) throw new Error('the intent was not readable');
      await fanOutIntent(db(), { ...intent, lessonId: lesson._id });
      expect(await db().models.OutboxMessage.countDocuments(family)).toBe(2);
    } finally {
      t.app.fanOut.start();
    }
  });
});
