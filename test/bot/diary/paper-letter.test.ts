import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localDate } from '../../../src/domain/shared/calendar.js';
import { weeklyLettersForClass } from '../../../src/domain/reports/sheets/weekly-letter.js';
import { actorOf } from '../../support/fixtures.js';
import { createTestApp, type TestApp } from '../../support/harness.js';
import { type FamilyWorld, familyWorld } from '../../notify/world.js';

/**
 * R25 from the parent's side: in /notifications a parent turns on the weekly letter on paper for
 * their child; the class teacher's Friday letters (weeklyLettersForClass) then include the child
 * although the parent reads the bot; turned off, not. Only the child's own parent chooses (R4):
 * a forged button for another family's child, and the student themselves, are refused.
 */
let t: TestApp;
let w: FamilyWorld;
const db = () => t.app.db;
const ON = '📄 Бумажное письмо каждую неделю: вкл';
const OFF = '📄 Бумажное письмо каждую неделю: выкл';

beforeAll(async () => {
  t = await createTestApp();
  w = await familyWorld(t);
});
afterAll(async () => {
  await t?.close();
});

/** The student ids in the class teacher of 5А's letters for this week. */
async function lettersOf5A(): Promise<string[]> {
  const teacher = await actorOf(db(), w.s.teacherAId);
  const weekOf = localDate(t.clock.now(), 'Europe/Moscow');
  const { letters } = await weeklyLettersForClass(db(), teacher, String(w.s.classA.id), { weekOf }, t.clock.now());
  return letters.map((l) => l.studentId);
}

const paperOf = async (personId: Types.ObjectId) =>
  (await db().models.NotifyPreference.findOne({ personId, studentId: w.s.familyA.studentId }).lean())?.paper;

describe('the weekly letter on paper (R25) in /notifications', () => {
  it('the parent turns it on: stored, and the Friday letters include the child; off: not', async () => {
    // Both parents of family A are in the bot: no letter yet.
    expect(await lettersOf5A()).not.toContain(String(w.s.familyA.studentId));

    await w.motherA.send('/notifications');
    const screen = w.motherA.lastText() ?? '';
    expect(screen).toContain('📄 Бумажное письмо каждую неделю: выкл');
    expect(screen).toContain('Классный руководитель распечатывает его по пятницам');
    expect(w.motherA.buttons()).toContain(OFF);

    const answer = await w.motherA.press(OFF);
    expect(answer?.text).toBe('Сохранено.');
    expect(w.motherA.buttons()).toContain(ON);
    expect(w.motherA.lastText()).toContain('📄 Бумажное письмо каждую неделю: вкл');
    expect(await paperOf(w.s.familyA.parentId)).toBe(true);
    expect(await lettersOf5A()).toContain(String(w.s.familyA.studentId));

    await w.motherA.press(ON);
    expect(w.motherA.buttons()).toContain(OFF);
    expect(await paperOf(w.s.familyA.parentId)).toBe(false);
    expect(await lettersOf5A()).not.toContain(String(w.s.familyA.studentId));
  });

  it('a forged button for another family’s child is refused; nothing is stored', async () => {
    await w.motherB.send('/notifications');
    const forged = await w.motherB.pressData(`npp:${w.s.familyA.studentId}:1`);
    expect(forged?.show_alert).toBe(true);
    expect(forged?.text).toBe('У вас нет доступа к этому.');
    expect(await db().models.NotifyPreference.countDocuments({ personId: w.s.familyB.parentId, studentId: w.s.familyA.studentId })).toBe(0);
    expect(await lettersOf5A()).not.toContain(String(w.s.familyA.studentId));
    // A mangled id is a stale button, not an error.
    expect((await w.motherB.pressData('npp:not-an-id:1'))?.text).toContain('устарела');
  });

  it('the student sees no paper toggle and may not set it by a forged button (a parent chooses)', async () => {
    await w.studentA.send('/notifications');
    expect(w.studentA.buttons().some((b) => b.startsWith('📄'))).toBe(false);
    expect(w.studentA.lastText()).not.toContain('📄');
    const forged = await w.studentA.pressData(`npp:${w.s.familyA.studentId}:1`);
    expect(forged?.show_alert).toBe(true);
    expect(await paperOf(w.s.familyA.studentId)).toBeUndefined();
    expect(await lettersOf5A()).not.toContain(String(w.s.familyA.studentId));
  });

  it('in English too', async () => {
    await db().models.Account.updateOne({ telegramId: w.fatherA.id }, { $set: { locale: 'en' } });
    await w.fatherA.send('/notifications');
    expect(w.fatherA.lastText()).toContain('📄 Weekly paper letter: off');
    expect(w.fatherA.lastText()).toContain('The class teacher prints it on Fridays');
    await w.fatherA.press('📄 Weekly paper letter: off');
    expect(w.fatherA.buttons()).toContain('📄 Weekly paper letter: on');
    expect(await paperOf(w.fatherAId)).toBe(true);
    expect(await lettersOf5A()).toContain(String(w.s.familyA.studentId));
    const locales = ['ru', 'en'].map((l) => JSON.parse(readFileSync(join(import.meta.dirname, `../../../locales/${l}.json`), 'utf8')).prefs);
    for (const prefs of locales) for (const key of ['paperLine', 'paperHint', 'paperButton', 'on', 'off']) expect(prefs[key], key).toBeTruthy();
  });
});
