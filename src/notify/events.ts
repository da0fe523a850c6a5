import type { Types } from 'mongoose';
import type { Db } from '../db/index.js';

/**
 * Journal events that families are told about (R23). The journal's use cases call `publishEvent`
 * right after they save; the notify layer turns an event into outbox messages for each recipient.
 * (Contract only for now: the notify layer is being built in src/notify/.)
 */
type Id = Types.ObjectId;
export type JournalEvent =
  | { kind: 'mark.created' | 'mark.changed' | 'mark.deleted'; schoolId: Id; studentId: Id; markId: Id; lessonId: Id; at: Date }
  | { kind: 'absence.marked' | 'absence.cleared' | 'absence.reason'; schoolId: Id; studentId: Id; lessonId: Id; at: Date }
  | { kind: 'homework.posted'; schoolId: Id; lessonId: Id; at: Date }
  | { kind: 'periodMark.set'; schoolId: Id; studentId: Id; periodMarkId: Id; at: Date };

export async function publishEvent(_db: Db, _event: JournalEvent): Promise<void> {
  // Replaced by the outbox implementation.
}
