import { createHash } from 'node:crypto';
import { type Connection, type Model, Schema } from 'mongoose';
import type { Db } from '../../db/index.js';

/**
 * The reports being built and the scheduled reports already sent (issue 14), one collection:
 * `_id` is the task's key, so inserting it claims the work atomically (a duplicate key: someone
 * else has it) — across bot processes, job workers and restarts.
 *
 * - `request`: a person's report being built in the background (the bot). Key: person, kind,
 *   scope, period (`requestKey`). A second identical request while it is `building` is told so;
 *   the row is removed when the file has been sent (or the work failed), so the next request
 *   builds afresh. A row whose `heartbeatAt` is old was left by a stopped process: the
 *   `reports:resume` job takes it over (`takeStale`), so a restart loses nothing.
 * - `scheduled`: one automatic report (school + kind + week/month/period [+ recipient]), kept as
 *   `sent` so a second run of the same job in the same week/month/period sends nothing.
 */
export type ReportTaskKind = 'request' | 'scheduled';

export interface ReportTaskDoc {
  _id: string;
  type: ReportTaskKind;
  schoolId: string;
  personId?: string;
  status: 'building' | 'sent' | 'skipped';
  /** A request: what to build (catalog kind + params) and where to answer. */
  kind?: string;
  params?: Record<string, unknown>;
  format?: 'pdf' | 'xlsx';
  chatId?: number;
  messageId?: number;
  locale?: string;
  progress?: number;
  attempts: number;
  heartbeatAt: Date;
  createdAt: Date;
}

const schema = new Schema<ReportTaskDoc>(
  {
    _id: { type: String, required: true },
    type: { type: String, enum: ['request', 'scheduled'], required: true },
    schoolId: { type: String, required: true },
    personId: { type: String },
    status: { type: String, enum: ['building', 'sent', 'skipped'], required: true },
    kind: { type: String },
    params: { type: Schema.Types.Mixed },
    format: { type: String, enum: ['pdf', 'xlsx'] },
    chatId: { type: Number },
    messageId: { type: Number },
    locale: { type: String },
    progress: { type: Number },
    attempts: { type: Number, default: 0 },
    heartbeatAt: { type: Date, required: true },
    createdAt: { type: Date, required: true },
  },
  { collection: 'report_tasks', versionKey: false },
);
schema.index({ type: 1, status: 1, heartbeatAt: 1 });

/** The model on this connection (registered once per connection; no import side effects). */
export function reportTasks(db: Pick<Db, 'conn'>): Model<ReportTaskDoc> {
  const conn: Connection = db.conn;
  return (conn.models.ReportTask as Model<ReportTaskDoc> | undefined) ?? conn.model<ReportTaskDoc>('ReportTask', schema);
}

/** A request's key: the same person, kind, scope and period give the same key. */
export function requestKey(personId: string, kind: string, params: Record<string, unknown>): string {
  const canon = JSON.stringify(Object.keys(params).sort().map((k) => [k, params[k]]));
  return `req:${personId}:${kind}:${createHash('sha1').update(canon).digest('base64url').slice(0, 16)}`;
}

const isDuplicate = (e: unknown) => (e as { code?: number }).code === 11000;

/** Inserts the row; false when one with this key exists (being built, or already sent). */
export async function claimTask(db: Pick<Db, 'conn'>, doc: Omit<ReportTaskDoc, 'attempts' | 'createdAt' | 'heartbeatAt'>, now: Date): Promise<boolean> {
  try {
    await reportTasks(db).create({ ...doc, attempts: 1, createdAt: now, heartbeatAt: now });
    return true;
  } catch (e) {
    if (isDuplicate(e)) return false;
    throw e;
  }
}

export async function heartbeat(db: Pick<Db, 'conn'>, key: string, now: Date, set: Partial<Pick<ReportTaskDoc, 'progress' | 'messageId'>> = {}): Promise<void> {
  await reportTasks(db).updateOne({ _id: key, status: 'building' }, { $set: { heartbeatAt: now, ...set } });
}

/** A request done (or given up): its key is free again. */
export async function releaseTask(db: Pick<Db, 'conn'>, key: string): Promise<void> {
  await reportTasks(db).deleteOne({ _id: key });
}

/** A scheduled report: final once sent (or skipped: nobody to send it to). */
export async function settleTask(db: Pick<Db, 'conn'>, key: string, status: 'sent' | 'skipped'): Promise<void> {
  await reportTasks(db).updateOne({ _id: key }, { $set: { status } });
}

/** A request left `building` by a stopped process: taken over by one worker (atomic), at most `maxAttempts` times. */
export async function takeStale(db: Pick<Db, 'conn'>, now: Date, staleMs: number, maxAttempts = 3): Promise<ReportTaskDoc | null> {
  const model = reportTasks(db);
  const before = new Date(now.getTime() - staleMs);
  // Given up: the person is told by the worker that takes its last attempt.
  return model
    .findOneAndUpdate(
      { type: 'request', status: 'building', heartbeatAt: { $lt: before }, attempts: { $lt: maxAttempts } },
      { $set: { heartbeatAt: now }, $inc: { attempts: 1 } },
      { returnDocument: 'after' },
    )
    .lean<ReportTaskDoc>();
}

/** Requests stuck past every attempt: removed so the person can ask again. */
export async function dropExhausted(db: Pick<Db, 'conn'>, now: Date, staleMs: number, maxAttempts = 3): Promise<number> {
  const before = new Date(now.getTime() - staleMs);
  const r = await reportTasks(db).deleteMany({ type: 'request', status: 'building', heartbeatAt: { $lt: before }, attempts: { $gte: maxAttempts } });
  return r.deletedCount;
}
