import { z } from 'zod';
import type { Db } from '../../db/index.js';
import { AccessDenied, DomainError } from '../shared/errors.js';
import { isAdmin, readsWholeSchool } from './access.js';
import type { Actor } from './actor.js';
import { appendAudit } from './audit.js';
import { rulesOf, type WorkKind } from './rules.js';

/**
 * The school's kinds of work and their weights (R12, R17: the weighted average a period mark is
 * suggested from; R13: a written kind has the longer deadline). The office reads them; the admin
 * changes them like the other school rules (rules.ts), audited with before and after (R31).
 * A mark keeps the weight it was given, so a new weight counts for marks entered from then on; a
 * kind some mark uses cannot be removed (those marks would lose their name).
 */
const workKind = z.object({
  code: z.string().regex(/^[a-z][a-z0-9_-]{1,39}$/),
  name: z.object({ ru: z.string().trim().min(1).max(60), en: z.string().trim().min(1).max(60) }),
  weight: z.number().min(0.5).max(5).multipleOf(0.25),
  written: z.boolean(),
});
export const workKindsInput = z.array(workKind).min(1).max(20);

export async function listWorkKinds(db: Db, actor: Actor): Promise<WorkKind[]> {
  if (!readsWholeSchool(actor)) throw new AccessDenied();
  const school = await db.models.School.findById(actor.schoolId, { timezone: 1, settings: 1 }).lean();
  if (!school) throw new AccessDenied();
  return rulesOf(school).workKinds;
}

/** Replaces the list (admin only). Returns the kinds as stored and the codes that changed. */
export async function updateWorkKinds(db: Db, actor: Actor, input: unknown, now: Date): Promise<{ workKinds: WorkKind[]; changed: string[] }> {
  if (!isAdmin(actor)) throw new AccessDenied();
  const parsed = workKindsInput.safeParse(input);
  if (!parsed.success) throw new DomainError('office.kinds.invalid');
  const next = parsed.data;
  const codes = next.map((k) => k.code);
  if (new Set(codes).size !== codes.length) throw new DomainError('office.kinds.duplicate');
  const before = await listWorkKinds(db, actor);
  const removed = before.filter((k) => !codes.includes(k.code)).map((k) => k.code);
  if (removed.length > 0) {
    const used = await db.models.Mark.findOne({ schoolId: actor.schoolId, workKind: { $in: removed }, deletedAt: null }, { workKind: 1 }).lean();
    if (used) throw new DomainError('office.kinds.inUse', { code: used.workKind });
  }
  const same = (a: WorkKind, b: WorkKind) => JSON.stringify(a) === JSON.stringify(b);
  const changed = [
    ...removed,
    ...next.filter((k) => {
      const old = before.find((b) => b.code === k.code);
      return !old || !same(old, k);
    }).map((k) => k.code),
  ];
  if (changed.length === 0 && codes.join() === before.map((k) => k.code).join()) return { workKinds: before, changed };
  await db.models.School.updateOne({ _id: actor.schoolId }, { $set: { 'settings.workKinds': next } });
  await appendAudit(db, actor, now, {
    action: 'school.workKinds',
    entity: { type: 'School', id: actor.schoolId },
    before: before.filter((k) => changed.includes(k.code)),
    after: next.filter((k) => changed.includes(k.code)),
  });
  return { workKinds: next, changed };
}
