import type { Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMongo } from '../../../src/db/connection.js';
import { createDb, type Db } from '../../../src/db/index.js';
import { classReport } from '../../../src/domain/reports/index.js';
import { testMongoUri } from '../../support/db.js';
import { actorFor, addSchoolYear, buildJournalSchool, type JournalFixture, lessonOn } from '../../support/journal-fixtures.js';

/**
 * Curriculum coverage (R27), 7Б, quarter q2 (5 Nov – 28 Dec), today 18 Nov, by hand.
 * School days (Monday–Saturday; this year has no holidays): the year 1 Sep – 31 May has 234; q2 has
 * 46; 5–18 Nov has 12 (Thu 5, Fri 6, Sat 7, 9–14, 16–18). Year share 12/234 = 0.0513.
 * - Math (Учителева, lesson 2 Mon–Sat): timetabled 12; held 3 (9, 10, 11 Nov; 12 Nov cancelled).
 *   Load 170 h/year × 12/234 = 8.7 → −5.7. The plan has q2 topics of 10 + 6 = 16 h (and a q1 topic
 *   of 20 h): 16 × 12/46 = 4.2 → 3 − 4.2 = −1.2.
 * - Russian (Другова, lesson 3): timetabled 12, held 0. Load 136 × 12/234 = 7.0 → −7. The plan's
 *   topics carry no period: 100 h × 12/234 = 5.1 → −5.1.
 */
const NOW = new Date('2026-11-18T15:00:00Z');
let conn: Connection;
let db: Db;
let f: JournalFixture;

beforeAll(async () => {
  conn = await connectMongo(testMongoUri('reports_coverage'));
  db = await createDb(conn);
  f = await buildJournalSchool(db, { students7: 2, students8: 1 });
  await addSchoolYear(db, f);
  for (const date of ['2026-11-09', '2026-11-10', '2026-11-11']) await lessonOn(db, f, f.mathSlot7, date);
  const cancelled = await lessonOn(db, f, f.mathSlot7, '2026-11-12');
  await db.models.Lesson.updateOne({ _id: cancelled }, { $set: { status: 'cancelled' } });
  const item = (subjectId: typeof f.mathId, order: number, hours: number, periodCode?: string) => ({
    schoolId: f.schoolId,
    classId: f.class7.id,
    subjectId,
    order,
    topic: `Тема ${order}`,
    hours,
    ...(periodCode ? { periodCode } : {}),
  });
  await db.models.PlanItem.insertMany([
    item(f.mathId, 1, 20, 'q1'),
    item(f.mathId, 2, 10, 'q2'),
    item(f.mathId, 3, 6, 'q2'),
    item(f.russianId, 1, 60),
    item(f.russianId, 2, 40),
  ]);
});

afterAll(async () => {
  await conn.dropDatabase();
  await conn.close();
});

describe('coverage figures', () => {
  it('held lessons against the timetable, the prorated load and the plan, per class × subject × teacher', async () => {
    const r = await classReport(db, await actorFor(db, f.deputyId), String(f.class7.id), { periodCode: 'q2' }, NOW);
    expect(r.coverage.yearShare).toBe(0.0513);
    const rows = r.coverage.rows.map((x) => ({
      subject: x.subjectName,
      teacher: x.teacherName.split(' ')[0],
      held: x.held,
      timetabled: x.timetabled,
      loadHours: x.loadHours,
      diffLoad: x.diffLoad,
      planHours: x.planHours,
      planBasis: x.planBasis,
      diffPlan: x.diffPlan,
    }));
    expect(rows).toEqual([
      { subject: 'Математика', teacher: 'Учителева', held: 3, timetabled: 12, loadHours: 8.7, diffLoad: -5.7, planHours: 4.2, planBasis: 'period', diffPlan: -1.2 },
      { subject: 'Русский язык', teacher: 'Другова', held: 0, timetabled: 12, loadHours: 7, diffLoad: -7, planHours: 5.1, planBasis: 'prorated', diffPlan: -5.1 },
    ]);
  });

  it('a holiday is no school day: fewer timetabled lessons and a smaller share', async () => {
    await db.models.AcademicYear.updateOne({ schoolId: f.schoolId }, { $set: { holidays: [{ name: 'Осенние', startsOn: '2026-11-05', endsOn: '2026-11-07' }] } });
    const r = await classReport(db, await actorFor(db, f.deputyId), String(f.class7.id), { periodCode: 'q2' }, NOW);
    // 9 school days of 231: 170 × 9/231 = 6.6.
    expect(r.coverage.yearShare).toBe(0.039);
    expect(r.coverage.rows[0]).toMatchObject({ timetabled: 9, loadHours: 6.6 });
  });
});
