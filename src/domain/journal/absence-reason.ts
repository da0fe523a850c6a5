import type { Types } from 'mongoose';
import type { Db } from '../../db/index.js';
import type { AbsenceCode } from '../shared/vocabulary.js';
import { announceEvent } from '../notices/intents.js';
import type { Actor } from '../school/actor.js';
import { appendAudit } from '../school/audit.js';

/**
 * Gives one absence its reason (R20: Н → Б or У, or back), the one way both the journal's reasons
 * screen and a confirmed absence report do it. Conditional on the code read, so two decisions at
 * once cannot both claim the same "before"; audited (R31) and told to the family. False when the
 * absence had changed meanwhile (nothing written).
 */
export async function setAbsenceCode(
  db: Db,
  actor: Actor,
  now: Date,
  absence: { _id: Types.ObjectId; code: AbsenceCode; lessonId: Types.ObjectId; studentId: Types.ObjectId },
  code: AbsenceCode,
  reason: string | undefined,
): Promise<boolean> {
  const res = await db.models.Absence.updateOne({ _id: absence._id, code: absence.code }, { $set: { code, reasonBy: actor.personId } });
  if (res.modifiedCount === 0) return false;
  await appendAudit(db, actor, now, {
    action: 'absence.reason',
    entity: { type: 'absence', id: absence._id },
    lessonId: absence.lessonId,
    studentId: absence.studentId,
    // Rows written before the code had a default read as Н.
    before: { code: absence.code ?? 'Н' },
    after: { code },
    reason,
  });
  await announceEvent(db, { kind: 'absence.reason', schoolId: actor.schoolId, studentId: absence.studentId, lessonId: absence.lessonId, at: now });
  return true;
}
