import { Types } from 'mongoose';
import type { Db } from '../../db/index.js';
import { STUDYING_STATUS } from '../shared/vocabulary.js';
import type { Actor } from '../school/actor.js';
import { toObjectId } from '../school/people.js';
import { AccessDenied, DomainError } from '../shared/errors.js';

/**
 * Who may announce to whom (issue 6, R23): a class teacher to their class (or chosen students)
 * and a teacher to the groups they teach; the deputy and the admin to any class, a grade level or
 * the whole school. Checked here, so a forged button or command cannot skip it.
 */
type Id = Types.ObjectId;

/** May the actor announce to this class: its class teacher, the deputy, the admin. */
export async function canAnnounceTo(db: Db, actor: Actor, classId: Id | string): Promise<boolean> {
  if (!actor.personId) return false;
  const id = toObjectId(classId);
  const exists = await db.models.SchoolClass.exists({ _id: id, schoolId: actor.schoolId });
  if (!exists) return false;
  if (actor.roles.has('admin') || actor.roles.has('deputy')) return true;
  return actor.roles.has('teacher') && actor.classTeacherOf.has(String(id));
}

export interface AnnounceGroup {
  groupId: string;
  /** "Английский язык 1" */
  name: string;
  className: string;
}

/**
 * May the actor announce to the parents of this group (an English group, a profile group): its
 * teacher, the class teacher of its class, the deputy, the admin. Returns the group, or undefined.
 */
export async function groupForAnnouncement(
  db: Db,
  actor: Actor,
  groupId: Id | string,
): Promise<{ _id: Id; classId: Id; name: string; studentIds: Id[] } | undefined> {
  if (!actor.personId || !Types.ObjectId.isValid(String(groupId))) return undefined;
  const group = await db.models.Group.findOne(
    { _id: toObjectId(groupId), schoolId: actor.schoolId },
    { classId: 1, name: 1, studentIds: 1 },
  ).lean();
  if (!group) return undefined;
  const allowed =
    actor.roles.has('admin') ||
    actor.roles.has('deputy') ||
    (actor.roles.has('teacher') && (actor.teachesGroupIds.has(String(group._id)) || actor.classTeacherOf.has(String(group.classId))));
  return allowed ? { _id: group._id, classId: group.classId, name: group.name, studentIds: group.studentIds ?? [] } : undefined;
}

/**
 * The groups the actor may announce to: with `classId`, that class's groups (its class teacher,
 * the deputy, the admin); without, the groups a teacher teaches.
 */
export async function announceableGroups(db: Db, actor: Actor, classId?: string): Promise<AnnounceGroup[]> {
  if (!actor.personId) throw new AccessDenied();
  let filter: Record<string, unknown>;
  if (classId !== undefined) {
    if (!(await canAnnounceTo(db, actor, classId))) throw new AccessDenied();
    filter = { schoolId: actor.schoolId, classId: toObjectId(classId) };
  } else {
    if (!actor.roles.has('teacher') || actor.teachesGroupIds.size === 0) return [];
    filter = { schoolId: actor.schoolId, _id: { $in: [...actor.teachesGroupIds].map((id) => new Types.ObjectId(id)) } };
  }
  const groups = await db.models.Group.find(filter, { name: 1, classId: 1 }).lean();
  const classes = await db.models.SchoolClass.find({ _id: { $in: groups.map((g) => g.classId) } }, { name: 1 }).lean();
  const names = new Map(classes.map((c) => [String(c._id), c.name]));
  return groups
    .map((g) => ({ groupId: String(g._id), name: g.name, className: names.get(String(g.classId)) ?? '—' }))
    .sort((a, b) => a.className.localeCompare(b.className, 'ru', { numeric: true }) || a.name.localeCompare(b.name, 'ru', { numeric: true }));
}

export interface AnnounceClass {
  classId: string;
  name: string;
}

/** The classes the actor may announce to (class teacher: theirs; deputy, admin: all). */
export async function announceableClasses(db: Db, actor: Actor): Promise<AnnounceClass[]> {
  if (!actor.personId) throw new AccessDenied();
  const all = actor.roles.has('admin') || actor.roles.has('deputy');
  const filter = all
    ? { schoolId: actor.schoolId }
    : { schoolId: actor.schoolId, _id: { $in: [...actor.classTeacherOf].map((id) => new Types.ObjectId(id)) } };
  if (!all && !actor.roles.has('teacher')) return [];
  const classes = await db.models.SchoolClass.find(filter, { name: 1, grade: 1 }).lean();
  return classes
    .sort((a, b) => (a.grade ?? 0) - (b.grade ?? 0) || a.name.localeCompare(b.name, 'ru'))
    .map((c) => ({ classId: String(c._id), name: c.name }));
}

/** Students of a class, for picking (access checked). */
export async function classStudents(db: Db, actor: Actor, classId: string): Promise<Array<{ studentId: string; name: string }>> {
  if (!(await canAnnounceTo(db, actor, classId))) throw new AccessDenied();
  const students = await db.models.Person.find(
    { schoolId: actor.schoolId, roles: 'student', 'student.classId': toObjectId(classId), 'student.status': STUDYING_STATUS },
    { firstName: 1, lastName: 1 },
  ).lean();
  return students
    .map((s) => ({ studentId: String(s._id), name: `${s.lastName} ${s.firstName}` }))
    .sort((a, b) => a.name.localeCompare(b.name, 'ru'));
}

/** The deputy and the admin announce to a grade level or the whole school; class teachers do not. */
export const canAnnounceWide = (actor: Actor) => Boolean(actor.personId) && (actor.roles.has('admin') || actor.roles.has('deputy'));

/** The grade levels of the school (for the deputy and the admin). */
export async function announceableGrades(db: Db, actor: Actor): Promise<number[]> {
  if (!canAnnounceWide(actor)) throw new AccessDenied();
  const grades = await db.models.SchoolClass.distinct('grade', { schoolId: actor.schoolId });
  return (grades as unknown[]).filter((g): g is number => typeof g === 'number').sort((a, b) => a - b);
}

/** The classes of the audience: one class, a grade level's classes or all; access checked. */
export async function audienceClasses(
  db: Db,
  actor: Actor,
  input: { classId?: string; groupId?: string; grade?: number; wholeSchool?: boolean; studentIds?: string[] },
): Promise<{ classIds: Id[]; groupStudents?: Id[] }> {
  const kinds = [input.classId !== undefined, input.groupId !== undefined, input.grade !== undefined, input.wholeSchool === true].filter(
    Boolean,
  ).length;
  if (kinds !== 1) throw new AccessDenied();
  if (input.groupId !== undefined) {
    // A group's parents: the group's students only (chosen students belong to a class announcement).
    const group = await groupForAnnouncement(db, actor, input.groupId);
    if (!group || input.studentIds?.length) throw new AccessDenied();
    if (group.studentIds.length === 0) throw new DomainError('announce.errors.noFamilies');
    return { classIds: [group.classId], groupStudents: group.studentIds };
  }
  if (input.classId !== undefined) {
    if (!(await canAnnounceTo(db, actor, input.classId))) throw new AccessDenied();
    return { classIds: [toObjectId(input.classId)] };
  }
  // Chosen students belong to a class announcement only.
  if (!canAnnounceWide(actor) || input.studentIds?.length) throw new AccessDenied();
  const filter = input.wholeSchool ? { schoolId: actor.schoolId } : { schoolId: actor.schoolId, grade: input.grade };
  const classes = await db.models.SchoolClass.find(filter, { _id: 1 }).lean();
  if (classes.length === 0) throw new DomainError('announce.errors.noFamilies');
  return { classIds: classes.map((c) => c._id) };
}
