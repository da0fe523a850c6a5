import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setMode } from '../../../src/domain/notices/preferences.js';
import { type FamilyWorld, familyWorld, received } from '../../notify/world.js';
import { actorOf } from '../../support/fixtures.js';
import { createTestApp, type TestApp } from '../../support/harness.js';
import { waitFor } from '../../support/wait.js';

/**
 * Issue 11 item 5 (R22, R23, R24): one homework, one due date — the teacher is shown the date it
 * is due at, and the family's week lists it once, under that same date (also in the notice).
 * Math in 5А: Mondays (today, 23.11) and Thursdays.
 */
let t: TestApp;
let w: FamilyWorld;
const db = () => t.app.db;

beforeAll(async () => {
  t = await createTestApp();
  w = await familyWorld(t);
  await db().models.TimetableSlot.create({
    schoolId: w.s.schoolId,
    classId: w.s.classA.id,
    subjectId: w.s.subjectId,
    teacherId: w.s.subjectTeacherId,
    weekday: 4,
    lessonNo: 5,
    validFrom: '2026-09-01',
  });
  await setMode(db(), await actorOf(db(), w.s.familyA.parentId), String(w.s.familyA.studentId), 'homework', 'instant');
});
afterAll(async () => {
  await t?.close();
});

async function setHomework(button: RegExp, text: string): Promise<{ prompt: string; saved: string }> {
  const teacher = w.mathTeacher;
  await teacher.send('/today');
  await teacher.press(/5А/);
  await teacher.press('🏠 Д/з');
  await teacher.press(button);
  const prompt = teacher.lastText() ?? '';
  await teacher.send(text);
  await teacher.press('✅ Готово');
  return { prompt, saved: teacher.lastText() ?? '' };
}

async function familyWeek(): Promise<string> {
  const mother = w.motherA;
  await mother.send('/diary');
  await mother.press('📚 Домашнее задание');
  await mother.press('На неделю');
  return mother.lastText() ?? '';
}

describe('homework: one due date for the teacher and the family (issue 11 item 5)', () => {
  it('homework given today is due on Thursday: the teacher is told so and the family sees it once, under Thursday', async () => {
    const { prompt, saved } = await setHomework(/на этом уроке/, 'Параграф 7');
    expect(prompt).toContain('К уроку 26.11');
    expect(saved).toContain('К уроку 26.11');
    const week = await familyWeek();
    expect(week).toContain('Математика (к 26.11): Параграф 7');
    // Not again under the next Monday (30.11): one homework, one date.
    expect(week.match(/Параграф 7/g)).toHaveLength(1);
    await t.app.delivery.runUntilIdle(20_000);
    expect(received(w.motherA).join('\n')).toContain('Домашнее задание, Математика (к 26.11): Параграф 7');
  });

  it('homework entered in advance for the next lesson (Thursday) is due on Monday: the same date on both sides', async () => {
    const { prompt, saved } = await setHomework(/на следующем уроке/, 'Задачи 1–5');
    expect(prompt).toContain('26.11.2026');
    expect(prompt).toContain('К уроку 30.11');
    expect(saved).toContain('К уроку 30.11');
    const week = await familyWeek();
    expect(week).toContain('Математика (к 30.11): Задачи 1–5');
    expect(week.match(/Задачи 1–5/g)).toHaveLength(1);
    expect(week.match(/Параграф 7/g)).toHaveLength(1);
  });

  it('a 5,000-character homework is refused at once, not at Done, and not kept (issue 11, small things)', async () => {
    const teacher = w.mathTeacher;
    t.clock.advance(60_000);
    await teacher.send('/today');
    await teacher.press(/5А/);
    await teacher.press('🏠 Д/з');
    await teacher.press(/на этом уроке/);
    await teacher.send('ж'.repeat(5000));
    expect(teacher.lastText()).toContain('Задание слишком длинное (5000 символов): не больше 3000. Этот текст не добавлен');
    const long = `${'ш'.repeat(1999)}!`;
    await teacher.send(long);
    expect(teacher.messages().some((m) => m.content.includes('Получено: текст — 2000 симв.'))).toBe(true);
    await teacher.press('✅ Готово');
    expect(teacher.lastText()).toContain('Д/з сохранено');
    const lesson = await db().models.Lesson.findById(w.lessonA.id).lean();
    expect(lesson?.homework?.text).toBe(long);
    // The family reads it whole in the diary; the notice says where the rest is (issue 11 item 6).
    const week = await familyWeek();
    expect(week).toContain(long);
    await t.app.delivery.runUntilIdle(20_000);
    const notice = await waitFor(() => received(w.motherA).find((m) => m.startsWith('🔔') && m.includes('шшшш')));
    expect(notice).toContain('(полностью — в дневнике: /diary)');
  });
});
