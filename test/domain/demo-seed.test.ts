import type { Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMongo } from '../../src/db/connection.js';
import { createDb, type Db } from '../../src/db/index.js';
import { feminineSurname } from '../../src/domain/demo/names.js';
import { demoFiles, seedDemoSchool } from '../../src/domain/demo/seed.js';
import { testMongoUri } from '../support/db.js';

const NOW = new Date('2026-11-23T09:00:00Z');
let conn: Connection;
let db: Db;

beforeAll(async () => {
  conn = await connectMongo(testMongoUri('demo'));
  db = await createDb(conn);
});
afterAll(async () => {
  await conn?.dropDatabase().catch(() => undefined);
  await conn?.close();
});

describe('the demo school', () => {
  it('names: feminine surnames follow the rules; the generator is deterministic for a seed', () => {
    expect(feminineSurname('Иванов')).toBe('Иванова');
    expect(feminineSurname('Соловьёв')).toBe('Соловьёва');
    expect(feminineSurname('Ильин')).toBe('Ильина');
    expect(feminineSurname('Покровский')).toBe('Покровская');
    expect(feminineSurname('Троицкий')).toBe('Троицкая');
    expect(feminineSurname('Толстой')).toBe('Толстая');
    expect(feminineSurname('Шевченко')).toBe('Шевченко');
    expect(feminineSurname('Черных')).toBe('Черных');
    const a = demoFiles({ students: 100, seed: 7, today: '2026-11-23' });
    const b = demoFiles({ students: 100, seed: 7, today: '2026-11-23' });
    const c = demoFiles({ students: 100, seed: 8, today: '2026-11-23' });
    expect(a).toEqual(b);
    expect(a.students).not.toEqual(c.students);
    // A girl of a family carries the feminine form of the family name and patronymic.
    const girl = a.students.find((s) => String(s.middle_name).endsWith('на'));
    const mother = a.students.find((s) => s.parent1_relation === 'mother');
    expect(girl).toBeDefined();
    expect(String(mother?.parent1_last_name)).toMatch(/(а|ая|ко|их|ых|Ким)$/);
  });

  it('seeds ~550 students through the importer: 22 classes, 40 staff, groups, load, a timetable without clashes', async () => {
    const result = await seedDemoSchool(db, { now: NOW });
    console.log(`[demo] seed:demo (550 students) in ${result.ms} ms:`, JSON.stringify(result.counts));
    expect(result.counts).toMatchObject({ staff: 40, subjects: 20, classes: 22, students: 550, groups: 40 });
    expect(result.counts['parents']).toBeGreaterThan(800);
    const { SchoolClass, Person, TimetableSlot, TeachingLoad, Subject } = db.models;
    const schoolId = result.schoolId;
    const classes = await SchoolClass.find({ schoolId }).lean();
    expect(classes.map((c) => c.name).sort()).toContain('11Б');
    expect(classes.every((c) => c.classTeacherId)).toBe(true);
    const admins = await Person.countDocuments({ schoolId, roles: 'admin' });
    const deputies = await Person.countDocuments({ schoolId, roles: 'deputy' });
    const secretaries = await Person.countDocuments({ schoolId, roles: 'secretary' });
    expect([admins, deputies, secretaries]).toEqual([1, 1, 1]);
    expect(await Subject.countDocuments({ schoolId, assessment: 'passfail' })).toBe(1);

    // Russian in grade 5: 5 h/week × 34 weeks.
    const rus = await Subject.findOne({ schoolId, externalId: 'RUS' }).lean();
    const c5 = classes.find((c) => c.name === '5А');
    const load = await TeachingLoad.findOne({ schoolId, classId: c5?._id, subjectId: rus?._id }).lean();
    expect(load?.hoursPerYear).toBe(170);

    // No teacher in two places at once; 4–7 lessons a day Monday to Friday; the timetable matches the load.
    const slots = await TimetableSlot.find({ schoolId }).lean();
    const seen = new Set<string>();
    for (const s of slots) {
      const key = `${String(s.teacherId)}|${s.weekday}|${s.lessonNo}`;
      expect(seen.has(key), key).toBe(false);
      seen.add(key);
    }
    const perDay = new Map<string, Set<number>>();
    for (const s of slots) {
      const key = `${String(s.classId)}|${s.weekday}`;
      perDay.set(key, (perDay.get(key) ?? new Set()).add(s.lessonNo));
      expect(s.weekday).toBeLessThanOrEqual(5);
    }
    expect(perDay.size).toBe(22 * 5);
    for (const lessons of perDay.values()) {
      expect(lessons.size).toBeGreaterThanOrEqual(4);
      expect(lessons.size).toBeLessThanOrEqual(7);
      expect(Math.max(...lessons)).toBe(lessons.size); // no gaps: lessons 1..n
    }
    const englishSlots = slots.filter((s) => s.groupId);
    expect(englishSlots.length).toBeGreaterThan(0);
    const gradeOf = new Map(classes.map((c) => [String(c._id), c.grade]));
    const loads = await TeachingLoad.find({ schoolId }).lean();
    for (const l of loads) {
      const weekly = slots.filter(
        (s) =>
          String(s.classId) === String(l.classId) &&
          String(s.groupId ?? '') === String(l.groupId ?? '') &&
          String(s.subjectId) === String(l.subjectId) &&
          String(s.teacherId) === String(l.teacherId),
      ).length;
      const weeks = gradeOf.get(String(l.classId)) === 1 ? 33 : 34;
      expect(weekly * weeks).toBe(l.hoursPerYear);
    }
  }, 180_000);
});
