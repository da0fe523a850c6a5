import type { Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMongo } from '../../src/db/connection.js';
import { createDb, type Db } from '../../src/db/index.js';
import { cachedSchool } from '../../src/db/school-cache.js';
import { testMongoUri } from '../support/db.js';

/** The short-lived school cache: one query for repeated reads, cleared by a write through the model. */
let conn: Connection;
let db: Db;
let finds = 0;

beforeAll(async () => {
  const uri = testMongoUri('school-cache');
  conn = await connectMongo(`${uri}${uri.includes('?') ? '&' : '?'}monitorCommands=true`);
  db = await createDb(conn);
  conn.getClient().on('commandStarted', (e) => {
    if (e.commandName === 'find' && (e.command as { find?: string }).find === 'schools') finds++;
  });
});
afterAll(async () => {
  await conn?.dropDatabase().catch(() => undefined);
  await conn?.close();
});

describe('school cache', () => {
  it('reads a school once for repeated and concurrent reads; a settings change is seen at once', async () => {
    const school = await db.models.School.create({ name: 'Школа', timezone: 'Europe/Moscow' });
    finds = 0;
    const [a, b] = await Promise.all([cachedSchool(db, school._id), cachedSchool(db, school._id)]);
    const c = await cachedSchool(db, String(school._id));
    expect([a?.name, b?.name, c?.name]).toEqual(['Школа', 'Школа', 'Школа']);
    expect(finds).toBe(1);

    await db.models.School.updateOne({ _id: school._id }, { $set: { 'settings.lockAfterDays': 3 } });
    expect((await cachedSchool(db, school._id))?.settings?.lockAfterDays).toBe(3);
    expect(finds).toBe(2);

    const other = await db.models.School.create({ name: 'Другая', timezone: 'Asia/Yekaterinburg' });
    expect((await cachedSchool(db, other._id))?.timezone).toBe('Asia/Yekaterinburg');
    expect(await cachedSchool(db, '5f0000000000000000000000')).toBeNull();
  });
});
