import type { Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../../src/db/index.js';
import { createTestApp, type TestApp } from '../../support/harness.js';
import { addSchoolYear, buildJournalSchool, type JournalFixture, lessonOn } from '../../support/journal-fixtures.js';
import type { TestUser } from '../../support/users.js';
import { waitFor } from '../../support/wait.js';
import { bind } from '../../notify/world.js';
import { runPeriodMarkReminders } from '../../../src/jobs/period-marks.js';
import { diaryFinalMarks } from '../../../src/domain/diary/final-marks.js';
import { actorFor } from '../../support/journal-fixtures.js';

/**
 * /periodmarks (R15–R17, R7) through the buttons: the teacher sees the quarter's sheet with the
 * suggested marks, accepts them in one tap and changes one; the family is told in its own
 * language; after the window the teacher is refused and the deputy fills a missing mark with a
 * reason. The clock is Monday 2026-11-23, 12:00 in Moscow; the quarter ends on 2026-11-29, so its
 * 7-day window opened today.
 */
let t: TestApp;
let f: JournalFixture;
let teacher: TestUser;
let deputy: TestUser;
let mother: TestUser;
let parentId: Types.ObjectId;
const db = (): Db => t.app.db;

async function mark(student: number, date: string, value: 2 | 3 | 4 | 5) {
  const lessonId = await lessonOn(db(), f, f.mathSlot7, date);
  await db().models.Mark.create({
    schoolId: f.schoolId,
    lessonId,
    studentId: f.class7.studentIds[student],
    subjectId: f.mathId,
    classId: f.class7.id,
    date,
    value,
    workKind: 'classwork',
    weight: 1,
    teacherId: f.teacherId,
  });
}

beforeAll(async () => {
  t = await createTestApp({ jobs: true });
  f = await buildJournalSchool(db(), { students7: 4, students8: 2 });
  await addSchoolYear(db(), f, { q2EndsOn: '2026-11-29' });
  for (const [d, v] of [['2026-11-09', 5], ['2026-11-10', 4], ['2026-11-11', 5]] as const) await mark(0, d, v);
  for (const [d, v] of [['2026-11-09', 3], ['2026-11-10', 3], ['2026-11-11', 4]] as const) await mark(1, d, v);
  const boundAt = new Date('2026-11-01T09:00:00Z');
  teacher = t.world.user({ firstName: 'Анна', languageCode: 'ru' });
  deputy = t.world.user({ firstName: 'Нина', languageCode: 'ru' });
  mother = t.world.user({ firstName: 'Mary', languageCode: 'en' });
  await bind(db(), f.teacherId, teacher, boundAt);
  await bind(db(), f.deputyId, deputy, boundAt);
  const parent = await db().models.Person.create({
    schoolId: f.schoolId,
    externalId: 'p-0',
    lastName: 'Мамина',
    firstName: 'Мария',
    roles: ['parent'],
  });
  parentId = parent._id;
  await db().models.Guardianship.create({ schoolId: f.schoolId, parentId: parent._id, studentId: f.class7.studentIds[0] as Types.ObjectId, relation: 'mother' });
  await bind(db(), parent._id, mother, boundAt);
  await mother.send('/language');
  await mother.press(/English/);
});

afterAll(async () => {
  await t?.close();
});

describe('/periodmarks', () => {
  it('R15: one reminder a day to a teacher with marks missing while the window is open, with a button to the screen', async () => {
    t.clock.set('2026-11-23T13:00:00Z'); // 16:00 in Moscow
    try {
      expect(await runPeriodMarkReminders(t.app.deps)).toBe(1);
      expect(await runPeriodMarkReminders(t.app.deps)).toBe(0);
      const msg = await waitFor(() => teacher.messages().find((m) => m.content.includes('Не хватает отметок за период')));
      expect(msg.content).toContain('7Б · Математика · 2-я четверть: без отметки 4 (до 29.11.2026)');
      expect(msg.content).toContain('8А · Математика · 2-я четверть: без отметки 2');
      // Russian (Другова) is not bound: no chat, nothing queued for her.
      expect(await db().models.JournalNotice.countDocuments({ kind: 'periodMarksReminder', status: 'sent' })).toBe(1);
    } finally {
      t.clock.set('2026-11-23T09:00:00Z');
    }
    // Before lessons end: none.
    expect(await runPeriodMarkReminders(t.app.deps)).toBe(0);
  });

  it('the teacher opens the quarter sheet, accepts the suggestions in one tap, and the mother is told in English', async () => {
    await teacher.send('/periodmarks');
    expect(teacher.buttons()).toContain('7Б · Математика · 2-я четверть · ✏️ 4');
    await teacher.press('7Б · Математика · 2-я четверть · ✏️ 4');
    const sheet = teacher.lastText() ?? '';
    expect(sheet).toContain('Окно выставления открыто: 23.11.2026 — 29.11.2026.');
    expect(sheet).toContain('1. Ученик01 Имя01 — ср. 4,67 · отм. 3 · проп. 0 → 5');
    expect(sheet).toContain('2. Ученик02 Имя02 — ср. 3,33 · отм. 3 · проп. 0 → 3');
    await teacher.press('✅ Принять все предложенные (2)');
    expect(teacher.lastText()).toContain('Принято предложенных отметок: 2. Без предложения (решите сами): 2.');
    const saved = await db().models.PeriodMark.find({ periodCode: 'q2' }).sort({ value: -1 }).lean();
    expect(saved.map((p) => [p.value, p.average])).toEqual([
      ['5', 4.67],
      ['3', 3.33],
    ]);
    // After the grace window the mother gets the period mark in her language.
    t.clock.advance(6 * 60_000);
    const msg = await waitFor(() => mother.messages().find((m) => m.content.includes('Mathematics') || m.content.includes('Математика')));
    expect(msg.content).toContain('🏁 quarter 2: Математика');
    // R24: the diary shows the period marks by subject, with a column for the year.
    const parentActor = await actorFor(db(), parentId);
    const view = await diaryFinalMarks(db(), parentActor, String(f.class7.studentIds[0]), t.clock.now());
    expect(view.periods).toEqual(['q1', 'q2', 'year']);
    expect(view.rows).toEqual([{ subjectId: String(f.mathId), subject: 'Математика', values: { q2: '5' } }]);
    await expect(diaryFinalMarks(db(), parentActor, String(f.class7.studentIds[1]), t.clock.now())).rejects.toThrow();
    await mother.send('/diary');
    await mother.press('🏁 Term and year marks');
    expect(mother.lastText()).toContain('quarter 1: — · quarter 2: 5 · the year: —');
  });

  it('a tap on a student changes one mark; a forged value button is refused and writes nothing', async () => {
    await teacher.press('3. Ученик03 Имя03');
    expect(teacher.buttons().slice(0, 7)).toEqual(['2', '3', '4', '5', 'Н', 'Б', 'У']);
    const answer = await teacher.press('4');
    expect(answer?.text).toContain('4 — сохранено');
    expect(await db().models.PeriodMark.countDocuments({ periodCode: 'q2', studentId: f.class7.studentIds[2] })).toBe(1);
    const before = await db().models.AuditEntry.countDocuments({});
    const forged = await teacher.pressData('pmv:0:AAAAAAAAAAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAAAA:q2:0:abcdef:5');
    expect(forged).toBeDefined();
    expect(await db().models.AuditEntry.countDocuments({})).toBe(before);
  });

  it('after the window the teacher is refused naming the deputy, and the deputy fills a missing mark with a reason (R7)', async () => {
    t.clock.set('2026-12-01T09:00:00Z');
    await teacher.send('/periodmarks');
    await teacher.press(/^7Б · Математика · 2-я четверть/);
    expect(teacher.buttons()).not.toContain('✅ Принять все предложенные (0)');
    expect(teacher.lastText()).toContain('Окно выставления закрыто 29.11.2026.');

    await deputy.send('/periodmarks');
    expect(deputy.lastText()).toContain('7Б · 2-я четверть: без отметки 5');
    expect(deputy.lastText()).toContain('· Математика — Учителева Анна Ивановна: 1');
    await deputy.press('7Б · 5');
    await deputy.press(/^7Б · Математика/);
    await deputy.press('4. Ученик04 Имя04');
    await deputy.press('Н');
    expect(deputy.lastText()).toContain('Напишите причину');
    await deputy.send('Ученик был на длительном лечении, справка в деле');
    expect(deputy.lastText()).toContain('Сохранено отметок: 1.');
    const pm = await db().models.PeriodMark.findOne({ periodCode: 'q2', studentId: f.class7.studentIds[3] }).lean();
    expect([pm?.value, pm?.source]).toEqual(['Н', 'deputy']);
    const audit = await db().models.AuditEntry.findOne({ action: 'periodMark.set', studentId: f.class7.studentIds[3] }).lean();
    expect(audit?.reason).toBe('Ученик был на длительном лечении, справка в деле');
  });
});
