import type { Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMongo } from '../../src/db/connection.js';
import { createDb, type Db } from '../../src/db/index.js';
import { seedDemoSchool } from '../../src/domain/demo/seed.js';
import { testMongoUri } from '../support/db.js';

/** Issue 11: `seed:demo --students 40` (or 30) failed on an empty English group; small demos work. */
const NOW = new Date('2026-11-23T09:00:00Z');
let conn: Connection;
let db: Db;

beforeAll(async () => {
  conn = await connectMongo(testMongoUri('demosmall'));
  db = await createDb(conn);
});
afterAll(async () => {
  await conn?.dropDatabase().catch(() => undefined);
  await conn?.close();
});

describe('a small demo school', () => {
  it.each([40, 30])('%i students: every class present, English in groups only where a class has two or more', async (students) => {
    const result = await seedDemoSchool(db, { students, seed: 3, now: NOW });
    const schoolId = result.schoolId;
    expect(await db.models.Person.countDocuments({ schoolId, roles: 'student' })).toBe(students);
    const groups = await db.models.Group.find({ schoolId }).lean();
    for (const g of groups) expect(g.studentIds.length).toBeGreaterThan(0);
    expect(await db.models.TimetableSlot.countDocuments({ schoolId })).toBeGreaterThan(0);
  });
});
