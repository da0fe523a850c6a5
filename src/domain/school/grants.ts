import type { Db } from '../../db/index.js';
import type { Actor } from './actor.js';
import { appendAudit } from './audit.js';
import { daysBetween, isLocalDate, type LocalDate } from '../shared/calendar.js';
import { AccessDenied, DomainError } from '../shared/errors.js';
import { fullName, toObjectId } from './people.js';

/**
 * R7: the deputy (or the admin) gives a substitute teacher access to a class's lessons (optionally
 * one subject) for a date range. The grant is what `lessonRights` checks; it is recorded in the audit.
 */
export const GRANT_MAX_DAYS = 92;

function assertDeputy(actor: Actor): void {
  if (!actor.roles.has('deputy') && !actor.roles.has('admin')) throw new AccessDenied();
}

export async function grantAccess(
  db: Db,
  actor: Actor,
  input: { teacherId: string; classId: string; subjectId?: string; from: LocalDate; to: LocalDate },
  now: Date,
): Promise<{ grantId: string }> {
  assertDeputy(actor);
  if (!isLocalDate(input.from) || !isLocalDate(input.to) || input.from > input.to) throw new DomainError('journal.badRange');
  if (daysBetween(input.from, input.to) > GRANT_MAX_DAYS) throw new DomainError('journal.rangeTooLong', { max: GRANT_MAX_DAYS });
  const teacherId = toObjectId(input.teacherId);
  const classId = toObjectId(input.classId);
  const subjectId = input.subjectId ? toObjectId(input.subjectId) : null;
  const [teacher, cls, subject] = await Promise.all([
    db.models.Person.exists({ _id: teacherId, schoolId: actor.schoolId, roles: 'teacher', active: { $ne: false } }),
    db.models.SchoolClass.exists({ _id: classId, schoolId: actor.schoolId }),
    subjectId ? db.models.Subject.exists({ _id: subjectId, schoolId: actor.schoolId }) : true,
  ]);
  if (!teacher || !cls || !subject) throw new AccessDenied();
  const grant = await db.models.AccessGrant.create({
    schoolId: actor.schoolId,
    teacherId,
    classId,
    subjectId,
    from: input.from,
    to: input.to,
    grantedBy: actor.personId ?? actor.schoolId,
  });
  await appendAudit(db, actor, now, {
    action: 'grant.created',
    entity: { type: 'accessGrant', id: grant._id },
    before: null,
    after: { teacherId: input.teacherId, classId: input.classId, subjectId: input.subjectId ?? null, from: input.from, to: input.to },
  });
  return { grantId: String(grant._id) };
}

export async function revokeGrant(db: Db, actor: Actor, grantId: string, now: Date): Promise<void> {
  assertDeputy(actor);
  const grant = await db.models.AccessGrant.findOneAndUpdate(
    { _id: toObjectId(grantId), schoolId: actor.schoolId, revokedAt: null },
    { $set: { revokedAt: now } },
  ).lean();
  if (!grant) return;
  await appendAudit(db, actor, now, {
    action: 'grant.revoked',
    entity: { type: 'accessGrant', id: grant._id },
    before: { from: grant.from, to: grant.to },
    after: { revokedAt: now.toISOString() },
  });
}

/** Teachers the deputy can pick for a grant. */
export async function listTeachers(db: Db, actor: Actor): Promise<Array<{ id: string; name: string }>> {
  assertDeputy(actor);
  const people = await db.models.Person.find(
    { schoolId: actor.schoolId, roles: 'teacher', active: { $ne: false } },
    { firstName: 1, lastName: 1, middleName: 1 },
  ).lean();
  return people
    .map((p) => ({ id: String(p._id), name: fullName(p) }))
    .sort((a, b) => a.name.localeCompare(b.name, 'ru'));
}

/** Classes of the school, for pickers (staff who read the whole school, or their own classes). */
export async function listClasses(db: Db, actor: Actor): Promise<Array<{ id: string; name: string }>> {
  const all = actor.roles.has('admin') || actor.roles.has('deputy') || actor.roles.has('secretary');
  const ids = [...new Set([...actor.classTeacherOf, ...actor.teachesClassIds])];
  if (!all && ids.length === 0) return [];
  const filter = all ? { schoolId: actor.schoolId } : { schoolId: actor.schoolId, _id: { $in: ids.map((i) => toObjectId(i)) } };
  const classes = await db.models.SchoolClass.find(filter, { name: 1, grade: 1, letter: 1 }).lean();
  return classes
    .sort((a, b) => a.grade - b.grade || a.letter.localeCompare(b.letter, 'ru'))
    .map((c) => ({ id: String(c._id), name: c.name }));
}

/** Students of a class, for the history picker (staff who read the class). */
export async function listClassStudents(db: Db, actor: Actor, classId: string): Promise<Array<{ id: string; name: string }>> {
  const id = toObjectId(classId);
  const all = actor.roles.has('admin') || actor.roles.has('deputy');
  if (!all && !actor.classTeacherOf.has(classId)) throw new AccessDenied();
  const cls = await db.models.SchoolClass.exists({ _id: id, schoolId: actor.schoolId });
  if (!cls) throw new AccessDenied();
  const people = await db.models.Person.find(
    { schoolId: actor.schoolId, roles: 'student', 'student.classId': id },
    { firstName: 1, lastName: 1 },
  ).lean();
  return people
    .map((p) => ({ id: String(p._id), name: `${p.lastName} ${p.firstName}` }))
    .sort((a, b) => a.name.localeCompare(b.name, 'ru'));
}
