import { createHash, randomBytes } from 'node:crypto';
import type { Types } from 'mongoose';
import type { Db } from '../../../db/index.js';
import { type Role, STAFF_ROLES, STUDYING_STATUS } from '../../../db/models/people.js';
import { assertCanInviteFamiliesOf, isAdmin } from '../access.js';
import { type Actor, systemActor } from '../actor.js';
import { appendAudit } from '../audit.js';
import { AccessDenied, DomainError } from '../../shared/errors.js';
import { fullName, shortName, toObjectId } from '../people.js';

/**
 * Joining by invite (R2, R3). Staff get their invite from the admin, families from their class
 * teacher; an invite binds one Telegram account to one person of the school. The code travels in
 * a `t.me/<bot>?start=<code>` link, so it is base64url (Telegram allows [A-Za-z0-9_-], ≤ 64 chars);
 * only its SHA-256 hash is stored, so a database dump reveals no usable code.
 */

/** 18 random bytes = 144 bits = 24 base64url characters. */
export const INVITE_CODE_BYTES = 18;
export const DEFAULT_INVITE_TTL_DAYS = 14;
/** Brute-force guard per Telegram account: 5 wrong codes within 15 minutes block the account for 15 minutes. */
export const INVITE_THROTTLE = { maxFailures: 5, windowMs: 15 * 60_000, blockMs: 15 * 60_000 } as const;

const CODE_FORMAT = /^[A-Za-z0-9_-]{16,64}$/;
const DAY_MS = 86_400_000;

export const hashInviteCode = (code: string) => createHash('sha256').update(code, 'utf8').digest('hex');
const newCode = () => randomBytes(INVITE_CODE_BYTES).toString('base64url');

export function inviteLink(botUsername: string, code: string): string {
  return `https://t.me/${botUsername}?start=${code}`;
}

const isStaffRole = (role: Role) => (STAFF_ROLES as readonly string[]).includes(role);

export interface CreatedInvite {
  inviteId: string;
  code: string;
  expiresAt: Date;
}

export interface CreateInviteInput {
  role: Role;
  personId?: string | Types.ObjectId;
  now: Date;
  /** Explicit lifetime for this invite; otherwise the school's `inviteTtlDays`, else `defaultTtlDays`. */
  ttlDays?: number;
  /** The deployment default (config INVITE_TTL_DAYS); 14 when not given. */
  defaultTtlDays?: number;
}

/**
 * R2: may the actor invite this person in this role? Staff: the admin only. Families: the class
 * teacher of the student's class (for a parent: of any of their children's classes) or the admin.
 */
async function assertCanInvitePerson(
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
 */
export async function createInvite(db: Db, actor: Actor, input: CreateInviteInput): Promise<CreatedInvite> {
  const { Invite, Person } = db.models;
  let personId: Types.ObjectId | undefined;
  if (input.personId !== undefined) {
    personId = toObjectId(input.personId);
    const person = await Person.findOne(
      { _id: personId, schoolId: actor.schoolId, active: { $ne: false } },
      { roles: 1, student: 1 },
    ).lean();
    if (!person) throw new AccessDenied();
    await assertCanInvitePerson(db, actor, person, input.role);
  } else if (input.role !== 'admin' || actor.personId) {
    // A role-only invite creates its person on redemption: only the first admin of a new school,
    // issued by the operator (system actor), is invited that way.
    throw new AccessDenied();
  }
  const ttlDays = await ttlFor(db, actor.schoolId, input);
  const expiresAt = new Date(input.now.getTime() + ttlDays * DAY_MS);
  if (personId) {
    await Invite.updateMany(
      { schoolId: actor.schoolId, personId, usedAt: null, revokedAt: null },
      { $set: { revokedAt: input.now, revokedBy: actor.personId } },
    );
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
  return { inviteId: String(invite._id), code, expiresAt };
}

export interface ClassInvite extends CreatedInvite {
  personId: string;
  role: 'parent' | 'student';
  personName: string;
  /** The children this invite is about (for a student: themself), in the class. */
  children: Array<{ studentId: string; name: string }>;
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
  const students = await Person.find(
    {
      schoolId: actor.schoolId,
      roles: 'student',
      'student.classId': classId,
      'student.status': STUDYING_STATUS,
      active: { $ne: false },
    },
    { firstName: 1, lastName: 1, middleName: 1, telegramId: 1 },
  ).lean();
  students.sort((a, b) => fullName(a).localeCompare(fullName(b), 'ru'));
  const onlyUnbound = input.onlyUnbound ?? true;
  const targets = new Map<string, { person: { _id: Types.ObjectId; name: string }; children: ClassInvite['children'] }>();
  if (input.role === 'student') {
    for (const s of students) {
      if (onlyUnbound && s.telegramId) continue;
      targets.set(String(s._id), {
        person: { _id: s._id, name: fullName(s) },
        children: [{ studentId: String(s._id), name: shortName(s) }],
      });
    }
  } else {
    const links = await Guardianship.find(
      { schoolId: actor.schoolId, studentId: { $in: students.map((s) => s._id) } },
      { parentId: 1, studentId: 1 },
    ).lean();
    const parents = await Person.find(
      { schoolId: actor.schoolId, _id: { $in: links.map((l) => l.parentId) }, roles: 'parent', active: { $ne: false } },
      { firstName: 1, lastName: 1, middleName: 1, telegramId: 1 },
    ).lean();
    const parentById = new Map(parents.map((p) => [String(p._id), p]));
    for (const s of students) {
      for (const link of links.filter((l) => String(l.studentId) === String(s._id))) {
        const parent = parentById.get(String(link.parentId));
        if (!parent || (onlyUnbound && parent.telegramId)) continue;
        const key = String(parent._id);
        const entry = targets.get(key) ?? { person: { _id: parent._id, name: fullName(parent) }, children: [] };
        entry.children.push({ studentId: String(s._id), name: shortName(s) });
        targets.set(key, entry);
      }
    }
  }
  if (targets.size === 0) throw new DomainError('invite.nobodyToInvite');
  const out: ClassInvite[] = [];
  for (const { person, children } of targets.values()) {
    const created = await createInvite(db, actor, {
      role: input.role,
      personId: person._id,
      now: input.now,
      defaultTtlDays: input.defaultTtlDays,
    });
    out.push({ ...created, personId: String(person._id), role: input.role, personName: person.name, children });
  }
  return out;
}

/**
 * Invites for the parents of one student (a lost phone, a late parent): re-binding is intended,
 * so already bound parents get a new invite too.
 */
export async function createStudentFamilyInvites(
  db: Db,
  actor: Actor,
  input: { studentId: string; role: 'parent' | 'student'; now: Date; defaultTtlDays?: number },
): Promise<ClassInvite[]> {
  const studentId = toObjectId(input.studentId);
  const { Person, Guardianship } = db.models;
  const student = await Person.findOne(
    { _id: studentId, schoolId: actor.schoolId, roles: 'student', active: { $ne: false } },
    { firstName: 1, lastName: 1, middleName: 1, student: 1 },
  ).lean();
  if (!student?.student?.classId) throw new AccessDenied();
  await assertCanInviteFamiliesOf(db, actor, student.student.classId);
  const child = { studentId: String(student._id), name: shortName(student) };
  let people: Array<{ _id: Types.ObjectId; name: string }>;
  if (input.role === 'student') {
    people = [{ _id: student._id, name: fullName(student) }];
  } else {
    const links = await Guardianship.find({ schoolId: actor.schoolId, studentId }, { parentId: 1 }).lean();
    const parents = await Person.find(
      { schoolId: actor.schoolId, _id: { $in: links.map((l) => l.parentId) }, roles: 'parent', active: { $ne: false } },
      { firstName: 1, lastName: 1, middleName: 1 },
    ).lean();
    people = parents.map((p) => ({ _id: p._id, name: fullName(p) }));
  }
  if (people.length === 0) throw new DomainError('invite.nobodyToInvite');
  const out: ClassInvite[] = [];
  for (const p of people) {
    const created = await createInvite(db, actor, {
      role: input.role,
      personId: p._id,
      now: input.now,
      defaultTtlDays: input.defaultTtlDays,
    });
    out.push({ ...created, personId: String(p._id), role: input.role, personName: p.name, children: [child] });
  }
  return out;
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

/** The class teacher's invite screen for one class (R2): its name and students. */
export async function classInviteOverview(
  db: Db,
  actor: Actor,
  classId: string,
): Promise<{ classId: string; className: string; students: Array<{ studentId: string; name: string }> }> {
  const id = toObjectId(classId);
  await assertCanInviteFamiliesOf(db, actor, id);
  const cls = await db.models.SchoolClass.findOne({ _id: id, schoolId: actor.schoolId }, { name: 1 }).lean();
  if (!cls) throw new AccessDenied();
  const students = await db.models.Person.find(
    {
      schoolId: actor.schoolId,
      roles: 'student',
      'student.classId': id,
      'student.status': STUDYING_STATUS,
      active: { $ne: false },
    },
    { firstName: 1, lastName: 1, middleName: 1 },
  ).lean();
  students.sort((a, b) => fullName(a).localeCompare(fullName(b), 'ru'));
  return {
    classId: String(cls._id),
    className: cls.name,
    students: students.map((s) => ({ studentId: String(s._id), name: shortName(s) })),
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

/** R2: who may issue an invite may see and revoke it; a role-only invite (the first admin), the admin only. */
async function assertCanManageInvite(
  db: Db,
  actor: Actor,
  invite: { personId?: Types.ObjectId | null; role: string },
): Promise<void> {
  if (invite.personId) {
    const person = await db.models.Person.findOne(
      { _id: invite.personId, schoolId: actor.schoolId },
      { roles: 1, student: 1 },
    ).lean();
    if (!person) throw new AccessDenied();
    await assertCanInvitePerson(db, actor, person, invite.role as Role);
  } else if (!isAdmin(actor)) {
    throw new AccessDenied();
  }
}

/** Revokes an unused invite. Who may create it may revoke it; recorded in the audit trail (R31). */
export async function revokeInvite(db: Db, actor: Actor, inviteId: string, now = new Date()): Promise<void> {
  const { Invite } = db.models;
  const id = toObjectId(inviteId);
  const invite = await Invite.findOne({ _id: id, schoolId: actor.schoolId }).lean();
  if (!invite) throw new AccessDenied();
  await assertCanManageInvite(db, actor, invite);
  const revoked = await Invite.findOneAndUpdate(
    { _id: id, schoolId: actor.schoolId, usedAt: null, revokedAt: null },
    { $set: { revokedAt: now, revokedBy: actor.personId } },
    { returnDocument: 'after' },
  ).lean();
  if (!revoked) throw new DomainError(invite.usedAt ? 'invite.used' : 'invite.revoked');
  await appendAudit(db, actor, now, {
    action: 'invite.revoke',
    entity: { type: 'Invite', id },
    before: { revokedAt: null },
    after: { revokedAt: now, personId: invite.personId },
  });
}

// ───────────────────────────── outstanding invites ─────────────────────────────

/** Invites per page of the "outstanding invites" screen. */
export const OUTSTANDING_PAGE_SIZE = 10;

/**
 * Whose outstanding invites to list: one class's families (its class teacher or the admin), the
 * staff (the admin), or everything the actor manages (the admin: the whole school; a class
 * teacher: the families of every class they lead).
 */
export type InviteScope = { kind: 'class'; classId: string } | { kind: 'staff' } | { kind: 'all' };

export type GuardianRelation = 'mother' | 'father' | 'guardian';

/** An invite that still works, as its issuer sees it: whom it is for, never its code or hash. */
export interface OutstandingInvite {
  inviteId: string;
  /** The role the invite grants. */
  role: Role;
  kind: 'parent' | 'student' | 'staff';
  /** "Мария Иванова"; empty for a role-only invite (a new school's first admin, named on redemption). */
  personName: string;
  /** A parent's children the actor may see (in the listed classes), with how the parent is related. */
  children: Array<{ name: string; relation: GuardianRelation }>;
  /** The class of the student, or of the parent's children (comma-separated); none for staff. */
  className?: string;
  createdAt: Date;
  expiresAt: Date;
}

export interface OutstandingInvitePage {
  items: OutstandingInvite[];
  total: number;
  /** 0-based, clamped to the last page. */
  page: number;
  pages: number;
  /** The class's name for a class scope. */
  className?: string;
}

/** Not used, not revoked (a newer invite for the person revokes the older one), not expired. */
const outstandingFilter = (schoolId: Types.ObjectId, now: Date) => ({
  schoolId,
  usedAt: null,
  revokedAt: null,
  expiresAt: { $gt: now },
});

interface InviteRow {
  _id: Types.ObjectId;
  role: string;
  personId?: Types.ObjectId | null;
  createdAt?: Date | null;
  expiresAt: Date;
}

const INVITE_ROW = { role: 1, personId: 1, createdAt: 1, expiresAt: 1 } as const;
const idsIn = (ids: Iterable<string>) => [...new Set(ids)].map((id) => toObjectId(id));

/**
 * Names the invites' people, children and classes. Rows whose person is gone, inactive or no longer
 * holds the role are dropped: such an invite cannot be redeemed anyway (R3). `classIds` limits the
 * children shown to those classes (a class teacher sees only their own class's children).
 */
async function describeInvites(
  db: Db,
  actor: Actor,
  rows: InviteRow[],
  classIds?: ReadonlySet<string>,
): Promise<Array<OutstandingInvite & { sortKey: string }>> {
  const { Person, Guardianship, SchoolClass } = db.models;
  const schoolId = actor.schoolId;
  const people = await Person.find(
    { schoolId, _id: { $in: rows.flatMap((r) => (r.personId ? [r.personId] : [])) }, active: { $ne: false } },
    { firstName: 1, lastName: 1, middleName: 1, roles: 1, student: 1 },
  ).lean();
  const personById = new Map(people.map((p) => [String(p._id), p]));
  const parentIds = rows.filter((r) => r.role === 'parent' && r.personId).map((r) => r.personId as Types.ObjectId);
  const links = parentIds.length
    ? await Guardianship.find({ schoolId, parentId: { $in: parentIds } }, { parentId: 1, studentId: 1, relation: 1 }).lean()
    : [];
  const kids = links.length
    ? await Person.find(
        { schoolId, _id: { $in: links.map((l) => l.studentId) } },
        { firstName: 1, lastName: 1, middleName: 1, student: 1 },
      ).lean()
    : [];
  const kidById = new Map(kids.map((k) => [String(k._id), k]));
  const classIdOf = (p: { student?: { classId?: Types.ObjectId | null } | null } | undefined) =>
    p?.student?.classId ? String(p.student.classId) : undefined;
  const allClassIds = [...people.map(classIdOf), ...kids.map(classIdOf)].filter((c): c is string => Boolean(c));
  const classes = allClassIds.length
    ? await SchoolClass.find({ schoolId, _id: { $in: idsIn(allClassIds) } }, { name: 1 }).lean()
    : [];
  const classNameOf = new Map(classes.map((c) => [String(c._id), c.name]));
  const visible = (classId: string | undefined) => classId !== undefined && (!classIds || classIds.has(classId));

  const out: Array<OutstandingInvite & { sortKey: string }> = [];
  for (const r of rows) {
    const role = r.role as Role;
    const base = {
      inviteId: String(r._id),
      role,
      children: [] as OutstandingInvite['children'],
      createdAt: r.createdAt ?? r._id.getTimestamp(),
      expiresAt: r.expiresAt,
    };
    if (!r.personId) {
      // Role-only: the school's first admin, issued by the operator.
      out.push({ ...base, kind: 'staff', personName: '', sortKey: `~${role}` });
      continue;
    }
    const person = personById.get(String(r.personId));
    if (!person?.roles.includes(role)) continue;
    const personName = shortName(person);
    if (isStaffRole(role)) {
      out.push({ ...base, kind: 'staff', personName, sortKey: fullName(person) });
    } else if (role === 'student') {
      const classId = classIdOf(person);
      out.push({
        ...base,
        kind: 'student',
        personName,
        className: classId ? classNameOf.get(classId) : undefined,
        sortKey: `${fullName(person)}|0`,
      });
    } else {
      const mine = links
        .filter((l) => String(l.parentId) === String(r.personId))
        .flatMap((l) => {
          const kid = kidById.get(String(l.studentId));
          const classId = classIdOf(kid);
          return kid && visible(classId) ? [{ kid, classId, relation: (l.relation ?? 'guardian') as GuardianRelation }] : [];
        })
        .sort((a, b) => fullName(a.kid).localeCompare(fullName(b.kid), 'ru'));
      const classNames = [...new Set(mine.map((x) => classNameOf.get(x.classId ?? '')))].filter((n): n is string => Boolean(n));
      const first = mine[0]?.kid;
      out.push({
        ...base,
        kind: 'parent',
        personName,
        children: mine.map((x) => ({ name: shortName(x.kid), relation: x.relation })),
        className: classNames.length ? classNames.join(', ') : undefined,
        // A parent sorts right after their (first) child, so a class reads family by family.
        sortKey: `${first ? fullName(first) : ''}|1|${fullName(person)}`,
      });
    }
  }
  return out;
}

/** The Mongo filter for the family invites of these classes: their students and their students' parents. */
async function familyInvitesOf(db: Db, actor: Actor, classIds: Types.ObjectId[]) {
  const { Person, Guardianship } = db.models;
  const students = await Person.find(
    { schoolId: actor.schoolId, roles: 'student', 'student.classId': { $in: classIds } },
    { _id: 1 },
  ).lean();
  const studentIds = students.map((s) => s._id);
  const links = studentIds.length
    ? await Guardianship.find({ schoolId: actor.schoolId, studentId: { $in: studentIds } }, { parentId: 1 }).lean()
    : [];
  return {
    $or: [
      { role: 'student', personId: { $in: studentIds } },
      { role: 'parent', personId: { $in: links.map((l) => l.parentId) } },
    ],
  };
}

const pageOf = (page: number, total: number) => {
  const pages = Math.max(1, Math.ceil(total / OUTSTANDING_PAGE_SIZE));
  return { pages, page: Math.min(Math.max(0, Math.trunc(page)), pages - 1) };
};

/**
 * R2: the outstanding invites the actor manages, so a lost or misdelivered slip can be revoked.
 * Class and staff lists are small (one class's families, the staff) and come sorted by name, family
 * by family; the admin's whole-school list is paged in the database, newest first.
 */
export async function listOutstandingInvites(
  db: Db,
  actor: Actor,
  input: { scope: InviteScope; page?: number; now: Date },
): Promise<OutstandingInvitePage> {
  const { Invite, SchoolClass } = db.models;
  const outstanding = outstandingFilter(actor.schoolId, input.now);
  const { scope } = input;

  if (scope.kind === 'all' && isAdmin(actor)) {
    const total = await Invite.countDocuments(outstanding);
    const { page, pages } = pageOf(input.page ?? 0, total);
    const rows = await Invite.find(outstanding, INVITE_ROW)
      .sort({ _id: -1 })
      .skip(page * OUTSTANDING_PAGE_SIZE)
      .limit(OUTSTANDING_PAGE_SIZE)
      .lean();
    // `total` may count an invite whose person has since left (dropped from the page): it cannot be redeemed.
    const items = await describeInvites(db, actor, rows);
    return { items: items.map(({ sortKey: _, ...i }) => i), total, page, pages };
  }

  let filter: Record<string, unknown>;
  let className: string | undefined;
  let classIds: Set<string> | undefined;
  if (scope.kind === 'staff') {
    if (!isAdmin(actor)) throw new AccessDenied();
    filter = { ...outstanding, role: { $in: [...STAFF_ROLES] } };
  } else if (scope.kind === 'class') {
    const id = toObjectId(scope.classId);
    await assertCanInviteFamiliesOf(db, actor, id);
    const cls = await SchoolClass.findOne({ _id: id, schoolId: actor.schoolId }, { name: 1 }).lean();
    if (!cls) throw new AccessDenied();
    className = cls.name;
    classIds = new Set([String(id)]);
    filter = { ...outstanding, ...(await familyInvitesOf(db, actor, [id])) };
  } else {
    // A class teacher's "everything": the families of the classes they lead.
    if (actor.classTeacherOf.size === 0) throw new AccessDenied();
    classIds = new Set(actor.classTeacherOf);
    filter = { ...outstanding, ...(await familyInvitesOf(db, actor, idsIn(classIds))) };
  }
  const rows = await Invite.find(filter, INVITE_ROW).lean();
  const all = (await describeInvites(db, actor, rows, classIds))
    .filter((i) => i.kind !== 'parent' || i.children.length > 0)
    .sort((a, b) => a.sortKey.localeCompare(b.sortKey, 'ru') || a.inviteId.localeCompare(b.inviteId));
  const { page, pages } = pageOf(input.page ?? 0, all.length);
  const items = all.slice(page * OUTSTANDING_PAGE_SIZE, (page + 1) * OUTSTANDING_PAGE_SIZE).map(({ sortKey: _, ...i }) => i);
  return { items, total: all.length, page, pages, className };
}

/**
 * One outstanding invite, for the revoke confirmation. Refused exactly like `revokeInvite` (a
 * forged or foreign id says nothing about whether it exists); one that no longer works is
 * `invite.outstanding.gone`. A class teacher sees only the children of the classes they lead.
 */
export async function getOutstandingInvite(db: Db, actor: Actor, inviteId: string, now: Date): Promise<OutstandingInvite> {
  const invite = await db.models.Invite.findOne(
    { _id: toObjectId(inviteId), schoolId: actor.schoolId },
    { ...INVITE_ROW, usedAt: 1, revokedAt: 1 },
  ).lean();
  if (!invite) throw new AccessDenied();
  await assertCanManageInvite(db, actor, invite);
  if (invite.usedAt || invite.revokedAt || invite.expiresAt <= now) throw new DomainError('invite.outstanding.gone');
  const [item] = await describeInvites(db, actor, [invite], isAdmin(actor) ? undefined : actor.classTeacherOf);
  if (!item) throw new DomainError('invite.outstanding.gone');
  const { sortKey: _, ...rest } = item;
  return rest;
}

// ───────────────────────────── redemption ─────────────────────────────

export interface RedeemInput {
  telegramId: number;
  firstName: string;
  lastName?: string;
  code: string;
  now: Date;
}

export interface Redemption {
  personId: string;
  schoolId: string;
  role: Role;
  /** The person existed and was bound to another account before: that account lost it (R3). */
  rebound: boolean;
  /** The account had redeemed this very invite before: nothing changed. */
  alreadyJoined: boolean;
}

const minutesUntil = (until: Date, now: Date) => Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 60_000));

/** Refuses while the account is blocked for too many wrong codes (even a correct code). */
async function assertNotThrottled(db: Db, telegramId: number, now: Date): Promise<void> {
  const t = await db.models.InviteThrottle.findOne({ telegramId }, { blockedUntil: 1 }).lean();
  if (t?.blockedUntil && t.blockedUntil > now) {
    throw new DomainError('invite.throttled', { minutes: minutesUntil(t.blockedUntil, now) });
  }
}

/**
 * Counts a failed attempt and blocks after too many in the window. Single-document atomic steps:
 * `$inc` inside a live window, else start a new window (upsert on the unique telegramId).
 */
async function countFailure(db: Db, telegramId: number, now: Date): Promise<{ blockedUntil?: Date }> {
  const { InviteThrottle } = db.models;
  const windowFrom = new Date(now.getTime() - INVITE_THROTTLE.windowMs);
  let doc = await InviteThrottle.findOneAndUpdate(
    { telegramId, windowStart: { $gt: windowFrom } },
    { $inc: { failures: 1 } },
    { returnDocument: 'after' },
  ).lean();
  if (!doc) {
    try {
      doc = await InviteThrottle.findOneAndUpdate(
        { telegramId },
        { $set: { windowStart: now, failures: 1 }, $unset: { blockedUntil: 1 } },
        { upsert: true, returnDocument: 'after' },
      ).lean();
    } catch (e) {
      if ((e as { code?: number }).code !== 11000) throw e;
      doc = await InviteThrottle.findOneAndUpdate({ telegramId }, { $inc: { failures: 1 } }, { returnDocument: 'after' }).lean();
    }
  }
  if (doc && (doc.failures ?? 0) >= INVITE_THROTTLE.maxFailures) {
    const blockedUntil = new Date(now.getTime() + INVITE_THROTTLE.blockMs);
    await InviteThrottle.updateOne({ telegramId }, { $set: { blockedUntil } });
    return { blockedUntil };
  }
  return {};
}

/** Fails the attempt: counts it, and when that blocks the account says so instead. */
async function refuse(db: Db, input: RedeemInput, key: string): Promise<never> {
  const { blockedUntil } = await countFailure(db, input.telegramId, input.now);
  if (blockedUntil) throw new DomainError('invite.throttled', { minutes: minutesUntil(blockedUntil, input.now) });
  throw new DomainError(key);
}

/**
 * Binds the invited person to this Telegram account (R2, R3). Single use: the invite is claimed
 * with one atomic findOneAndUpdate, so two presses (or two accounts) cannot both redeem it.
 * A person bound to another account moves to this one (a new invite is the only way to move);
 * an account with persons already keeps them and gains this one (a teacher who is also a parent).
 */
export async function redeemInvite(db: Db, input: RedeemInput): Promise<Redemption> {
  const { Invite, Person, Account } = db.models;
  const { telegramId, now } = input;
  await assertNotThrottled(db, telegramId, now);
  const code = input.code.trim();
  if (!CODE_FORMAT.test(code)) return refuse(db, input, 'invite.unknown');
  const invite = await Invite.findOne({ codeHash: hashInviteCode(code) }).lean();
  if (!invite) return refuse(db, input, 'invite.unknown');
  if (invite.usedAt) {
    // The same account pressing its link again is harmless — unless a newer invite moved the person away.
    const stillOurs =
      invite.usedByTelegramId === telegramId &&
      invite.personId &&
      (await Person.exists({ _id: invite.personId, telegramId, active: { $ne: false } }));
    if (stillOurs && invite.personId) {
      return {
        personId: String(invite.personId),
        schoolId: String(invite.schoolId),
        role: invite.role as Role,
        rebound: false,
        alreadyJoined: true,
      };
    }
    return refuse(db, input, 'invite.used');
  }
  if (invite.revokedAt) return refuse(db, input, 'invite.revoked');
  if (invite.expiresAt <= now) return refuse(db, input, 'invite.expired');
  const person = invite.personId
    ? await Person.findOne({ _id: invite.personId, schoolId: invite.schoolId }, { telegramId: 1, active: 1 }).lean()
    : null;
  if (invite.personId && (!person || person.active === false)) return refuse(db, input, 'invite.revoked');

  const claimed = await Invite.findOneAndUpdate(
    { _id: invite._id, usedAt: null, revokedAt: null, expiresAt: { $gt: now } },
    { $set: { usedAt: now, usedByTelegramId: telegramId } },
    { returnDocument: 'after' },
  ).lean();
  if (!claimed) return refuse(db, input, 'invite.used');

  const role = invite.role as Role;
  let personId: Types.ObjectId;
  let previousTelegramId: number | undefined;
  if (invite.personId) {
    personId = invite.personId;
    previousTelegramId = person?.telegramId ?? undefined;
    await Person.updateOne({ _id: personId, schoolId: invite.schoolId }, { $set: { telegramId, boundAt: now } });
  } else {
    personId = await bindRoleOnlyInvite(db, invite._id, invite.schoolId, role, input);
  }
  await Account.findOneAndUpdate(
    { telegramId },
    { $set: { currentPersonId: personId }, $setOnInsert: { telegramId } },
    { upsert: true },
  );
  const rebound = previousTelegramId !== undefined && previousTelegramId !== telegramId;
  // The one redeeming acts as the person the invite binds, in the role it grants.
  const redeemer: Actor = { ...systemActor(invite.schoolId, 'cli'), via: 'bot', personId, roles: new Set([role]) };
  await appendAudit(db, redeemer, now, {
    action: 'invite.redeem',
    entity: { type: 'Person', id: personId },
    before: { bound: previousTelegramId !== undefined },
    after: { inviteId: invite._id, role, bound: true, rebound },
  });
  return { personId: String(personId), schoolId: String(invite.schoolId), role, rebound, alreadyJoined: false };
}

/** The first admin of a new school: the person is created from the Telegram name (or reused). */
async function bindRoleOnlyInvite(
  db: Db,
  inviteId: Types.ObjectId,
  schoolId: Types.ObjectId,
  role: Role,
  input: RedeemInput,
): Promise<Types.ObjectId> {
  const { Person } = db.models;
  const existing = await Person.findOneAndUpdate(
    { schoolId, telegramId: input.telegramId },
    { $addToSet: { roles: role }, $set: { active: true } },
    { returnDocument: 'after', projection: { _id: 1 } },
  ).lean();
  if (existing) return existing._id;
  const firstName = input.firstName.trim() || '—';
  const created = await Person.create({
    schoolId,
    externalId: `tg-${role}-${String(inviteId)}`,
    firstName,
    lastName: input.lastName?.trim() || '—',
    roles: [role],
    telegramId: input.telegramId,
    boundAt: input.now,
  });
  return created._id;
}

/** For staff screens: is this actor allowed to see the staff invite menu? */
export function canInviteStaff(actor: Actor): boolean {
  return isAdmin(actor);
}

