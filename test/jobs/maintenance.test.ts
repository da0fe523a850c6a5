import type { Connection } from 'mongoose';
import { Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMongo } from '../../src/db/connection.js';
import { createDb, type Db } from '../../src/db/index.js';
import { runMaintenance } from '../../src/jobs/maintenance.js';
import { testMongoUri } from '../support/db.js';

/** The hourly maintenance job removes only rows no code path can use any more. */
let conn: Connection;
let db: Db;

beforeAll(async () => {
  conn = await connectMongo(testMongoUri('maintenance'));
  db = await createDb(conn);
});
afterAll(async () => {
  await conn?.dropDatabase().catch(() => undefined);
  await conn?.close();
});

const HOUR = 3600_000;
const DAY = 24 * HOUR;

describe('maintenance', () => {
  it('removes old throttles, rate rows, composing states; closes abandoned imports; keeps the rest', async () => {
    const m = db.models;
    const now = new Date(Date.now() + 20 * DAY);
    const at = (ms: number) => new Date(now.getTime() - ms);
    const schoolId = new Types.ObjectId();
    const personId = new Types.ObjectId();

    await m.InviteThrottle.create([
      { telegramId: 1, windowStart: at(2 * DAY), failures: 3 },
      { telegramId: 2, windowStart: at(10 * 60_000), failures: 5, blockedUntil: at(-5 * 60_000) },
      // An old window but still blocked: kept.
      { telegramId: 3, windowStart: at(2 * DAY), failures: 5, blockedUntil: at(-HOUR) },
    ]);
    await m.SendRate.create([
      { _id: 'msg:old', times: [at(2 * HOUR)], lastAt: at(2 * HOUR) },
      { _id: 'msg:new', times: [at(30_000)], lastAt: at(30_000) },
    ]);
    await m.ConversationState.create([
      { _id: 'msg:100', value: { threadId: 'x' }, updatedAt: at(2 * DAY) },
      { _id: 'ann:100', value: { step: 'text' }, updatedAt: at(2 * DAY) },
      { _id: 'msg:200', value: { threadId: 'y' }, updatedAt: at(5 * 60_000) },
      // Somebody else's state (a grammY conversation): never touched by this rule.
      { _id: 'conv:300', value: { a: 1 }, updatedAt: at(30 * DAY) },
    ]);
    // Imports get their timestamps from the real clock: `now` is 20 days ahead.
    const pending = await m.PendingImport.create({ schoolId, personId, chatId: 1, fileId: 'f', filename: 'a.csv', kind: 'students' });
    const running = await m.PendingImport.create({ schoolId, personId, chatId: 1, fileId: 'g', filename: 'b.csv', kind: 'staff', status: 'running' });
    const done = await m.PendingImport.create({ schoolId, personId, chatId: 1, fileId: 'h', filename: 'c.csv', kind: 'staff', status: 'done' });

    const result = await runMaintenance(db, now);
    expect(result).toEqual({
      inviteThrottles: 1,
      sendRates: 1,
      composeStates: 2,
      importsCancelled: 1,
      importsFailed: 1,
    });
    expect((await m.InviteThrottle.find({}).lean()).map((x) => x.telegramId).sort()).toEqual([2, 3]);
    expect((await m.SendRate.find({}).lean()).map((x) => x._id)).toEqual(['msg:new']);
    expect((await m.ConversationState.find({}).lean()).map((x) => x._id).sort()).toEqual(['conv:300', 'msg:200']);
    expect((await m.PendingImport.findById(pending._id).lean())?.status).toBe('cancelled');
    expect((await m.PendingImport.findById(running._id).lean())?.status).toBe('failed');
    expect((await m.PendingImport.findById(done._id).lean())?.status).toBe('done');

    // A second run finds nothing more to do.
    expect(Object.values(await runMaintenance(db, now)).every((n) => n === 0)).toBe(true);
  });

  it('removes an absence report that waited a day for its photo, keeps one still waiting (abr: drafts)', async () => {
    const m = db.models;
    const now = new Date(Date.now() + 40 * DAY);
    const at = (ms: number) => new Date(now.getTime() - ms);
    await m.ConversationState.deleteMany({});
    await m.ConversationState.create([
      { _id: 'abr:100', value: { s: 'x', d: 0, r: 'i', personId: 'p', at: at(2 * DAY).getTime() }, updatedAt: at(2 * DAY) },
      { _id: 'abr:200', value: { s: 'y', d: 0, r: 'f', personId: 'q', at: at(10 * 60_000).getTime() }, updatedAt: at(10 * 60_000) },
    ]);
    const result = await runMaintenance(db, now);
    expect(result.composeStates).toBe(1);
    expect(await m.ConversationState.exists({ _id: 'abr:100' })).toBeNull();
    expect(await m.ConversationState.exists({ _id: 'abr:200' })).not.toBeNull();
    await m.ConversationState.deleteOne({ _id: 'abr:200' });
  });

  it('keeps what is still in use at the real time', async () => {
    const m = db.models;
    const schoolId = new Types.ObjectId();
    const fresh = await m.PendingImport.create({ schoolId, personId: new Types.ObjectId(), chatId: 2, fileId: 'i', filename: 'd.csv', kind: 'students' });
    await runMaintenance(db, new Date());
    expect((await m.PendingImport.findById(fresh._id).lean())?.status).toBe('pending');
  });
});
