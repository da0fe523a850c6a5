import { Types } from 'mongoose';
import type { Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMongo } from '../../../src/db/connection.js';
import { createDb, type Db } from '../../../src/db/index.js';
import { publishMessage } from '../../../src/domain/notices/events.js';
import { testMongoUri } from '../../support/db.js';

/** Messages to many people are written in one bulk insert, still idempotent per recipient. */
let conn: Connection;
let db: Db;

beforeAll(async () => {
  conn = await connectMongo(testMongoUri('outbox-bulk'));
  db = await createDb(conn);
});
afterAll(async () => {
  await conn?.dropDatabase().catch(() => undefined);
  await conn?.close();
});

describe('publishMessage in bulk', () => {
  it('writes one copy per recipient; publishing again adds only the new recipients', async () => {
    const school = await db.models.School.create({ name: 'Школа', timezone: 'Europe/Moscow' });
    const people = Array.from({ length: 4 }, (_, i) => ({ personId: new Types.ObjectId(), telegramId: 5000 + i }));
    const at = new Date('2026-11-23T09:00:00Z');
    const input = { schoolId: school._id, key: 'ann:test', text: 'Собрание в четверг', at };
    expect(await publishMessage(db, { ...input, recipients: people.slice(0, 3) })).toBe(3);
    expect(await publishMessage(db, { ...input, recipients: people.slice(0, 3) })).toBe(0);
    expect(await publishMessage(db, { ...input, recipients: people })).toBe(1);
    const docs = await db.models.OutboxMessage.find({ key: /^msg:ann:test:/ }).lean();
    expect(docs).toHaveLength(4);
    expect(new Set(docs.map((d) => d.chatId))).toEqual(new Set([5000, 5001, 5002, 5003]));
    expect(docs.every((d) => d.status === 'pending' && d.claimKey === String(d._id) && d.createdAt instanceof Date)).toBe(true);
  });
});
