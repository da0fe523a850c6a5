import type { Types } from 'mongoose';
import type { Db } from '../../db/index.js';
import { isAdmin, readsWholeSchool } from '../school/access.js';
import type { Actor } from '../school/actor.js';
import { fullDate, type LocalDate } from '../shared/calendar.js';
import { AccessDenied, DomainError } from '../shared/errors.js';
import { markDeadline, type SchoolRules, type WorkKind } from '../school/rules.js';
import { isLocked } from './locks.js';
import { shortName } from '../school/people.js';
import { assertDateWritable } from '../year/read-only.js';
import type { EditFacts } from './lesson-bundle.js';

/**
 * Who may do what with one lesson. Every journal use case calls `assertCanEditLesson` itself, so a
 * forged or replayed button is refused here, not in a keyboard.
 *
 * Edit: the lesson's teacher; the substitute of that date (R7); a teacher with an AccessGrant for
 * the class (and subject) and date (R7); the admin (also after the lock, with a reason: R14).
 * Read: the above, the class teacher of the class (R26), teachers of the class, the deputy,
 * secretary and admin. The deputy also cancels lessons (R7) and reads the history (R31).
 */
type Id = Types.ObjectId;

export interface LessonRef {
  _id: Id;
  schoolId: Id;
  date: string;
  slotId?: Id | null;
  classId: Id;
  groupId?: Id | null;
  subjectId: Id;
  teacherId: Id;
  substituteId?: Id | null;
  status?: string | null;
  lockedAt?: Date | null;
}

export interface LessonRights {
  read: boolean;
  edit: boolean;
  /** Cancel a lesson that did not take place (R7). */
  cancel: boolean;
  /** Read the audit trail (R31). */
  history: boolean;
  /** Set absence reasons (R20): class teacher, deputy, admin. */
  reasons: boolean;
}

const NONE: LessonRights = { read: false, edit: false, cancel: false, history: false, reasons: false };

/** `facts`: read with the lesson (lesson-bundle.ts) — the same rules, no further query. */
export async function lessonRights(db: Db, actor: Actor, lesson: LessonRef, facts?: EditFacts): Promise<LessonRights> {
  if (String(lesson.schoolId) !== String(actor.schoolId)) return NONE;
  if (isAdmin(actor)) return { read: true, edit: true, cancel: true, history: true, reasons: true };
  const deputy = actor.roles.has('deputy');
  const classId = String(lesson.classId);
  const classTeacher = actor.classTeacherOf.has(classId);
  const rights: LessonRights = {
    read: readsWholeSchool(actor) || classTeacher || actor.teachesClassIds.has(classId),
    edit: await isLessonEditor(db, actor, lesson, facts),
    cancel: deputy,
    history: deputy,
    reasons: deputy || classTeacher,
  };
  if (rights.edit) rights.read = true;
  return rights;
}

async function isLessonEditor(db: Db, actor: Actor, lesson: LessonRef, facts?: EditFacts): Promise<boolean> {
  const me = actor.personId ? String(actor.personId) : undefined;
  if (!me || !actor.roles.has('teacher')) return false;
  if (String(lesson.teacherId) === me || (lesson.substituteId && String(lesson.substituteId) === me)) return true;
  if (facts) return (Boolean(lesson.slotId) && facts.substitute) || facts.grant;
  if (lesson.slotId) {
    const substitute = await db.models.Substitution.exists({ slotId: lesson.slotId, date: lesson.date, substituteId: me });
    if (substitute) return true;
  }
  return Boolean(await activeGrant(db, actor, lesson));
}

function activeGrant(db: Db, actor: Actor, lesson: LessonRef) {
  return db.models.AccessGrant.exists({
    schoolId: actor.schoolId,
    teacherId: actor.personId,
    classId: lesson.classId,
    from: { $lte: lesson.date },
    to: { $gte: lesson.date },
    revokedAt: null,
    $or: [{ subjectId: null }, { subjectId: lesson.subjectId }],
  });
}

/** Names of the people who can help (admin, deputy), for a refusal that says whom to ask. */
export async function helpers(db: Db, schoolId: Id, role: 'admin' | 'deputy'): Promise<string> {
  const people = await db.models.Person.find(
    { schoolId, roles: role, active: { $ne: false } },
    { firstName: 1, lastName: 1 },
  )
    .limit(2)
    .lean();
  return people.map(shortName).join(', ') || '—';
}

export type EditWhat = 'attendance' | 'marks' | 'topic' | 'homework' | 'reasons';

export interface EditOptions {
  what: EditWhat;
  rules: SchoolRules;
  today: LocalDate;
  /** The admin's reason for changing a locked lesson (R14). */
  reason?: string;
  /** Only preparing (an attendance draft): the admin is asked for the reason at Save. */
  draft?: boolean;
  /** A new mark of this kind: the R13 deadline applies. */
  newMarkKind?: WorkKind;
  /** R18: the class teacher enters marks for a student taught at home, in any subject, weekly. */
  homeStudentOfClassTeacher?: boolean;
  /** Read with the lesson in one round trip (lesson-bundle.ts); without them the check reads its own. */
  facts?: EditFacts;
}

/**
 * Throws a DomainError that says why and whom to ask, or returns the admin's override reason
 * (set when a locked lesson is being changed, for the audit entry).
 */
export async function assertCanEditLesson(
  db: Db,
  actor: Actor,
  lesson: LessonRef,
  opts: EditOptions,
): Promise<{ lockedOverride: boolean }> {
  if (String(lesson.schoolId) !== String(actor.schoolId)) throw new AccessDenied();
  // R30: a lesson of a closed year is read-only for everyone, the admin included.
  if (!opts.facts) await assertDateWritable(db, lesson.schoolId, lesson.date);
  else if (opts.facts.archivedYear) throw new DomainError('year.readOnly', { name: opts.facts.archivedYear.name });
  const rights = await lessonRights(db, actor, lesson, opts.facts);
  const allowed = opts.what === 'reasons' ? rights.reasons : rights.edit || Boolean(opts.homeStudentOfClassTeacher);
  if (!allowed) {
    if (opts.what === 'reasons') throw new DomainError('journal.notYourClass');
    throw new DomainError('journal.notYours', { helpers: await helpers(db, actor.schoolId, 'deputy') });
  }
  const takesPlace = opts.what === 'attendance' || opts.what === 'marks' || opts.what === 'reasons';
  if (takesPlace && lesson.status === 'cancelled') throw new DomainError('journal.cancelled');
  // R10: topics and homework may be entered in advance; attendance and marks only once the lesson is due.
  if (takesPlace && lesson.date > opts.today) throw new DomainError('journal.notYet', { date: fullDate(lesson.date) });
  const locked = isLocked(lesson, opts.rules, opts.today);
  if (locked) {
    if (!isAdmin(actor)) {
      throw new DomainError('lock.locked', {
        date: fullDate(lesson.date),
        days: opts.rules.lockAfterDays,
        helpers: await helpers(db, actor.schoolId, 'admin'),
      });
    }
    if (!opts.draft && !opts.reason?.trim()) throw new DomainError('lock.reasonRequired');
  }
  // R13: deadlines bind teachers; the admin (who corrects after the fact) is not bound by them.
  // R18: for a student taught at home the class teacher has the week, i.e. until the lock.
  if (opts.newMarkKind && !isAdmin(actor) && !opts.homeStudentOfClassTeacher) {
    const due = markDeadline(lesson.date, opts.newMarkKind, opts.rules);
    if (opts.today > due) {
      throw new DomainError('marks.deadline', {
        date: fullDate(due),
        days: opts.newMarkKind.written ? opts.rules.writtenWorkDueDays : opts.rules.classWorkDueDays,
        helpers: await helpers(db, actor.schoolId, 'admin'),
      });
    }
  }
  return { lockedOverride: locked };
}

export async function assertCanReadLesson(db: Db, actor: Actor, lesson: LessonRef, facts?: EditFacts): Promise<LessonRights> {
  const rights = await lessonRights(db, actor, lesson, facts);
  if (!rights.read) throw new AccessDenied();
  return rights;
}
