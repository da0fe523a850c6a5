import { Types } from 'mongoose';
import type { Db } from '../../db/index.js';
import { type Role, STUDYING_STATUS } from '../shared/vocabulary.js';
import { assertCanReadClass, canReadStudent, readsWholeSchool } from './access.js';
import type { Actor } from './actor.js';
import { appendAudit } from './audit.js';
import { AccessDenied, DomainError } from '../shared/errors.js';

/**
 * Reading the school's people, always as an actor (R4). Personal data leaves this module only for
 * the actor it belongs to (or staff with access); callers must not log what these functions return.
 */

/** Bumped when the text of what we keep and why (privacy.*) changes materially: everyone re-accepts. */
export const CONSENT_VERSION = 1;
/** Roles that must accept the 152-FZ notice before they see anything of the children (R32). */
const FAMILY_ROLES: readonly Role[] = ['parent', 'student'];

interface NameParts {
  lastName: string;
  firstName: string;
  middleName?: string | null;
}

/** "Иванова Мария Петровна": the official order, used on documents and staff screens. */
export const fullName = (p: NameParts) => [p.lastName, p.firstName, p.middleName].filter(Boolean).join(' ');
/** "Маша Иванова" order for lists a family reads: first name, then last name. */
export const shortName = (p: NameParts) => [p.firstName, p.lastName].filter(Boolean).join(' ');

const OBJECT_ID = /^[0-9a-f]{24}$/i;
/** A forged or mangled id is refused like a foreign one: it says nothing about what exists. */
export function toObjectId(id: string | Types.ObjectId): Types.ObjectId {
  if (id instanceof Types.ObjectId) return id;
  if (!OBJECT_ID.test(id)) throw new AccessDenied();
  return new Types.ObjectId(id);
}

/** "+7 *** ***-**-67": enough to recognise one's own number, useless to anyone else. */
export function maskPhone(phone: string | null | undefined): string | undefined {
  if (!phone) return undefined;
  const digits = phone.replace(/\D/g, '');
  if (digits.length < 4) return '***';
  const plus = phone.trim().startsWith('+') ? '+' : '';
  return `${plus}${digits[0]}${'*'.repeat(digits.length - 3)}${digits.slice(-2)}`;
}

const needsConsent = (roles: ReadonlySet<Role>) => FAMILY_ROLES.some((r) => roles.has(r));

/** Has this person accepted the current privacy notice? */
export async function hasConsent(db: Db, actor: Actor): Promise<boolean> {
  if (!actor.personId) return true;
  const p = await db.models.Person.findOne({ _id: actor.personId, schoolId: actor.schoolId }, { consent: 1 }).lean();
  return (p?.consent?.version ?? 0) >= CONSENT_VERSION && Boolean(p?.consent?.acceptedAt);
}

/** A parent or student who has not accepted the current privacy notice yet (the bot waits for that). */
export async function consentPending(db: Db, actor: Actor): Promise<boolean> {
  return Boolean(actor.personId) && needsConsent(actor.roles) && !(await hasConsent(db, actor));
}

/**
 * R32 (152-FZ): parents and students see nothing of a child's data before they accept what is
 * kept and why. Other features reading a diary for a family actor should call this too.
 */
export async function assertConsent(db: Db, actor: Actor): Promise<void> {
  if (!actor.personId || !needsConsent(actor.roles)) return;
  if (!(await hasConsent(db, actor))) throw new DomainError('privacy.consentRequired');
}

export interface ChildSummary {
  studentId: string;
  name: string;
  className?: string;
  classId?: string;
}

async function classNames(db: Db, schoolId: Types.ObjectId, ids: Array<Types.ObjectId | null | undefined>) {
  const wanted = ids.filter((id): id is Types.ObjectId => Boolean(id));
  if (wanted.length === 0) return new Map<string, string>();
  const classes = await db.models.SchoolClass.find({ schoolId, _id: { $in: wanted } }, { name: 1 }).lean();
  return new Map(classes.map((c) => [String(c._id), c.name]));
}

/** Parent: their children with class names; student: themself (R4). */
export async function listMyChildren(db: Db, actor: Actor): Promise<ChildSummary[]> {
  await assertConsent(db, actor);
  const ids: string[] = [...actor.childIds];
  if (actor.roles.has('student') && actor.personId) ids.push(String(actor.personId));
  if (ids.length === 0) return [];
  const students = await db.models.Person.find(
    { _id: { $in: ids.map((id) => new Types.ObjectId(id)) }, schoolId: actor.schoolId, roles: 'student' },
    { firstName: 1, lastName: 1, student: 1 },
  ).lean();
  const names = await classNames(
    db,
    actor.schoolId,
    students.map((s) => s.student?.classId),
  );
  return students
    .map((s) => {
      const classId = s.student?.classId ? String(s.student.classId) : undefined;
      return {
        studentId: String(s._id),
        name: shortName(s),
        classId,
        className: classId ? names.get(classId) : undefined,
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name, 'ru'));
}

export interface StudentCard {
  studentId: string;
  name: string;
  fullName: string;
  className?: string;
  classId?: string;
  classTeacherName?: string;
  status?: string;
  form?: string;
  /** Staff with access only: who to call about the child. */
  guardians?: Array<{ name: string; phone?: string }>;
}

/** One student's card, refused (AccessDenied) unless `canReadStudent` (R4). */
export async function getStudentCard(db: Db, actor: Actor, studentId: string): Promise<StudentCard> {
  const id = toObjectId(studentId);
  if (!(await canReadStudent(db, actor, id))) throw new AccessDenied();
  const isFamily = actor.childIds.has(String(id)) || String(actor.personId) === String(id);
  if (isFamily) await assertConsent(db, actor);
  const { Person, SchoolClass, Guardianship } = db.models;
  const s = await Person.findOne(
    { _id: id, schoolId: actor.schoolId },
    { firstName: 1, lastName: 1, middleName: 1, student: 1 },
  ).lean();
  if (!s) throw new AccessDenied();
  const cls = s.student?.classId
    ? await SchoolClass.findOne({ _id: s.student.classId, schoolId: actor.schoolId }, { name: 1, classTeacherId: 1 }).lean()
    : null;
  const teacher = cls?.classTeacherId
    ? await Person.findOne({ _id: cls.classTeacherId, schoolId: actor.schoolId }, { firstName: 1, lastName: 1, middleName: 1 }).lean()
    : null;
  const card: StudentCard = {
    studentId: String(s._id),
    name: shortName(s),
    fullName: fullName(s),
    className: cls?.name,
    classId: cls ? String(cls._id) : undefined,
    classTeacherName: teacher ? fullName(teacher) : undefined,
    status: s.student?.status ?? undefined,
    form: s.student?.form ?? undefined,
  };
  const staffReader = readsWholeSchool(actor) || (cls && actor.classTeacherOf.has(String(cls._id)));
  if (staffReader) {
    const links = await Guardianship.find({ schoolId: actor.schoolId, studentId: id }, { parentId: 1 }).lean();
    const parents = links.length
      ? await Person.find(
          { schoolId: actor.schoolId, _id: { $in: links.map((l) => l.parentId) } },
          { firstName: 1, lastName: 1, middleName: 1, phone: 1 },
        ).lean()
      : [];
    // Phones only for the school's office (admin, deputy, secretary): a class teacher reaches the
    // parents through the bot, and no phone number changes hands between teachers and families (issue 6).
    const office = readsWholeSchool(actor);
    card.guardians = parents.map((p) => ({ name: fullName(p), phone: office ? (p.phone ?? undefined) : undefined }));
  }
  return card;
}

export interface PrivacyReport {
  schoolName: string;
  timezone?: string;
  name: string;
  roles: Role[];
  phoneMasked?: string;
  email?: boolean;
  boundAt?: Date;
  consentAt?: Date;
  consentRequired: boolean;
  /** Empty until the consent is accepted (R32): the notice itself shows no child's data. */
  children: Array<{ name: string; className?: string; birthDate?: boolean }>;
}

/** R32: what is stored about the person and their children. The "why" and "how long" are locale text. */
export async function privacyReport(db: Db, actor: Actor): Promise<PrivacyReport> {
  if (!actor.personId) throw new AccessDenied();
  const { Person, School } = db.models;
  const [p, school] = await Promise.all([
    Person.findOne({ _id: actor.personId, schoolId: actor.schoolId }).lean(),
    School.findById(actor.schoolId, { name: 1, timezone: 1 }).lean(),
  ]);
  if (!p) throw new AccessDenied();
  const roles = p.roles as Role[];
  const consented = (p.consent?.version ?? 0) >= CONSENT_VERSION && Boolean(p.consent?.acceptedAt);
  const consentRequired = needsConsent(actor.roles) && !consented;
  let children: PrivacyReport['children'] = [];
  if (!consentRequired && actor.childIds.size > 0) {
    const kids = await Person.find(
      { schoolId: actor.schoolId, _id: { $in: [...actor.childIds].map((id) => new Types.ObjectId(id)) } },
      { firstName: 1, lastName: 1, student: 1 },
    ).lean();
    const names = await classNames(
      db,
      actor.schoolId,
      kids.map((k) => k.student?.classId),
    );
    children = kids.map((k) => ({
      name: shortName(k),
      className: k.student?.classId ? names.get(String(k.student.classId)) : undefined,
      birthDate: Boolean(k.student?.birthDate),
    }));
  }
  return {
    schoolName: school?.name ?? '',
    timezone: school?.timezone,
    name: fullName(p),
    roles,
    phoneMasked: maskPhone(p.phone),
    email: Boolean(p.email),
    boundAt: p.boundAt ?? undefined,
    consentAt: consented ? (p.consent?.acceptedAt ?? undefined) : undefined,
    consentRequired,
    children,
  };
}

/** The person accepts the privacy notice (R32). Recorded in the audit trail (R31); repeating it changes nothing. */
export async function acceptConsent(db: Db, actor: Actor, now: Date): Promise<{ acceptedAt: Date; changed: boolean }> {
  if (!actor.personId) throw new AccessDenied();
  const updated = await db.models.Person.findOneAndUpdate(
    {
      _id: actor.personId,
      schoolId: actor.schoolId,
      $or: [{ 'consent.version': { $exists: false } }, { 'consent.version': { $lt: CONSENT_VERSION } }],
    },
    { $set: { consent: { acceptedAt: now, version: CONSENT_VERSION } } },
    { returnDocument: 'after', projection: { consent: 1 } },
  ).lean();
  if (!updated) {
    const p = await db.models.Person.findOne({ _id: actor.personId, schoolId: actor.schoolId }, { consent: 1 }).lean();
    if (!p) throw new AccessDenied();
    return { acceptedAt: p.consent?.acceptedAt ?? now, changed: false };
  }
  await appendAudit(db, actor, now, {
    action: 'consent.accept',
    entity: { type: 'Person', id: actor.personId },
    after: { version: CONSENT_VERSION },
  });
  return { acceptedAt: now, changed: true };
}

export interface ClassStudent {
  studentId: string;
  name: string;
  fullName: string;
}

/** A student of a class, as the lists built on `studentsOfClass` need them. */
export interface StudentOfClass extends ClassStudent {
  firstName: string;
  lastName: string;
  /** Has joined with a Telegram account. */
  bound: boolean;
}

type Id = Types.ObjectId | string;

/**
 * The one query for "the students of a class" (or of several), sorted by full name. By default
 * those still at the school (STUDYING_STATUS, active); `includeLeft` also lists those who left or
 * were deactivated (a class's history, invites already issued). No access check: callers decide.
 */
export async function studentsOfClass(
  db: Db,
  schoolId: Types.ObjectId,
  classId: Id | readonly Id[],
  opts: { includeLeft?: boolean } = {},
): Promise<StudentOfClass[]> {
  const ids = (Array.isArray(classId) ? classId : [classId]).map((c) => toObjectId(c));
  const studying = opts.includeLeft ? {} : { 'student.status': STUDYING_STATUS, active: { $ne: false } };
  const students = await db.models.Person.find(
    { schoolId, roles: 'student', 'student.classId': ids.length === 1 ? ids[0] : { $in: ids }, ...studying },
    { firstName: 1, lastName: 1, middleName: 1, telegramId: 1 },
  ).lean();
  return students
    .map((s) => ({
      studentId: String(s._id),
      name: shortName(s),
      fullName: fullName(s),
      firstName: s.firstName,
      lastName: s.lastName,
      bound: Boolean(s.telegramId),
    }))
    .sort((a, b) => a.fullName.localeCompare(b.fullName, 'ru'));
}

/** Students of a class (studying), for its class teacher and staff who may read the class (R4, R26). */
export async function listClassStudents(db: Db, actor: Actor, classId: string): Promise<ClassStudent[]> {
  const id = toObjectId(classId);
  await assertCanReadClass(db, actor, id);
  const students = await studentsOfClass(db, actor.schoolId, id);
  return students.map(({ studentId, name, fullName }) => ({ studentId, name, fullName }));
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

/** Classes whose families the actor may invite (R2): the ones they lead; the admin, all. */
export async function listInvitableClasses(db: Db, actor: Actor): Promise<Array<{ classId: string; name: string }>> {
  const filter = actor.roles.has('admin')
    ? { schoolId: actor.schoolId }
    : { schoolId: actor.schoolId, _id: { $in: [...actor.classTeacherOf].map((id) => new Types.ObjectId(id)) } };
  if (!actor.roles.has('admin') && actor.classTeacherOf.size === 0) return [];
  const classes = await db.models.SchoolClass.find(filter, { name: 1, grade: 1, letter: 1 }).lean();
  return classes
    .sort((a, b) => a.grade - b.grade || a.letter.localeCompare(b.letter, 'ru'))
    .map((c) => ({ classId: String(c._id), name: c.name }));
}

export interface Profile {
  personId: string;
  schoolId: string;
  schoolName: string;
  roles: Role[];
  current: boolean;
}

/** The persons bound to a Telegram account (R3: only by invite), with their schools. */
export async function listProfiles(db: Db, telegramId: number, currentPersonId?: string): Promise<Profile[]> {
  const persons = await db.models.Person.find({ telegramId, active: { $ne: false } }, { schoolId: 1, roles: 1 }).lean();
  const schools = await db.models.School.find({ _id: { $in: persons.map((p) => p.schoolId) } }, { name: 1 }).lean();
  const names = new Map(schools.map((s) => [String(s._id), s.name]));
  return persons.map((p) => ({
    personId: String(p._id),
    schoolId: String(p.schoolId),
    schoolName: names.get(String(p.schoolId)) ?? '',
    roles: p.roles as Role[],
    current: String(p._id) === currentPersonId,
  }));
}

/** Switches the account to another of its own persons; any other id is refused (a forged button). */
export async function switchProfile(db: Db, telegramId: number, personId: string): Promise<void> {
  const id = toObjectId(personId);
  const own = await db.models.Person.exists({ _id: id, telegramId, active: { $ne: false } });
  if (!own) throw new AccessDenied();
  await db.models.Account.updateOne({ telegramId }, { $set: { currentPersonId: id } }, { upsert: true });
}
