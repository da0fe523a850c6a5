import type { Types } from 'mongoose';
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

/**
 * Ends a grant at once (R7): the substitute loses the class's lessons with the next press, since
 * every journal use case checks the grant. Revoking one already revoked (or another school's) is a
 * no-op that says nothing; recorded in the audit trail (R31).
 */
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

export interface GrantView {
  grantId: string;
  teacherName: string;
  className: string;
  subjectName?: string;
  from: LocalDate;
  to: LocalDate;
}

/** Not revoked and not ended before `today`: in force now or still to come. */
const activeOn = (actor: Actor, today: LocalDate) => ({ schoolId: actor.schoolId, revokedAt: null, to: { $gte: today } });
const GRANT_ROW = { teacherId: 1, classId: 1, subjectId: 1, from: 1, to: 1 } as const;

interface GrantRow {
  _id: Types.ObjectId;
  teacherId: Types.ObjectId;
  classId: Types.ObjectId;
  subjectId?: Types.ObjectId | null;
  from: string;
  to: string;
}

/** Names each grant's teacher, class and subject. */
async function describeGrants(db: Db, actor: Actor, grants: GrantRow[]): Promise<GrantView[]> {
  const { Person, SchoolClass, Subject } = db.models;
  const schoolId = actor.schoolId;
  const [teachers, classes, subjects] = await Promise.all([
    Person.find({ schoolId, _id: { $in: grants.map((g) => g.teacherId) } }, { firstName: 1, lastName: 1, middleName: 1 }).lean(),
    SchoolClass.find({ schoolId, _id: { $in: grants.map((g) => g.classId) } }, { name: 1 }).lean(),
    Subject.find({ schoolId, _id: { $in: grants.flatMap((g) => (g.subjectId ? [g.subjectId] : [])) } }, { name: 1 }).lean(),
  ]);
  const teacher = new Map(teachers.map((p) => [String(p._id), fullName(p)]));
  const cls = new Map(classes.map((c) => [String(c._id), c.name]));
  const subject = new Map(subjects.map((x) => [String(x._id), x.name]));
  return grants.map((g) => ({
    grantId: String(g._id),
    teacherName: teacher.get(String(g.teacherId)) ?? '—',
    className: cls.get(String(g.classId)) ?? '—',
    subjectName: g.subjectId ? subject.get(String(g.subjectId)) : undefined,
    from: g.from,
    to: g.to,
  }));
}

/** The grants in force or to come, for the deputy (or the admin) to review and revoke (R7). */
export async function listActiveGrants(db: Db, actor: Actor, today: LocalDate): Promise<GrantView[]> {
  assertDeputy(actor);
  const grants = await db.models.AccessGrant.find(activeOn(actor, today), GRANT_ROW).lean();
  if (grants.length === 0) return [];
  return (await describeGrants(db, actor, grants)).sort(
    (a, b) => a.from.localeCompare(b.from) || a.teacherName.localeCompare(b.teacherName, 'ru') || a.grantId.localeCompare(b.grantId),
  );
}

/** One active grant, for the revoke confirmation; one revoked or ended meanwhile is `journal.grantGone`. */
export async function getActiveGrant(db: Db, actor: Actor, grantId: string, today: LocalDate): Promise<GrantView> {
  assertDeputy(actor);
  const grant = await db.models.AccessGrant.findOne({ _id: toObjectId(grantId), ...activeOn(actor, today) }, GRANT_ROW).lean();
  const [view] = grant ? await describeGrants(db, actor, [grant]) : [];
  if (!view) throw new DomainError('journal.grantGone');
  return view;
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
