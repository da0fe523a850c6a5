import { Types } from 'mongoose';
import type { Db } from '../../db/index.js';
import type { MessageThreadDoc } from '../../db/models/messaging.js';
import type { Actor } from '../school/actor.js';
import { toObjectId } from '../school/people.js';
import { AccessDenied } from '../shared/errors.js';

/**
 * Who may write to whom (R3, R24), following the timetable's truth: a family writes only to the
 * class teacher or a teacher who teaches the child (teaching load of the child's class or
 * groups); a teacher writes only to the family of a child they teach. And how each side of a
 * thread is named to the other: by role and name ("Mother of Ivanova Anna, 5B", "Teacher of
 * Mathematics Petrova A. I.") — never a phone, a username or a Telegram id.
 */
type Id = Types.ObjectId;

/** The two sides of a thread: the family member (a parent, or the student themself) and the teacher. */
export type Side = 'family' | 'teacher';

export const otherSide = (side: Side): Side => (side === 'family' ? 'teacher' : 'family');

/** An i18n key with its variables: each face renders it in its reader's language. */
export interface Label {
  key: string;
  vars: Record<string, string | string[]>;
}

export interface TeacherOption {
  teacherId: string;
  name: string;
  classTeacher: boolean;
  subjects: string[];
}

// ───────────────────────────── who teaches whom ─────────────────────────────

interface StudentInfo {
  _id: Id;
  firstName: string;
  lastName: string;
  classId?: Id;
}

export async function studentOf(db: Db, schoolId: Id, studentId: Id): Promise<StudentInfo | undefined> {
  const s = await db.models.Person.findOne(
    { _id: studentId, schoolId, roles: 'student' },
    { firstName: 1, lastName: 1, student: 1 },
  ).lean();
  if (!s) return undefined;
  return { _id: s._id, firstName: s.firstName, lastName: s.lastName, classId: s.student?.classId ?? undefined };
}

/** Teachers of a student: the class teacher and everyone with teaching load in the class or the student's groups. */
export async function teachersOf(db: Db, schoolId: Id, student: StudentInfo): Promise<Map<string, { classTeacher: boolean; subjectIds: Set<string> }>> {
  const out = new Map<string, { classTeacher: boolean; subjectIds: Set<string> }>();
  if (!student.classId) return out;
  const entry = (id: Id) => {
    let e = out.get(String(id));
    if (!e) {
      e = { classTeacher: false, subjectIds: new Set() };
      out.set(String(id), e);
    }
    return e;
  };
  const [cls, groups, load] = await Promise.all([
    db.models.SchoolClass.findOne({ _id: student.classId, schoolId }, { classTeacherId: 1 }).lean(),
    db.models.Group.find({ schoolId, studentIds: student._id }, { _id: 1 }).lean(),
    db.models.TeachingLoad.find({ schoolId, classId: student.classId }, { groupId: 1, subjectId: 1, teacherId: 1 }).lean(),
  ]);
  if (cls?.classTeacherId) entry(cls.classTeacherId).classTeacher = true;
  const myGroups = new Set(groups.map((g) => String(g._id)));
  for (const l of load) {
    if (l.groupId && !myGroups.has(String(l.groupId))) continue;
    entry(l.teacherId).subjectIds.add(String(l.subjectId));
  }
  return out;
}

/** Is the actor the family side for this student: a parent of the child, or the student themself? */
export function isFamilyOf(actor: Actor, studentId: Id): boolean {
  const id = String(studentId);
  if (actor.roles.has('parent') && actor.childIds.has(id)) return true;
  return actor.roles.has('student') && String(actor.personId) === id;
}

const initials = (p: { firstName?: string | null; middleName?: string | null }) =>
  [p.firstName, p.middleName].filter(Boolean).map((n) => `${String(n).charAt(0)}.`).join(' ');

/** "Petrova A. I." */
export const teacherName = (p: { lastName: string; firstName?: string | null; middleName?: string | null }) =>
  [p.lastName, initials(p)].filter(Boolean).join(' ');

/** The teachers a parent (or the student) may write to about this child. */
export async function listWritableTeachers(db: Db, actor: Actor, studentId: string): Promise<TeacherOption[]> {
  const sid = toObjectId(studentId);
  if (!actor.personId || !isFamilyOf(actor, sid)) throw new AccessDenied();
  const student = await studentOf(db, actor.schoolId, sid);
  if (!student) throw new AccessDenied();
  const teachers = await teachersOf(db, actor.schoolId, student);
  if (teachers.size === 0) return [];
  const ids = [...teachers.keys()].map((id) => new Types.ObjectId(id));
  const subjectIds = [...new Set([...teachers.values()].flatMap((t) => [...t.subjectIds]))].map((id) => new Types.ObjectId(id));
  const [persons, subjects] = await Promise.all([
    db.models.Person.find({ _id: { $in: ids } }, { schoolId: 1, firstName: 1, lastName: 1, middleName: 1, active: 1 }).lean(),
    db.models.Subject.find({ _id: { $in: subjectIds } }, { name: 1 }).lean(),
  ]);
  const subjectName = new Map(subjects.map((s) => [String(s._id), s.name]));
  return persons
    .filter((p) => String(p.schoolId) === String(actor.schoolId) && p.active !== false)
    .map((p) => {
      const t = teachers.get(String(p._id));
      return {
        teacherId: String(p._id),
        name: teacherName(p),
        classTeacher: t?.classTeacher ?? false,
        subjects: [...(t?.subjectIds ?? [])].map((id) => subjectName.get(id) ?? '—').sort(),
      };
    })
    .sort((a, b) => Number(b.classTeacher) - Number(a.classTeacher) || a.name.localeCompare(b.name, 'ru'));
}

// ───────────────────────────── labels ─────────────────────────────

export async function className(db: Db, classId: Id | undefined): Promise<string> {
  if (!classId) return '—';
  const cls = await db.models.SchoolClass.findById(classId, { name: 1 }).lean();
  return cls?.name ?? '—';
}

/** How one side of a thread is named to the other. */
export async function labelOf(db: Db, thread: MessageThreadDoc, side: Side): Promise<Label> {
  const student = await studentOf(db, thread.schoolId, thread.studentId);
  const studentName = student ? `${student.lastName} ${student.firstName}` : '—';
  // What the thread is about: the subjects the teacher teaches the child, or the class teacher's role.
  const info = student ? (await teachersOf(db, thread.schoolId, student)).get(String(thread.teacherId)) : undefined;
  const subjectIds = [...(info?.subjectIds ?? [])];
  const subjects = subjectIds.length
    ? (await db.models.Subject.find({ _id: { $in: subjectIds.map((id) => new Types.ObjectId(id)) } }, { name: 1 }).lean())
        .map((s) => s.name)
        .sort()
    : [];
  // The class teacher is named as such (in a primary class they teach nearly every subject);
  // a subject teacher by at most two subjects.
  const about = info?.classTeacher ? 'Class' : subjects.length > 0 ? 'Subjects' : '';
  const shown = subjects.length > 2 ? [...subjects.slice(0, 2), `+${subjects.length - 2}`] : subjects;
  if (side === 'family') {
    const cls = await className(db, student?.classId);
    if (String(thread.parentId) === String(thread.studentId)) {
      return { key: `messaging.header.student${about}`, vars: { student: studentName, className: cls, subjects: shown } };
    }
    const g = await db.models.Guardianship.findOne(
      { schoolId: thread.schoolId, parentId: thread.parentId, studentId: thread.studentId },
      { relation: 1 },
    ).lean();
    return {
      key: `messaging.header.family${about}`,
      vars: { relation: `messaging.relation.${g?.relation ?? 'guardian'}`, student: studentName, className: cls, subjects: shown },
    };
  }
  const teacher = await db.models.Person.findById(thread.teacherId, { firstName: 1, lastName: 1, middleName: 1 }).lean();
  const name = teacher ? teacherName(teacher) : '—';
  if (info?.classTeacher) return { key: 'messaging.header.classTeacher', vars: { name } };
  if (subjects.length > 0) return { key: 'messaging.header.subjectTeacher', vars: { subjects: shown, name } };
  return { key: 'messaging.header.teacher', vars: { name } };
}

// ───────────────────────────── a teacher finds a family ─────────────────────────────

export interface Option {
  id: string;
  name: string;
}

/** The classes a teacher leads or teaches, by name. */
export async function listTeachingClasses(db: Db, actor: Actor): Promise<Option[]> {
  if (!actor.personId || !actor.roles.has('teacher')) throw new AccessDenied();
  const [led, load] = await Promise.all([
    db.models.SchoolClass.find({ schoolId: actor.schoolId, classTeacherId: actor.personId }, { _id: 1 }).lean(),
    db.models.TeachingLoad.find({ schoolId: actor.schoolId, teacherId: actor.personId }, { classId: 1 }).lean(),
  ]);
  const ids = [...new Set([...led.map((c) => String(c._id)), ...load.map((l) => String(l.classId))])];
  const classes = await db.models.SchoolClass.find(
    { _id: { $in: ids.map((id) => new Types.ObjectId(id)) }, schoolId: actor.schoolId },
    { name: 1 },
  ).lean();
  return classes
    .map((c) => ({ id: String(c._id), name: c.name }))
    .sort((a, b) => a.name.localeCompare(b.name, 'ru', { numeric: true }));
}

/** The students of a class whom the teacher teaches (all of them for its class teacher). */
export async function listTaughtStudents(db: Db, actor: Actor, classId: string): Promise<Option[]> {
  if (!actor.personId || !actor.roles.has('teacher')) throw new AccessDenied();
  const cid = toObjectId(classId);
  const students = await db.models.Person.find(
    { schoolId: actor.schoolId, roles: 'student', 'student.classId': cid, active: { $ne: false } },
    { firstName: 1, lastName: 1, student: 1 },
  ).lean();
  const me = String(actor.personId);
  const out: Option[] = [];
  for (const s of students) {
    const info = { _id: s._id, firstName: s.firstName, lastName: s.lastName, classId: cid };
    if ((await teachersOf(db, actor.schoolId, info)).has(me)) out.push({ id: String(s._id), name: `${s.lastName} ${s.firstName}` });
  }
  if (out.length === 0) throw new AccessDenied();
  return out.sort((a, b) => a.name.localeCompare(b.name, 'ru'));
}

export interface FamilyContact {
  personId: string;
  label: Label;
  /** In the bot (bound to Telegram): only they can receive a message. */
  joined: boolean;
}

export interface FamilyCard {
  student: string;
  className: string;
  contacts: FamilyContact[];
}

/**
 * The student's card as a teacher who teaches them sees it for writing: the class and the
 * guardians by relation and name (never a phone or a Telegram id), each marked joined or not.
 */
export async function listFamilyContacts(db: Db, actor: Actor, studentId: string): Promise<FamilyCard> {
  if (!actor.personId || !actor.roles.has('teacher')) throw new AccessDenied();
  const student = await studentOf(db, actor.schoolId, toObjectId(studentId));
  if (!student) throw new AccessDenied();
  if (!(await teachersOf(db, actor.schoolId, student)).has(String(actor.personId))) throw new AccessDenied();
  const links = await db.models.Guardianship.find({ schoolId: actor.schoolId, studentId: student._id }, { parentId: 1, relation: 1 }).lean();
  const [parents, cls] = await Promise.all([
    db.models.Person.find(
      { _id: { $in: links.map((l) => l.parentId) }, schoolId: actor.schoolId, active: { $ne: false } },
      { firstName: 1, lastName: 1, middleName: 1, telegramId: 1 },
    ).lean(),
    className(db, student.classId),
  ]);
  const byId = new Map(parents.map((p) => [String(p._id), p]));
  const contacts: FamilyContact[] = [];
  for (const l of links) {
    const p = byId.get(String(l.parentId));
    if (!p) continue;
    contacts.push({
      personId: String(p._id),
      label: { key: 'messaging.teacherWrite.contact', vars: { relation: `messaging.relation.${l.relation ?? 'guardian'}`, name: teacherName(p) } },
      joined: typeof p.telegramId === 'number',
    });
  }
  return { student: `${student.lastName} ${student.firstName}`, className: cls, contacts };
}
