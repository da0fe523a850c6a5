import { Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { weightedAverage } from '../../../src/domain/journal/averages.js';
import { createTestApp, type TestApp } from '../../support/harness.js';
import { type FamilyWorld, familyWorld } from '../../notify/world.js';

/**
 * The diary (R24) as families see it in the bot: marks with the weighted average (R12, R17),
 * homework with its files, timetable, attendance; long answers in pages; and R4 — a forged
 * button shows nothing of another family's child.
 */
let t: TestApp;
let w: FamilyWorld;
const db = () => t.app.db;

async function mark(studentId: Types.ObjectId, subjectId: Types.ObjectId, value: 2 | 3 | 4 | 5, workKind: string, date: string) {
  await db().models.Mark.create({
    schoolId: w.s.schoolId,
    lessonId: w.lessonA.id,
    studentId,
    subjectId,
    classId: w.s.classA.id,
    date,
    value,
    workKind,
    weight: workKind === 'control' ? 2 : 1,
    teacherId: w.s.subjectTeacherId,
    clientKey: new Types.ObjectId().toHexString(),
  });
}

beforeAll(async () => {
  t = await createTestApp();
  w = await familyWorld(t);
  await mark(w.s.familyA.studentId, w.s.subjectId, 5, 'classwork', w.today);
  await mark(w.s.familyA.studentId, w.s.subjectId, 3, 'control', w.today);
  await mark(w.s.familyB.studentId, w.s.subjectId, 2, 'classwork', w.today);
});
afterAll(async () => {
  await t?.close();
});

describe('weighted average', () => {
  it('weighs each mark by its work kind', () => {
    expect(weightedAverage([{ value: 5, weight: 1 }, { value: 3, weight: 2 }])).toBe(3.67);
    expect(weightedAverage([])).toBeUndefined();
  });
});

describe('the diary in the bot', () => {
  it('shows marks by subject with the weighted average, each with its date and kind', async () => {
    await w.motherA.send('/diary');
    expect(w.motherA.lastText()).toContain(`Дневник: ${w.s.familyA.childName} (5А)`);
    await w.motherA.press('⭐ Оценки');
    const text = w.motherA.lastText() ?? '';
    expect(text).toContain('2-я четверть');
    // (5 × 1 + 3 × 2) / 3 = 3,67 — a plain average would say 4.
    expect(text).toContain('Математика — средний балл 3,67');
    expect(text).toContain('5 · 23.11 · Работа на уроке');
    expect(text).toContain('3 · 23.11 · Контрольная работа (вес 2)');
  });

  it('a parent cannot open another family’s child by a forged button', async () => {
    const foreign = String(w.s.familyB.studentId);
    for (const data of [`dia:m:${foreign}:0`, `dia:menu:${foreign}:0`, `dia:a:${foreign}:0`, `dfile:${w.lessonB.id}:${foreign}`]) {
      const answer = await w.motherA.pressData(data);
      expect(answer?.show_alert).toBe(true);
      expect(answer?.text).toBe('У вас нет доступа к этому.');
    }
    const everything = w.motherA.messages().map((m) => m.content).join('\n');
    expect(everything).not.toContain(w.s.familyB.childName);
    expect(everything).not.toContain('2 · 23.11');
    // A mangled id is a stale button, not an error.
    expect((await w.motherA.pressData('dia:m:not-an-id:0'))?.text).toContain('устарела');
  });

  it('the student sees their own diary, and only it', async () => {
    await w.studentA.send('/diary');
    await w.studentA.press('⭐ Оценки');
    expect(w.studentA.lastText()).toContain('Математика — средний балл 3,67');
    const answer = await w.studentA.pressData(`dia:m:${w.s.familyB.studentId}:0`);
    expect(answer?.show_alert).toBe(true);
  });

  it('timetable, attendance and homework with its files re-sent by file_id', async () => {
    await db().models.Absence.create({
      schoolId: w.s.schoolId,
      lessonId: w.lessonA.id,
      studentId: w.s.familyA.studentId,
      classId: w.s.classA.id,
      date: w.today,
      code: 'Н',
    });
    const sent = await w.motherA.sendPhoto();
    const fileId = sent.photo?.[sent.photo.length - 1]?.file_id ?? '';
    await db().models.Lesson.updateOne(
      { _id: w.lessonA.id },
      { $set: { topic: 'Дроби <и> проценты', homework: { text: '№ 125, 126 — «с проверкой»', attachments: [{ kind: 'photo', fileId }] } } },
    );
    await w.motherA.send('/diary');
    await w.motherA.press('🗓 Расписание');
    expect(w.motherA.lastText()).toContain('2. 09:25–10:10 Математика (каб. 12)');
    await w.motherA.press('« Дневник');
    await w.motherA.press('🚫 Пропуски');
    expect(w.motherA.lastText()).toContain('Без уважительной причины (Н): 1');
    expect(w.motherA.lastText()).toContain('2-й урок, Математика — Н');
    await w.motherA.press('« Дневник');
    await w.motherA.press('📝 Темы уроков');
    expect(w.motherA.lastText()).toContain('Тема: Дроби <и> проценты');
    await w.motherA.press('« Дневник');
    await w.motherA.press('📚 Домашнее задание');
    expect(w.motherA.lastText()).toContain('Домашних заданий на эти дни пока нет');
    await w.motherA.press('На неделю');
    // Given today, due at the next Monday lesson of the subject.
    expect(w.motherA.lastText()).toContain('Математика (к 30.11): № 125, 126 — «с проверкой» 📎 1');
    await w.motherA.press('📎 Математика, 30.11');
    const photos = w.motherA.sentPhotos();
    expect(photos).toHaveLength(1);
    expect(photos[0]?.fileId).toBe(fileId);
  });

  it('long answers come in pages under 4096 characters', async () => {
    const subjects = [];
    for (let i = 0; i < 14; i++) {
      subjects.push(
        await db().models.Subject.create({
          schoolId: w.s.schoolId,
          externalId: `long-${i}`,
          name: `Предмет с очень длинным названием номер ${i + 1}`,
        }),
      );
    }
    const values = [2, 3, 4, 5] as const;
    for (const [i, subject] of subjects.entries()) {
      for (let k = 0; k < 20; k++) {
        await mark(w.s.familyA.studentId, subject._id, values[(i + k) % 4] as 2 | 3 | 4 | 5, k % 5 === 0 ? 'control' : 'oral', w.today);
      }
    }
    await w.motherA.send('/diary');
    await w.motherA.press('⭐ Оценки');
    const first = w.motherA.lastMessage();
    expect(first?.content.length).toBeLessThanOrEqual(4096);
    const pager = first?.buttons.flat().find((b) => /^1\/\d+$/.test(b));
    expect(pager).toBeDefined();
    const pages = Number(pager?.split('/')[1]);
    expect(pages).toBeGreaterThanOrEqual(2);
    const seen = new Set<string>();
    for (let p = 1; p <= pages; p++) {
      const text = w.motherA.lastText() ?? '';
      expect(text.length).toBeLessThanOrEqual(4096);
      for (const m of text.matchAll(/Предмет с очень длинным названием номер (\d+)/g)) seen.add(m[1] as string);
      if (p < pages) await w.motherA.press('▶');
    }
    expect(seen.size).toBe(14); // every subject on some page
  });
});
