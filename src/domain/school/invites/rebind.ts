import type { Db } from '../../../db/index.js';
import { AccessDenied } from '../../shared/errors.js';
import type { Role } from '../../shared/vocabulary.js';
import type { Actor } from '../actor.js';
import { fullName, toObjectId } from '../people.js';
import { assertCanInvitePerson, type CreatedInvite, createInvite, staffRoleOf } from './create.js';

/**
 * The explicit re-bind of a connected person to a new phone (issue 11, R3): the confirmation names
 * the person (rebindCandidate), the "Yes" issues the invite with `rebind` (startRebind): audited,
 * the current account told at once and again when the invite is used (rebind-notice.ts).
 */

/** p = parent, s = student, t = the person's staff role. */
export type RebindRole = 'p' | 's' | 't';

export async function rebindCandidate(
  db: Db,
  actor: Actor,
  personId: string,
  r: RebindRole,
): Promise<{ personId: string; name: string; role: Role }> {
  const person = await db.models.Person.findOne(
    { _id: toObjectId(personId), schoolId: actor.schoolId, active: { $ne: false } },
    { firstName: 1, lastName: 1, middleName: 1, roles: 1, student: 1, telegramId: 1 },
  ).lean();
  if (!person) throw new AccessDenied();
  const role = r === 'p' ? 'parent' : r === 's' ? 'student' : staffRoleOf(person.roles as Role[]);
  if (!role) throw new AccessDenied();
  await assertCanInvitePerson(db, actor, person, role);
  return { personId: String(person._id), name: fullName(person), role };
}

export async function startRebind(
  db: Db,
  actor: Actor,
  input: { personId: string; r: RebindRole; now: Date; defaultTtlDays?: number },
): Promise<CreatedInvite & { personName: string; role: Role }> {
  const who = await rebindCandidate(db, actor, input.personId, input.r);
  const created = await createInvite(db, actor, {
    role: who.role,
    personId: who.personId,
    now: input.now,
    defaultTtlDays: input.defaultTtlDays,
    rebind: true,
  });
  return { ...created, personName: who.name, role: who.role };
}
