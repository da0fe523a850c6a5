import type { Types } from 'mongoose';
import type { Db } from '../../db/index.js';
import { announceEvent } from '../notices/intents.js';
import type { Actor } from '../school/actor.js';
import { appendAudit } from '../school/audit.js';
import { assertYearWritable } from '../year/read-only.js';

/**
 * The one write of a period or year mark (R15–R18): upsert on student × subject × year × period,
 * the audit entry with before and after (R31), and the family's notice. Callers decide whether the
 * actor may write and that the value is allowed (R16).
 */
export interface StoredPeriodMark {
  studentId: Types.ObjectId;
  subjectId: Types.ObjectId;
  yearId: Types.ObjectId;
  periodCode: string;
  value: string;
  source: 'teacher' | 'deputy' | 'admin' | 'transfer' | 'hospital';
  /** The system's average when the mark was set (R17), kept with it. */
  average?: number;
  suggested?: string;
  before?: { value: string; source?: string | null } | null;
  reason?: string;
}

export async function storePeriodMark(db: Db, actor: Actor, m: StoredPeriodMark, now: Date): Promise<boolean> {
  // R30: every writer of a period mark (the sheet, arrivals, the admin) ends here.
  await assertYearWritable(db, actor.schoolId, m.yearId);
  const key = { studentId: m.studentId, subjectId: m.subjectId, yearId: m.yearId, periodCode: m.periodCode };
  const set = { value: m.value, source: m.source, setBy: actor.personId, ...(m.average !== undefined ? { average: m.average } : {}) };
  const doc = await db.models.PeriodMark.findOneAndUpdate(
    key,
    { $set: set, $setOnInsert: { schoolId: actor.schoolId } },
    { upsert: true, returnDocument: 'after' },
  ).lean();
  if (!doc) return false;
  const after: Record<string, unknown> = { value: m.value, source: m.source, periodCode: m.periodCode };
  if (m.average !== undefined) after.average = m.average;
  if (m.suggested !== undefined) after.suggested = m.suggested;
  await appendAudit(db, actor, now, {
    action: 'periodMark.set',
    entity: { type: 'periodMark', id: doc._id },
    studentId: m.studentId,
    before: m.before ? { value: m.before.value, source: m.before.source } : null,
    after,
    reason: m.reason,
  });
  await announceEvent(db, { kind: 'periodMark.set', schoolId: actor.schoolId, studentId: m.studentId, periodMarkId: doc._id, at: now });
  return true;
}
