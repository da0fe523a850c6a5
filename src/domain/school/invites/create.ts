import { randomBytes } from 'node:crypto';
import type { Types } from 'mongoose';
import type { Db } from '../../../db/index.js';
import { type Role, STAFF_ROLES } from '../../shared/vocabulary.js';
import { AccessDenied, DomainError } from '../../shared/errors.js';
import { assertCanInviteFamiliesOf, isAdmin } from '../access.js';
import type { Actor } from '../actor.js';
import { appendAudit } from '../audit.js';
import { fullName, shortName, studentsOfClass, toObjectId } from '../people.js';
import { hashInviteCode, INVITE_CODE_BYTES } from './code.js';
import { tellOldAccount } from './rebind-notice.js';

/** Creating invites (R2): staff from the admin, families from their class teacher (or the admin). */

export const DEFAULT_INVITE_TTL_DAYS = 14;
const DAY_MS = 86_400_000;

const newCode = () => randomBytes(INVITE_CODE_BYTES).toString('base64url');

export const isStaffRole = (role: Role) => (STAFF_ROLES as readonly string[]).includes(role);

export interface CreatedInvite {
  inviteId: string;
  code: string;
  expiresAt: Date;
  /** How many earlier unused invites of this person it revoked (only the latest link works). */
  superseded: number;
}

export interface CreateInviteInput {
  role: Role;
  personId?: string | Types.ObjectId;
  now: Date;
  /** Explicit lifetime for this invite; otherwise the school's `inviteTtlDays`, else `defaultTtlDays`. */
  ttlDays?: number;
  /** The deployment default (config INVITE_TTL_DAYS); 14 when not given. */
  defaultTtlDays?: number;
  /**
   * The person has joined and is to be moved to a new phone (issue 11): required for a connected
   * person; the current account is told now and again when the invite is used, and it is audited.
   */
  rebind?: boolean;
}

/**
 * R2: may the actor invite this person in this role? Staff: the admin only. Families: the class
 * teacher of the student's class (for a parent: of any of their children's classes) or the admin.
 */
export async function assertCanInvitePerson(
  db: Db,
  actor: Actor,
  person: { _id: Types.ObjectId; roles: string[]; student?: { classId?: Types.ObjectId | null } | null },
  role: Role,
): Promise<void> {
  if (!person.roles.includes(role)) throw new AccessDenied();
  if (isStaffRole(role)) {
    if (!isAdmin(actor)) throw new AccessDenied();
    return;
  }
  if (isAdmin(actor)) return;
  const classIds: string[] = [];
  if (role === 'student' && person.student?.classId) classIds.push(String(person.student.classId));
  if (role === 'parent') {
    const links = await db.models.Guardianship.find(
      { schoolId: actor.schoolId, parentId: person._id },
      { studentId: 1 },
    ).lean();
    const kids = await db.models.Person.find(
      { schoolId: actor.schoolId, _id: { $in: links.map((l) => l.studentId) } },
      { student: 1 },
    ).lean();
    for (const k of kids) if (k.student?.classId) classIds.push(String(k.student.classId));
  }
  const led = classIds.find((c) => actor.classTeacherOf.has(c));
  if (!led) throw new AccessDenied();
  await assertCanInviteFamiliesOf(db, actor, led);
}

async function ttlFor(db: Db, schoolId: Types.ObjectId, input: CreateInviteInput): Promise<number> {
  if (input.ttlDays) return input.ttlDays;
  const school = await db.models.School.findById(schoolId, { 'settings.inviteTtlDays': 1 }).lean();
  return school?.settings?.inviteTtlDays ?? input.defaultTtlDays ?? DEFAULT_INVITE_TTL_DAYS;
}

/**
 * Creates an invite and returns its code (the only time the code exists in clear). A new invite
 * for a person supersedes (revokes) their older unused ones: only the latest paper or link works.
 * A person who has joined is never re-invited silently: that needs `rebind` (see rebind-notice.ts, rebind.ts).
 */
export async function createInvite(db: Db, actor: Actor, input: CreateInviteInput): Promise<CreatedInvite> {
  const { Invite, Person } = db.models;
  let personId: Types.ObjectId | undefined;
  let boundTo: number | undefined;
  if (input.personId !== undefined) {
    personId = toObjectId(input.personId);
    const person = await Person.findOne(
      { _id: personId, schoolId: actor.schoolId, active: { $ne: false } },
      { roles: 1, student: 1, telegramId: 1, firstName: 1, lastName: 1, middleName: 1 },
    ).lean();
    if (!person) throw new AccessDenied();
    await assertCanInvitePerson(db, actor, person, input.role);
    boundTo = person.telegramId ?? undefined;
    if (boundTo !== undefined && !input.rebind) throw new DomainError('invite.alreadyJoined', { name: fullName(person) });
  } else if (input.role !== 'admin' || actor.personId) {
    // A role-only invite creates its person on redemption: only the first admin of a new school,
    // issued by the operator (system actor), is invited that way.
    throw new AccessDenied();
  }
  const ttlDays = await ttlFor(db, actor.schoolId, input);
  const expiresAt = new Date(input.now.getTime() + ttlDays * DAY_MS);
  let superseded = 0;
  if (personId) {
    const revoked = await Invite.updateMany(
      { schoolId: actor.schoolId, personId, usedAt: null, revokedAt: null },
      { $set: { revokedAt: input.now, revokedBy: actor.personId } },
    );
    superseded = revoked.modifiedCount;
  }
  const code = newCode();
  const invite = await Invite.create({
    schoolId: actor.schoolId,
    codeHash: hashInviteCode(code),
    role: input.role,
    personId,
    createdBy: actor.personId,
    expiresAt,
  });
  await appendAudit(db, actor, input.now, {
    action: 'invite.create',
    entity: { type: 'Invite', id: invite._id },
    after: { role: input.role, personId, expiresAt },
  });
  if (personId && boundTo !== undefined) {
    await appendAudit(db, actor, input.now, {
      action: 'invite.rebind',
      entity: { type: 'Person', id: personId },
      before: { bound: true },
      after: { inviteId: invite._id, role: input.role },
    });
    const notice = { schoolId: actor.schoolId, personId, chatId: boundTo, inviteId: invite._id, now: input.now };
    await tellOldAccount(db, { ...notice, stage: 'issued' });
  }
  return { inviteId: String(invite._id), code, expiresAt, superseded };
}

export interface ClassInvite extends CreatedInvite {
  personId: string;
  role: 'parent' | 'student';
  personName: string;
  /** The children this invite is about (for a student: themself), in the class. */
  children: Array<{ studentId: string; name: string }>;
}

/** One invite per family member, in order; nobody to invite is the user's to hear about. */
async function inviteEach(
  db: Db,
  actor: Actor,
  input: { role: 'parent' | 'student'; now: Date; defaultTtlDays?: number },
  people: Array<{ _id: Types.ObjectId | string; name: string; children: ClassInvite['children'] }>,
): Promise<ClassInvite[]> {
  if (people.length === 0) throw new DomainError('invite.nobodyToInvite');
  const out: ClassInvite[] = [];
  for (const p of people) {
    const created = await createInvite(db, actor, {
      role: input.role,
      personId: p._id,
      now: input.now,
      defaultTtlDays: input.defaultTtlDays,
    });
    out.push({ ...created, personId: String(p._id), role: input.role, personName: p.name, children: p.children });
  }
  return out;
}

/**
 * One invite per parent (or per student) of a class, for the printable sheet of a parents' meeting.
 * `onlyUnbound` (default) skips people who already joined: a printed sheet should not re-bind them.
 */
export async function createClassInvites(
  db: Db,
  actor: Actor,
  input: { classId: string; role: 'parent' | 'student'; now: Date; onlyUnbound?: boolean; defaultTtlDays?: number },
): Promise<ClassInvite[]> {
  const classId = toObjectId(input.classId);
  await assertCanInviteFamiliesOf(db, actor, classId);
  const { Person, Guardianship } = db.models;
  const students = await studentsOfClass(db, actor.schoolId, classId);
  const onlyUnbound = input.onlyUnbound ?? true;
  const targets = new Map<string, { person: { _id: Types.ObjectId | string; name: string }; children: ClassInvite['children'] }>();
  if (input.role === 'student') {
    for (const s of students) {
      if (onlyUnbound && s.bound) continue;
      targets.set(s.studentId, {
        person: { _id: s.studentId, name: s.fullName },
        children: [{ studentId: s.studentId, name: s.name }],
      });
    }
  } else {
    const links = await Guardianship.find(
      { schoolId: actor.schoolId, studentId: { $in: students.map((s) => toObjectId(s.studentId)) } },
      { parentId: 1, studentId: 1 },
    ).lean();
    const parents = await Person.find(
      { schoolId: actor.schoolId, _id: { $in: links.map((l) => l.parentId) }, roles: 'parent', active: { $ne: false } },
      { firstName: 1, lastName: 1, middleName: 1, telegramId: 1 },
    ).lean();
    const parentById = new Map(parents.map((p) => [String(p._id), p]));
    for (const s of students) {
      for (const link of links.filter((l) => String(l.studentId) === s.studentId)) {
        const parent = parentById.get(String(link.parentId));
        if (!parent || (onlyUnbound && parent.telegramId)) continue;
        const key = String(parent._id);
        const entry = targets.get(key) ?? { person: { _id: parent._id, name: fullName(parent) }, children: [] };
        entry.children.push({ studentId: s.studentId, name: s.name });
        targets.set(key, entry);
      }
    }
  }
  return inviteEach(db, actor, input, [...targets.values()].map(({ person, children }) => ({ ...person, children })));
}

/** A family member who has joined: re-inviting them is the explicit re-bind, never a tap. */
export interface ConnectedMember {
  personId: string;
  name: string;
  role: 'parent' | 'student';
}

/**
 * Invites for the parents of one student (a late parent), or the student: only those who have not
 * joined (issue 11: a tap never takes a connected person away); the connected ones are listed for
 * the explicit re-bind.
 */
export async function createStudentFamilyInvites(
  db: Db,
  actor: Actor,
  input: { studentId: string; role: 'parent' | 'student'; now: Date; defaultTtlDays?: number },
): Promise<{ invites: ClassInvite[]; connected: ConnectedMember[] }> {
  const studentId = toObjectId(input.studentId);
  const { Person, Guardianship } = db.models;
  const student = await Person.findOne(
    { _id: studentId, schoolId: actor.schoolId, roles: 'student', active: { $ne: false } },
    { firstName: 1, lastName: 1, middleName: 1, student: 1, telegramId: 1 },
  ).lean();
  if (!student?.student?.classId) throw new AccessDenied();
  await assertCanInviteFamiliesOf(db, actor, student.student.classId);
  const child = { studentId: String(student._id), name: shortName(student) };
  let people: Array<{ _id: Types.ObjectId; name: string; bound: boolean }>;
  if (input.role === 'student') {
    people = [{ _id: student._id, name: fullName(student), bound: Boolean(student.telegramId) }];
  } else {
    const links = await Guardianship.find({ schoolId: actor.schoolId, studentId }, { parentId: 1 }).lean();
    const parents = await Person.find(
      { schoolId: actor.schoolId, _id: { $in: links.map((l) => l.parentId) }, roles: 'parent', active: { $ne: false } },
      { firstName: 1, lastName: 1, middleName: 1, telegramId: 1 },
    ).lean();
    people = parents.map((p) => ({ _id: p._id, name: fullName(p), bound: Boolean(p.telegramId) }));
  }
  const connected = people
    .filter((p) => p.bound)
    .map((p) => ({ personId: String(p._id), name: p.name, role: input.role }));
  const waiting = people.filter((p) => !p.bound);
  // Everyone has joined: nothing to issue, the screen offers the re-bind instead.
  if (waiting.length === 0 && connected.length > 0) return { invites: [], connected };
  const invites = await inviteEach(db, actor, input, waiting.map((p) => ({ _id: p._id, name: p.name, children: [child] })));
  return { invites, connected };
}

export interface StaffMember {
  personId: string;
  name: string;
  roles: Role[];
  bound: boolean;
}

/** Staff the admin may invite (R2): everyone working at the school with a staff role. */
export async function listStaff(db: Db, actor: Actor): Promise<StaffMember[]> {
  if (!isAdmin(actor)) throw new AccessDenied();
  const staff = await db.models.Person.find(
    { schoolId: actor.schoolId, roles: { $in: [...STAFF_ROLES] }, active: { $ne: false } },
    { firstName: 1, lastName: 1, middleName: 1, roles: 1, telegramId: 1 },
  ).lean();
  return staff
    .map((p) => ({ personId: String(p._id), name: fullName(p), roles: p.roles as Role[], bound: Boolean(p.telegramId) }))
    .sort((a, b) => a.name.localeCompare(b.name, 'ru'));
}

/** The staff role an invite for this person carries: the most specific one they hold. */
export function staffRoleOf(roles: readonly Role[]): Role | undefined {
  return (['admin', 'deputy', 'secretary', 'teacher'] as const).find((r) => roles.includes(r));
}

/** One staff member's invite, in their most specific staff role (admin only, R2). */
export async function createStaffInvite(
  db: Db,
  actor: Actor,
  input: { personId: string; now: Date; defaultTtlDays?: number },
): Promise<CreatedInvite & { personName: string; role: Role }> {
  if (!isAdmin(actor)) throw new AccessDenied();
  const person = await db.models.Person.findOne(
    { _id: toObjectId(input.personId), schoolId: actor.schoolId, active: { $ne: false } },
    { firstName: 1, lastName: 1, middleName: 1, roles: 1 },
  ).lean();
  const role = person ? staffRoleOf(person.roles as Role[]) : undefined;
  if (!person || !role) throw new AccessDenied();
  const created = await createInvite(db, actor, {
    role,
    personId: person._id,
    now: input.now,
    defaultTtlDays: input.defaultTtlDays,
  });
  return { ...created, personName: fullName(person), role };
}

export interface OverviewStudent {
  studentId: string;
  name: string;
  /** The student's parents, and how many of them have joined (issue 11: the list shows it). */
  parents: number;
  parentsJoined: number;
  /** The student has joined themself. */
  joined: boolean;
}

/** The class teacher's invite screen for one class (R2): its name and students, with who has joined. */
export async function classInviteOverview(
  db: Db,
  actor: Actor,
  classId: string,
): Promise<{ classId: string; className: string; students: OverviewStudent[] }> {
  const id = toObjectId(classId);
  await assertCanInviteFamiliesOf(db, actor, id);
  const cls = await db.models.SchoolClass.findOne({ _id: id, schoolId: actor.schoolId }, { name: 1 }).lean();
  if (!cls) throw new AccessDenied();
  const students = await studentsOfClass(db, actor.schoolId, id);
  const links = await db.models.Guardianship.find(
    { schoolId: actor.schoolId, studentId: { $in: students.map((s) => toObjectId(s.studentId)) } },
    { parentId: 1, studentId: 1 },
  ).lean();
  const parents = await db.models.Person.find(
    { schoolId: actor.schoolId, _id: { $in: links.map((l) => l.parentId) }, roles: 'parent', active: { $ne: false } },
    { telegramId: 1 },
  ).lean();
  const joinedParent = new Map(parents.map((p) => [String(p._id), Boolean(p.telegramId)]));
  return {
    classId: String(cls._id),
    className: cls.name,
    students: students.map((s) => {
      const mine = links.filter((l) => String(l.studentId) === s.studentId && joinedParent.has(String(l.parentId)));
      return {
        studentId: s.studentId,
        name: s.name,
        parents: mine.length,
        parentsJoined: mine.filter((l) => joinedParent.get(String(l.parentId))).length,
        joined: s.bound,
      };
    }),
  };
}

/** One invite per staff member without a Telegram account yet (admin only, R2). */
export async function createStaffInvites(
  db: Db,
  actor: Actor,
  input: { now: Date; defaultTtlDays?: number },
): Promise<Array<CreatedInvite & { personId: string; personName: string; role: Role }>> {
  const staff = (await listStaff(db, actor)).filter((s) => !s.bound && String(s.personId) !== String(actor.personId));
  if (staff.length === 0) throw new DomainError('invite.nobodyToInvite');
  const out: Array<CreatedInvite & { personId: string; personName: string; role: Role }> = [];
  for (const s of staff) {
    const role = staffRoleOf(s.roles);
    if (!role) continue;
    const created = await createInvite(db, actor, {
      role,
      personId: s.personId,
      now: input.now,
      defaultTtlDays: input.defaultTtlDays,
    });
    out.push({ ...created, personId: s.personId, personName: s.name, role });
  }
  return out;
}

/** For staff screens: is this actor allowed to see the staff invite menu? */
export function canInviteStaff(actor: Actor): boolean {
  return isAdmin(actor);
}

