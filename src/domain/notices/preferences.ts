import type { Db } from '../../db/index.js';
import { NOTIFY_MODES, type NotifyMode, PREF_KINDS, type PrefKind } from '../shared/vocabulary.js';
import { type Preferences, preferencesOf } from './recipients.js';
import type { Actor } from '../school/actor.js';
import { AccessDenied, DomainError } from '../shared/errors.js';
import { assertConsent, shortName, toObjectId } from '../school/people.js';

/**
 * Notification preferences (per parent, per child, per kind: instantly / digest / off) and the
 * weekly digest's day and hour. Only the family member concerned changes their own (R4).
 */

async function assertOwnChild(db: Db, actor: Actor, studentId: string) {
  const id = toObjectId(studentId);
  const mine =
    actor.personId !== undefined &&
    (actor.childIds.has(String(id)) || (actor.roles.has('student') && String(actor.personId) === String(id)));
  if (!mine) throw new AccessDenied();
  await assertConsent(db, actor);
  const student = await db.models.Person.findOne(
    { _id: id, schoolId: actor.schoolId, roles: 'student' },
    { firstName: 1, lastName: 1 },
  ).lean();
  if (!student) throw new AccessDenied();
  return { id, name: shortName(student) };
}

export interface PreferencesView extends Preferences {
  studentId: string;
  student: string;
  /** R25: this parent asked for the weekly letter on paper; undefined for a student (only a parent chooses). */
  paper?: boolean;
}

export async function getPreferences(db: Db, actor: Actor, studentId: string): Promise<PreferencesView> {
  const s = await assertOwnChild(db, actor, studentId);
  const personId = actor.personId;
  if (!personId) throw new AccessDenied();
  const parent = actor.childIds.has(String(s.id));
  const [map, own] = await Promise.all([
    preferencesOf(db, [{ personId, studentId: s.id }]),
    parent ? db.models.NotifyPreference.findOne({ personId, studentId: s.id }, { paper: 1 }).lean() : null,
  ]);
  const prefs = map.values().next().value as Preferences;
  return { ...prefs, studentId: String(s.id), student: s.name, ...(parent ? { paper: own?.paper === true } : {}) };
}

export async function setMode(db: Db, actor: Actor, studentId: string, kind: PrefKind, mode: NotifyMode): Promise<void> {
  if (!PREF_KINDS.includes(kind) || !NOTIFY_MODES.includes(mode)) throw new DomainError('prefs.invalid');
  const s = await assertOwnChild(db, actor, studentId);
  await db.models.NotifyPreference.updateOne(
    { personId: actor.personId, studentId: s.id },
    { $set: { [`modes.${kind}`]: mode }, $setOnInsert: { schoolId: actor.schoolId } },
    { upsert: true },
  );
}

/** weekday 0 turns the digest off; hour is the school's local hour. */
export async function setDigest(db: Db, actor: Actor, studentId: string, weekday: number, hour: number): Promise<void> {
  if (!Number.isInteger(weekday) || weekday < 0 || weekday > 7 || !Number.isInteger(hour) || hour < 0 || hour > 23) {
    throw new DomainError('prefs.invalid');
  }
  const s = await assertOwnChild(db, actor, studentId);
  await db.models.NotifyPreference.updateOne(
    { personId: actor.personId, studentId: s.id },
    { $set: { 'digest.weekday': weekday, 'digest.hour': hour }, $setOnInsert: { schoolId: actor.schoolId } },
    { upsert: true },
  );
}

/**
 * R25: a parent asks for the weekly letter on paper (or stops); the class teacher's Friday PDF
 * includes the child. Only the child's own parent chooses (R4): not the student, not another family.
 */
export async function setPaperLetter(db: Db, actor: Actor, studentId: string, paper: boolean): Promise<void> {
  if (typeof paper !== 'boolean') throw new DomainError('prefs.invalid');
  const s = await assertOwnChild(db, actor, studentId);
  if (!actor.childIds.has(String(s.id))) throw new AccessDenied();
  await db.models.NotifyPreference.updateOne(
    { personId: actor.personId, studentId: s.id },
    { $set: { paper }, $setOnInsert: { schoolId: actor.schoolId } },
    { upsert: true },
  );
}
