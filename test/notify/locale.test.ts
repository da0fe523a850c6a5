import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendJoinSummary } from '../../src/domain/notices/summaries.js';
import { createTestApp, type TestApp } from '../support/harness.js';
import type { TestUser } from '../support/users.js';
import { bind, type FamilyWorld, familyWorld, giveMark, markAbsent, received } from './world.js';

/**
 * Issue 11 item 4: every notice is rendered in its recipient's language — the one chosen with
 * /language, else the one Telegram reports, else the school's — also when a job sends it.
 */
let t: TestApp;
let w: FamilyWorld;
const db = () => t.app.db;
const deliver = () => t.app.delivery.runUntilIdle(20_000);

beforeAll(async () => {
  t = await createTestApp();
  w = await familyWorld(t);
});
afterAll(async () => {
  await t?.close();
});

describe('notices in the recipient’s language (issue 11 item 4)', () => {
  let english: TestUser;

  it('a parent whose Telegram speaks English gets the mark, the absence and the join summary in English', async () => {
    english = t.world.user({ firstName: 'Mary', languageCode: 'en' });
    await english.send('/help');
    await bind(db(), w.s.familyB.parentId, english, t.clock.now());
    await giveMark(db(), w.lessonB, w.s.familyB.studentId, 4, t.clock.now());
    await markAbsent(db(), w.lessonB, w.s.familyB.studentId, t.clock.now());
    await deliver();
    const text = received(english).slice(1).join('\n');
    expect(text).toContain('Absent');
    expect(text).toContain('4 — Class work');
    expect(text).not.toMatch(/Пропуск|Работа на уроке/);
    const before = received(english).length;
    expect(await sendJoinSummary(db(), w.s.familyB.parentId, { now: t.clock.now() })).toBe(1);
    await deliver();
    const summary = received(english).slice(before).join('\n');
    expect(summary).toContain('so far');
    expect(summary).toContain('From now on I will tell you about new marks');
  });

  it('a parent who chose English with /language gets the next notice in English at once', async () => {
    const mother = w.motherA;
    await giveMark(db(), w.lessonA, w.s.familyA.studentId, 5, t.clock.now());
    await deliver();
    expect(received(mother).at(-1)).toContain('Работа на уроке');
    await mother.send('/language');
    await mother.press('English');
    await giveMark(db(), w.lessonA, w.s.familyA.studentId, 3, t.clock.now());
    await deliver();
    expect(received(mother).at(-1)).toContain('3 — Class work');
  });
});
