import type { Types } from 'mongoose';
import type { Db } from '../../db/index.js';
import type { Actor } from './actor.js';
import { AccessDenied } from '../shared/errors.js';

/**
 * Who may see what (R4). Every use case calls these with the acting person, so a forged callback
 * or command cannot skip a check that a keyboard would have made. A refusal never tells whether
 * the thing exists.
 */
type Id = Types.ObjectId | string;

export const isAdmin = (a: Actor) => a.roles.has('admin');
/** The whole school read-only: admin, deputy (R7, R27), secretary (R5). */
export const readsWholeSchool = (a: Actor) => a.roles.has('admin') || a.roles.has('deputy') || a.roles.has('secretary');

/** May the actor read this student's diary (marks, attendance, homework)? */
export async function canReadStudent(db: Db, actor: Actor, studentId: Id): Promise<boolean> {
  const student = await db.models.Person.findOne(
    { _id: studentId, schoolId: actor.schoolId, roles: 'student' },
    { student: 1 },
  ).lean();
  if (!student) return false;
  if (readsWholeSchool(actor)) return true;
  const id = String(studentId);
  if (actor.childIds.has(id)) return true;
  if (actor.roles.has('student') && actor.personId && String(actor.personId) === id) return true;
  const classId = student.student?.classId ? String(student.student.classId) : undefined;
  if (classId && actor.classTeacherOf.has(classId)) return true;
  if (classId && actor.teachesClassIds.has(classId)) return true;
  if (actor.teachesGroupIds.size > 0) {
    const inGroup = await db.models.Group.exists({
      _id: { $in: [...actor.teachesGroupIds] },
      studentIds: studentId,
    });
    if (inGroup) return true;
  }
  return false;
}

/** Class-level reading: the class teacher reads all subjects of their class (R26). */
export async function canReadClass(db: Db, actor: Actor, classId: Id): Promise<boolean> {
  const exists = await db.models.SchoolClass.exists({ _id: classId, schoolId: actor.schoolId });
  if (!exists) return false;
  const id = String(classId);
  return readsWholeSchool(actor) || actor.classTeacherOf.has(id) || actor.teachesClassIds.has(id);
}

export async function assertCanReadClass(db: Db, actor: Actor, classId: Id): Promise<void> {
  if (!(await canReadClass(db, actor, classId))) throw new AccessDenied();
}

/** Inviting families of a class (R2): its class teacher, or the admin. Staff invites: the admin only. */
export async function assertCanInviteFamiliesOf(db: Db, actor: Actor, classId: Id): Promise<void> {
  const exists = await db.models.SchoolClass.exists({ _id: classId, schoolId: actor.schoolId });
  if (!exists) throw new AccessDenied();
  if (isAdmin(actor) || actor.classTeacherOf.has(String(classId))) return;
  throw new AccessDenied();
}
