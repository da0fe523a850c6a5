import { AsyncLocalStorage } from 'node:async_hooks';
import { Types } from 'mongoose';
import { z } from 'zod';
import type { Db } from '../../db/index.js';
import { dbSignal } from '../../db/signal.js';
import { type JournalEvent, publishEvents } from './events.js';

/**
 * Notice intents (R23; issue 12: "write the notice intent with the record").
 *
 * A journal use case does not read the families and write their outbox messages while the teacher
 * waits: it writes one `notice_intents` document holding the events of its save, as its last
 * write, and returns. The fan-out (`fanOutIntent`: the families, their preferences, the outbox
 * messages, then the intent is deleted) runs after the update is answered, in the same process
 * (src/notify/fan-out.ts), so a parent still hears within a fraction of a second.
 *
 * Nothing is lost on a crash: an intent whose process died before its fan-out is taken by the
 * sweep of any process once `dueAt` (a little after the event) has passed. A fan-out done twice
 * (a sweep racing a slow process) adds nothing: the outbox keys are per event and recipient.
 */
export const SWEEP_AFTER_MS = 30_000;

const id = z.instanceof(Types.ObjectId);
const storedEvent = z.discriminatedUnion('kind', [
  z.object({ kind: z.enum(['mark.created', 'mark.changed', 'mark.deleted']), studentId: id, markId: id, lessonId: id, at: z.date() }),
  z.object({ kind: z.enum(['absence.marked', 'absence.cleared', 'absence.reason']), studentId: id, lessonId: id, at: z.date() }),
  z.object({ kind: z.literal('homework.posted'), lessonId: id, at: z.date() }),
  z.object({ kind: z.literal('periodMark.set'), studentId: id, periodMarkId: id, at: z.date() }),
]);

export interface NoticeIntent {
  id: Types.ObjectId;
  events: JournalEvent[];
  /** Where it is stored: the `notice_intents` collection, or (attendance) inside its lesson. */
  lessonId?: Types.ObjectId;
}

// ─────────────── in-process hand-over to the fan-out ───────────────

/** A listener that throws breaks no use case: the sweep takes the intent later. */
const intentsWritten = dbSignal<NoticeIntent>();
/** Intents written while an update is being handled: handed over when it is answered. */
const held = new AsyncLocalStorage<Array<{ db: Db; intent: NoticeIntent }>>();

export function onNoticeIntent(db: Db, listener: (intent: NoticeIntent) => void): () => void {
  return intentsWritten.on(db, listener);
}

const handOver = (db: Db, intent: NoticeIntent): void => intentsWritten.emit(db, intent);

/**
 * Runs `fn` (one update's handling) holding back the intents it writes, and hands them to the
 * fan-out once it has finished — answered or failed: the person's answer never waits for the
 * families' reads and the outbox writes, and never shares the database with them.
 */
export async function holdNoticeIntents<T>(fn: () => Promise<T>): Promise<T> {
  const list: Array<{ db: Db; intent: NoticeIntent }> = [];
  try {
    return await held.run(list, fn);
  } finally {
    for (const { db, intent } of list) handOver(db, intent);
  }
}

// ─────────────── the write (inside the use case) ───────────────

/**
 * The use case's last write: the events of one save, in one document (one round trip, however
 * many students and families). Throws when it cannot be written: the use case then fails after
 * its save, and the teacher's retry (idempotent on the journal side) announces again.
 */
export async function announceEvents(db: Db, events: readonly JournalEvent[]): Promise<void> {
  const first = events[0];
  if (!first) return;
  if (events.some((e) => String(e.schoolId) !== String(first.schoolId))) throw new Error('announceEvents: one school at a time');
  const _id = new Types.ObjectId();
  const at = new Date(Math.max(...events.map((e) => e.at.getTime())));
  await db.models.NoticeIntent.collection.insertOne({
    _id,
    schoolId: first.schoolId,
    at,
    events: events.map(({ schoolId: _school, ...rest }) => rest),
    dueAt: new Date(at.getTime() + SWEEP_AFTER_MS),
    attempts: 0,
  });
  release(db, { id: _id, events: [...events] });
}

/** After the write that stored it: to the fan-out, now or when the update is answered. */
function release(db: Db, intent: NoticeIntent): void {
  const list = held.getStore();
  if (list) list.push({ db, intent });
  else handOver(db, intent);
}

/**
 * An intent that rides on the use case's own write to a lesson (attendance's save writes the
 * lesson anyway: no round trip of its own). The use case adds `update` to that write and calls
 * `written()` once it has succeeded.
 */
export function lessonIntent(
  db: Db,
  lessonId: Types.ObjectId,
  events: readonly JournalEvent[],
): { update: { $push: { noticeIntents: object } } | Record<string, never>; written(): void } {
  if (events.length === 0) return { update: {}, written: () => undefined };
  const _id = new Types.ObjectId();
  const at = new Date(Math.max(...events.map((e) => e.at.getTime())));
  const stored = { _id, at, events: events.map(({ schoolId: _school, ...rest }) => rest), dueAt: new Date(at.getTime() + SWEEP_AFTER_MS) };
  return {
    update: { $push: { noticeIntents: stored } },
    written: () => release(db, { id: _id, events: [...events], lessonId }),
  };
}

export function announceEvent(db: Db, event: JournalEvent): Promise<void> {
  return announceEvents(db, [event]);
}

// ─────────────── the fan-out (after the answer, or by a sweep) ───────────────

/** The outbox messages of one intent, then the intent is gone. */
export async function fanOutIntent(db: Db, intent: NoticeIntent): Promise<void> {
  await publishEvents(db, intent.events);
  if (intent.lessonId) await db.models.Lesson.updateOne({ _id: intent.lessonId }, { $pull: { noticeIntents: { _id: intent.id } } });
  else await db.models.NoticeIntent.deleteOne({ _id: intent.id });
}

/** A stored intent back as events; undefined when its shape is not one this code wrote. */
export function intentOf(doc: { _id: Types.ObjectId; schoolId: Types.ObjectId; events: unknown[] }): NoticeIntent | undefined {
  const events: JournalEvent[] = [];
  for (const raw of doc.events) {
    const parsed = storedEvent.safeParse(raw);
    if (!parsed.success) return undefined;
    events.push({ ...parsed.data, schoolId: doc.schoolId } as JournalEvent);
  }
  return { id: doc._id, events };
}

export interface SweepResult {
  done: number;
  failed: number;
  /** Intents whose stored shape was not understood (kept, and reported). */
  unreadable: number;
}

/**
 * Takes the intents left behind (their process died, or their fan-out failed) whose `dueAt` has
 * passed, one at a time under a lease (the claim moves `dueAt` a minute on; a failure backs off
 * further), and fans them out. Several processes may sweep at once: each claim takes one intent.
 */
export async function sweepIntents(db: Db, now: Date, opts: { limit?: number; lessons?: boolean } = {}): Promise<SweepResult> {
  const limit = opts.limit ?? 100;
  const out: SweepResult = { done: 0, failed: 0, unreadable: 0 };
  const { NoticeIntent } = db.models;
  for (let i = 0; i < limit; i++) {
    const doc = await NoticeIntent.findOneAndUpdate(
      { dueAt: { $lte: now } },
      { $set: { dueAt: new Date(now.getTime() + 60_000) }, $inc: { attempts: 1 } },
      { sort: { dueAt: 1 }, returnDocument: 'after' },
    ).lean();
    if (!doc) break;
    const intent = intentOf(doc);
    const later = (ms: number) => NoticeIntent.updateOne({ _id: doc._id }, { $set: { dueAt: new Date(now.getTime() + ms) } }).catch(() => undefined);
    if (!intent) {
      // Kept for a person to look at (the sweep reports it), not retried every minute.
      out.unreadable++;
      await later(24 * 3_600_000);
      continue;
    }
    try {
      await fanOutIntent(db, intent);
      out.done++;
    } catch {
      out.failed++;
      await later(Math.min(60_000 * 2 ** Math.min(doc.attempts ?? 1, 6), 3_600_000));
    }
  }
  if (opts.lessons !== false) await sweepLessonIntents(db, now, limit, out);
  return out;
}

/**
 * The intents inside lessons. No lease here (a sweep only meets them after a crash): two
 * processes sweeping the same one fan it out twice, which adds nothing (the outbox keys).
 */
async function sweepLessonIntents(db: Db, now: Date, limit: number, out: SweepResult): Promise<void> {
  const { Lesson } = db.models;
  const lessons = await Lesson.find({ 'noticeIntents.dueAt': { $lte: now } }, { schoolId: 1, noticeIntents: 1 }).limit(limit).lean();
  for (const lesson of lessons) {
    for (const stored of lesson.noticeIntents ?? []) {
      if (stored.dueAt > now) continue;
      const intent = intentOf({ _id: stored._id, schoolId: lesson.schoolId, events: stored.events });
      const later = (ms: number) =>
        Lesson.updateOne({ _id: lesson._id, 'noticeIntents._id': stored._id }, { $set: { 'noticeIntents.$.dueAt': new Date(now.getTime() + ms) } }).catch(
          () => undefined,
        );
      if (!intent) {
        out.unreadable++;
        await later(24 * 3_600_000);
        continue;
      }
      try {
        await fanOutIntent(db, { ...intent, lessonId: lesson._id });
        out.done++;
      } catch {
        out.failed++;
        await later(5 * 60_000);
      }
    }
  }
}
