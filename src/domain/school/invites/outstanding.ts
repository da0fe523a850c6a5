import type { Types } from 'mongoose';
import type { Db } from '../../../db/index.js';
import { type Role, STAFF_ROLES } from '../../shared/vocabulary.js';
import { AccessDenied, DomainError } from '../../shared/errors.js';
import { assertCanInviteFamiliesOf, isAdmin } from '../access.js';
import type { Actor } from '../actor.js';
import { appendAudit } from '../audit.js';
import { fullName, shortName, studentsOfClass, toObjectId } from '../people.js';
import { assertCanInvitePerson, isStaffRole } from './create.js';

/** The invites still outstanding: listed for their issuer, and revoked when a slip is lost (R2). */

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
  const { Guardianship } = db.models;
  // Those who left too: an invite issued before they left is still the issuer's to revoke.
  const students = await studentsOfClass(db, actor.schoolId, classIds, { includeLeft: true });
  const studentIds = students.map((s) => toObjectId(s.studentId));
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
