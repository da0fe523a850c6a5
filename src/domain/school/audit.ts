import type { Types } from 'mongoose';
import type { Db } from '../../db/index.js';
import type { Actor } from './actor.js';
import { AccessDenied } from '../shared/errors.js';
import { fullName, studentsOfClass, toObjectId } from './people.js';

/**
 * The audit trail (R31: who changed what, when, before/after, and why).
 *
 * `appendAudit` is the only write path to AuditEntry in the journal: it inserts and nothing else.
 * No code updates or deletes an entry (a test scans the sources for it).
 */
type Id = Types.ObjectId;

export interface AuditInput {
  action: string;
  entity: { type: string; id?: Id };
  lessonId?: Id;
  studentId?: Id;
  before?: unknown;
  after?: unknown;
  reason?: string;
}

/** The role the actor acted in, for the record (the strongest one they hold). */
function actingRole(actor: Actor): string {
  for (const r of ['admin', 'deputy', 'secretary', 'teacher'] as const) if (actor.roles.has(r)) return r;
  return [...actor.roles][0] ?? 'system';
}

export async function appendAudit(db: Db, actor: Actor, at: Date, input: AuditInput | AuditInput[]): Promise<void> {
  const list = Array.isArray(input) ? input : [input];
  if (list.length === 0) return;
  const docs = list.map((e) => ({
    schoolId: actor.schoolId,
    at,
    actorId: actor.personId,
    actorRole: actingRole(actor),
    via: actor.via,
    action: e.action,
    entity: e.entity,
    lessonId: e.lessonId,
    studentId: e.studentId,
    before: e.before ?? null,
    after: e.after ?? null,
    reason: e.reason,
  }));
  await db.models.AuditEntry.insertMany(docs, { ordered: true });
}

export interface AuditView {
  id: string;
  at: Date;
  action: string;
  actorName?: string;
  actorRole?: string;
  via: string;
  studentName?: string;
  lessonId?: string;
  before: unknown;
  after: unknown;
  reason?: string;
}

export interface AuditPage {
  /** The school's time zone, to show times as the school reads them. */
  timezone: string;
  entries: AuditView[];
  page: number;
  pages: number;
  total: number;
}

export const AUDIT_PAGE_SIZE = 8;

/** Reading the trail: the admin and the deputy (R27, R31). */
function assertCanReadAudit(actor: Actor): void {
  if (!actor.roles.has('admin') && !actor.roles.has('deputy')) throw new AccessDenied();
}

async function page(db: Db, filter: Record<string, unknown>, pageNo: number, size: number): Promise<AuditPage> {
  const { AuditEntry, Person } = db.models;
  const total = await AuditEntry.countDocuments(filter);
  const pages = Math.max(1, Math.ceil(total / size));
  const p = Math.min(Math.max(0, pageNo), pages - 1);
  const rows = await AuditEntry.find(filter)
    .sort({ at: -1, _id: -1 })
    .skip(p * size)
    .limit(size)
    .lean();
  const personIds = [...new Set(rows.flatMap((r) => [r.actorId, r.studentId]).filter(Boolean).map(String))];
  const persons = personIds.length
    ? await Person.find({ _id: { $in: personIds } }, { lastName: 1, firstName: 1, middleName: 1 }).lean()
    : [];
  const names = new Map(persons.map((x) => [String(x._id), fullName(x)]));
  const school = await db.models.School.findById(filter.schoolId, { timezone: 1 }).lean();
  return {
    timezone: school?.timezone ?? 'UTC',
    page: p,
    pages,
    total,
    entries: rows.map((r) => ({
      id: String(r._id),
      at: r.at,
      action: r.action,
      actorName: r.actorId ? names.get(String(r.actorId)) : undefined,
      actorRole: r.actorRole ?? undefined,
      via: r.via,
      studentName: r.studentId ? names.get(String(r.studentId)) : undefined,
      lessonId: r.lessonId ? String(r.lessonId) : undefined,
      before: r.before,
      after: r.after,
      reason: r.reason ?? undefined,
    })),
  };
}

/** The trail of one lesson or one student of the actor's school, newest first, paged. */
async function historyOf(
  db: Db,
  actor: Actor,
  about: { lessonId: string } | { studentId: string },
  pageNo: number,
  size: number,
): Promise<AuditPage> {
  assertCanReadAudit(actor);
  const { schoolId } = actor;
  if ('lessonId' in about) {
    const lessonId = toObjectId(about.lessonId);
    if (!(await db.models.Lesson.exists({ _id: lessonId, schoolId }))) throw new AccessDenied();
    return page(db, { schoolId, lessonId }, pageNo, size);
  }
  const studentId = toObjectId(about.studentId);
  if (!(await db.models.Person.exists({ _id: studentId, schoolId, roles: 'student' }))) throw new AccessDenied();
  return page(db, { schoolId, studentId }, pageNo, size);
}

/** History of one lesson, newest first, paged. */
export const lessonHistory = (db: Db, actor: Actor, lessonId: string, pageNo = 0, size = AUDIT_PAGE_SIZE): Promise<AuditPage> =>
  historyOf(db, actor, { lessonId }, pageNo, size);

/** History of one student (marks, absences, period marks), newest first, paged. */
export const studentHistory = (db: Db, actor: Actor, studentId: string, pageNo = 0, size = AUDIT_PAGE_SIZE): Promise<AuditPage> =>
  historyOf(db, actor, { studentId }, pageNo, size);

/**
 * The students of a class to pick a history from: everyone ever listed in it, those who left too
 * (their trail stays readable). The admin and the deputy; a class teacher, their class.
 */
export async function historyStudentsOfClass(db: Db, actor: Actor, classId: string): Promise<Array<{ id: string; name: string }>> {
  const id = toObjectId(classId);
  const all = actor.roles.has('admin') || actor.roles.has('deputy');
  if (!all && !actor.classTeacherOf.has(classId)) throw new AccessDenied();
  const cls = await db.models.SchoolClass.exists({ _id: id, schoolId: actor.schoolId });
  if (!cls) throw new AccessDenied();
  const students = await studentsOfClass(db, actor.schoolId, id, { includeLeft: true });
  return students
    .map((p) => ({ id: p.studentId, name: `${p.lastName} ${p.firstName}` }))
    .sort((a, b) => a.name.localeCompare(b.name, 'ru'));
}
