import type { Types } from 'mongoose';
import type { Db } from '../../db/index.js';
import { canReadStudent, isAdmin } from '../school/access.js';
import type { Actor } from '../school/actor.js';
import { appendAudit } from '../school/audit.js';
import { toObjectId } from '../school/people.js';
import { daysBetween, isLocalDate, type LocalDate } from '../shared/calendar.js';
import { AccessDenied, DomainError } from '../shared/errors.js';

/**
 * PE exemptions (R21): the class teacher records that a student is exempt from physical education
 * between two dates (a doctor's certificate); the PE teacher sees exempt students marked as such in
 * attendance and marks, and an exempt student's missed PE is no absence. A subject is PE when it is
 * flagged (`Subject.pe`). The older `student.peExempt` flag from the import counts as open-ended.
 */
type Id = Types.ObjectId;

const MAX_DAYS = 366;

export interface PeExemption {
  id: string;
  studentId: string;
  from: LocalDate;
  to: LocalDate;
  note?: string;
}

async function studentOf(db: Db, actor: Actor, studentId: string) {
  const s = await db.models.Person.findOne({ _id: toObjectId(studentId), schoolId: actor.schoolId, roles: 'student' }, { student: 1 }).lean();
  if (!s) throw new AccessDenied();
  return s;
}

/** R21: the class teacher of the student's class records it; the admin may too. */
async function assertCanRecord(db: Db, actor: Actor, studentId: string): Promise<Id> {
  const s = await studentOf(db, actor, studentId);
  const classId = s.student?.classId ? String(s.student.classId) : '';
  if (!isAdmin(actor) && !actor.classTeacherOf.has(classId)) throw new AccessDenied();
  return s._id;
}

export async function recordPeExemption(
  db: Db,
  actor: Actor,
  input: { studentId: string; from: string; to: string; note?: string },
  now: Date,
): Promise<PeExemption> {
  const studentId = await assertCanRecord(db, actor, input.studentId);
  const { from, to } = input;
  if (!isLocalDate(from) || !isLocalDate(to)) throw new DomainError('pe.badDates');
  if (to < from) throw new DomainError('pe.backwards', { from, to });
  if (daysBetween(from, to) > MAX_DAYS) throw new DomainError('pe.tooLong', { days: MAX_DAYS });
  const note = input.note?.trim() || undefined;
  if (note && note.length > 200) throw new DomainError('common.tooLong', { max: 200 });
  const doc = await db.models.PeExemption.create({ schoolId: actor.schoolId, studentId, from, to, note, setBy: actor.personId });
  await appendAudit(db, actor, now, {
    action: 'peExemption.set',
    entity: { type: 'peExemption', id: doc._id },
    studentId,
    before: null,
    after: { from, to },
  });
  return { id: String(doc._id), studentId: String(studentId), from, to, note };
}

/** Revokes one exemption; returns its student (for the screen to show again). */
export async function revokePeExemption(db: Db, actor: Actor, exemptionId: string, now: Date): Promise<string> {
  const e = await db.models.PeExemption.findOne({ _id: toObjectId(exemptionId), schoolId: actor.schoolId, revokedAt: null }).lean();
  if (!e) throw new DomainError('pe.gone');
  await assertCanRecord(db, actor, String(e.studentId));
  const res = await db.models.PeExemption.updateOne({ _id: e._id, revokedAt: null }, { $set: { revokedAt: now, revokedBy: actor.personId } });
  if (res.modifiedCount === 0) return String(e.studentId);
  await appendAudit(db, actor, now, {
    action: 'peExemption.revoked',
    entity: { type: 'peExemption', id: e._id },
    studentId: e.studentId,
    before: { from: e.from, to: e.to },
    after: null,
  });
  return String(e.studentId);
}

/** A student's exemptions that have not ended before `today`, for whoever may read the student. */
export async function listPeExemptions(db: Db, actor: Actor, studentId: string, today: LocalDate): Promise<PeExemption[]> {
  const s = await studentOf(db, actor, studentId);
  if (!(await canReadStudent(db, actor, s._id))) throw new AccessDenied();
  const list = await db.models.PeExemption.find({ schoolId: actor.schoolId, studentId: s._id, revokedAt: null, to: { $gte: today } }).sort({ from: 1 }).lean();
  return list.map((e) => ({ id: String(e._id), studentId: String(e.studentId), from: e.from, to: e.to, note: e.note ?? undefined }));
}

/** Of these students, those exempt from PE on `date`. */
export async function exemptOn(db: Db, schoolId: Id, studentIds: readonly (Id | string)[], date: LocalDate): Promise<Set<string>> {
  if (studentIds.length === 0) return new Set();
  const ids = studentIds.map((id) => toObjectId(id));
  const [dated, flagged] = await Promise.all([
    db.models.PeExemption.find({ schoolId, studentId: { $in: ids }, revokedAt: null, from: { $lte: date }, to: { $gte: date } }, { studentId: 1 }).lean(),
    db.models.Person.find({ schoolId, _id: { $in: ids }, 'student.peExempt': true }, { _id: 1 }).lean(),
  ]);
  return new Set([...dated.map((e) => String(e.studentId)), ...flagged.map((p) => String(p._id))]);
}

/** Flags a subject as PE or not (the CLI; imports have their own column). Audited. */
export async function setSubjectPe(db: Db, actor: Actor, subjectId: string, pe: boolean, now: Date): Promise<boolean> {
  if (!isAdmin(actor) && !actor.roles.has('deputy')) throw new AccessDenied();
  const res = await db.models.Subject.updateOne({ _id: toObjectId(subjectId), schoolId: actor.schoolId, pe: { $ne: pe } }, { $set: { pe } });
  if (res.modifiedCount === 0) return false;
  await appendAudit(db, actor, now, { action: 'subject.pe', entity: { type: 'subject', id: toObjectId(subjectId) }, before: { pe: !pe }, after: { pe } });
  return true;
}
