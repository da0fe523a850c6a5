import { Types } from 'mongoose';
import { afterEach, describe, expect, it } from 'vitest';
import { announceEvents, SWEEP_AFTER_MS } from '../../src/domain/notices/intents.js';
import { createTestApp, type TestApp } from '../support/harness.js';
import { waitFor } from '../support/wait.js';
import { type FamilyWorld, familyWorld, received } from './world.js';

/**
 * Issue 12: the notice intent is written with the record and fanned out after the answer
 * (src/notify/fan-out.ts). Nothing is lost when the process that wrote it dies first: any
 * process's timer sweep takes it once it is due; an intent it cannot read is kept, not retried
 * every few seconds, and reported.
 */
let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function markOf(w: FamilyWorld, app: TestApp): Promise<Types.ObjectId> {
  const l = w.lessonA;
  const mark = await app.app.db.models.Mark.create({
    schoolId: l.schoolId,
    lessonId: l.id,
    studentId: w.s.familyA.studentId,
    subjectId: l.subjectId,
    classId: l.classId,
    date: l.date,
    value: 5,
    workKind: 'classwork',
    weight: 1,
    teacherId: l.teacherId,
    clientKey: new Types.ObjectId().toHexString(),
  });
  return mark._id;
}

describe('notice intents (issue 12, R23)', () => {
  it('an intent a dead process left in notice_intents reaches the family through the timer sweep', async () => {
    t = await createTestApp({ jobs: true, fanOutSweepMs: 50 });
    const app = t;
    const w = await familyWorld(app);
    const markId = await markOf(w, app);
    const at = new Date(app.clock.now().getTime() - SWEEP_AFTER_MS - 1_000);
    // As the dead process wrote it: the document only, nobody here was handed it.
    await app.app.db.models.NoticeIntent.collection.insertOne({
      _id: new Types.ObjectId(),
      schoolId: w.s.schoolId,
      at,
      events: [{ kind: 'mark.created', studentId: w.s.familyA.studentId, markId, lessonId: w.lessonA.id, at }],
      dueAt: new Date(at.getTime() + SWEEP_AFTER_MS),
      attempts: 0,
    });
    await waitFor(() => received(w.motherA).some((m) => m.includes('5')) || undefined, 15_000, 'the mother to hear of the mark');
    await waitFor(() => received(w.fatherA).some((m) => m.includes('5')) || undefined, 15_000, 'the father to hear of the mark');
    expect(await app.app.db.models.NoticeIntent.countDocuments()).toBe(0);
    expect(app.app.fanOut.stats.swept).toBe(1);
    // Once: another sweep later queues nothing more.
    await app.app.fanOut.sweep();
    expect(await app.app.db.models.OutboxMessage.countDocuments({ 'ref.markId': markId, chatId: w.motherA.id })).toBe(1);
  });

  it('written by a use case in this process: fanned out at once, the intent gone; stop() finishes those in hand', async () => {
    t = await createTestApp();
    const app = t;
    const w = await familyWorld(app);
    const markId = await markOf(w, app);
    const at = app.clock.now();
    const event = { kind: 'mark.created' as const, schoolId: w.s.schoolId, studentId: w.s.familyA.studentId, markId, lessonId: w.lessonA.id, at };
    await announceEvents(app.app.db, [event]);
    // Handed over (no update is being handled): stopping the app drains it before the database closes.
    await app.app.fanOut.stop();
    expect(await app.app.db.models.NoticeIntent.countDocuments()).toBe(0);
    const queued = await app.app.db.models.OutboxMessage.find({ 'ref.markId': markId }, { chatId: 1 }).lean();
    expect(queued.map((q) => q.chatId).sort()).toEqual([w.motherA.id, w.fatherA.id, w.studentA.id].sort());
    app.app.fanOut.start();
  });

  it('an intent whose shape this version cannot read is kept and reported, and not taken again for a day', async () => {
    t = await createTestApp();
    const app = t;
    const w = await familyWorld(app);
    const at = new Date(app.clock.now().getTime() - SWEEP_AFTER_MS - 1_000);
    const _id = new Types.ObjectId();
    await app.app.db.models.NoticeIntent.collection.insertOne({
      _id,
      schoolId: w.s.schoolId,
      at,
      events: [{ kind: 'mark.teleported', studentId: 'nobody', at }],
      dueAt: at,
      attempts: 0,
    });
    await app.app.fanOut.sweep();
    const kept = await app.app.db.models.NoticeIntent.findById(_id).lean();
    expect(kept?.attempts).toBe(1);
    expect(kept?.dueAt.getTime()).toBeGreaterThan(app.clock.now().getTime() + 23 * 3_600_000);
    await app.app.fanOut.sweep();
    expect((await app.app.db.models.NoticeIntent.findById(_id).lean())?.attempts).toBe(1);
  });
});
