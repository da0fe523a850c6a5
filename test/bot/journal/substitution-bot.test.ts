import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../../src/db/index.js';
import { cancelSubstitution, createSubstitution, slotsOfDay } from '../../../src/domain/journal/substitutions.js';
import { createTestApp, type TestApp } from '../../support/harness.js';
import { actorFor, bindTelegram, buildJournalSchool, type JournalFixture } from '../../support/journal-fixtures.js';
import type { TestUser } from '../../support/users.js';

/**
 * R7: a substitution set by the deputy (in the Mini App's office, domain/journal/substitutions.ts) gives
 * the substitute that one lesson in the bot: /today lists it and they fill it; cancelled, it is gone.
 * The clock is Monday 2026-11-23, 12:00 in Moscow.
 */
let t: TestApp;
let f: JournalFixture;
let spare: TestUser;
const db = (): Db => t.app.db;
const TODAY = '2026-11-23';
const NOW = new Date('2026-11-23T06:00:00Z');

beforeAll(async () => {
  t = await createTestApp();
  f = await buildJournalSchool(t.app.db, { students7: 5, students8: 2 });
  spare = t.world.user({ firstName: 'Ирина' });
  await bindTelegram(db(), f.spareTeacherId, spare.id);
});

afterAll(async () => {
  await t?.close();
});

describe('a substitute fills the lesson in the bot (R7)', () => {
  it('no lessons before; after the substitution /today has 7Б math and the topic is saved; after cancelling, no lessons', async () => {
    await spare.send('/today');
    expect(spare.lastText()).toContain('Уроков нет.');
    const deputy = await actorFor(db(), f.deputyId);
    const slot = (await slotsOfDay(db(), deputy, TODAY)).find((s) => s.className === '7Б' && s.subjectName === 'Математика');
    const sub = await createSubstitution(db(), deputy, { slotId: slot?.slotId, date: TODAY, substituteId: String(f.spareTeacherId), reason: 'болезнь' }, NOW);

    await spare.send('/today');
    expect(spare.lastText()).toContain('7Б · Математика');
    await spare.press(/^2 · 7Б Математика/);
    await spare.press('📖 Тема');
    await spare.press('✏️ Своя тема');
    await spare.send('Линейные уравнения');
    expect(spare.lastText()).toContain('✅ Тема: «Линейные уравнения»');
    const lesson = await db().models.Lesson.findOne({ slotId: slot?.slotId, date: TODAY }).lean();
    expect(lesson?.topic).toBe('Линейные уравнения');
    expect(String(lesson?.substituteId)).toBe(String(f.spareTeacherId));

    await cancelSubstitution(db(), deputy, sub.id, NOW);
    await spare.send('/today');
    expect(spare.lastText()).toContain('Уроков нет.');
  });
});
