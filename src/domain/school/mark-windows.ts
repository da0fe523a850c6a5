import { z } from 'zod';
import type { Db } from '../../db/index.js';
import { addDays, fullDate, isLocalDate, type LocalDate } from '../shared/calendar.js';
import { AccessDenied, DomainError } from '../shared/errors.js';
import { isAdmin } from './access.js';
import type { Actor } from './actor.js';
import { appendAudit } from './audit.js';
import { toObjectId } from './people.js';
import { settingsOf, todayOf } from './rules.js';
import { cachedSchool } from '../../db/school-cache.js';

/**
 * R15: period marks are entered during the last week of the period. The window opens by itself
 * (`finalMarkWindowDays`, a school setting, before the period's last day); the admin may open it
 * early, extend it or close it for the whole school or for one class. A class's own window wins
 * over the school's, the school's over the default.
 */

export interface WindowSource {
  endsOn: LocalDate;
  markWindow?: { opensOn?: LocalDate | null; closesOn?: LocalDate | null } | null;
  classWindows?: ReadonlyArray<{ classId: unknown; opensOn?: LocalDate | null; closesOn?: LocalDate | null }> | null;
}

export interface MarkWindow {
  opensOn: LocalDate;
  closesOn: LocalDate;
  /** Where it comes from: the rule, the school's change, or the class's. */
  source: 'default' | 'school' | 'class';
}

export type WindowState = 'before' | 'open' | 'closed';

export function markWindowOf(period: WindowSource, windowDays: number, classId?: string): MarkWindow {
  const byDefault = { opensOn: addDays(period.endsOn, 1 - windowDays), closesOn: period.endsOn };
  const school = period.markWindow ?? {};
  const cls = classId ? period.classWindows?.find((w) => String(w.classId) === classId) : undefined;
  const pick = (k: 'opensOn' | 'closesOn') => cls?.[k] ?? school[k] ?? byDefault[k];
  const source = cls && (cls.opensOn || cls.closesOn) ? 'class' : school.opensOn || school.closesOn ? 'school' : 'default';
  return { opensOn: pick('opensOn'), closesOn: pick('closesOn'), source };
}

export function windowState(w: Pick<MarkWindow, 'opensOn' | 'closesOn'>, today: LocalDate): WindowState {
  if (today < w.opensOn) return 'before';
  return today <= w.closesOn ? 'open' : 'closed';
}

const localDate = z.string().refine(isLocalDate, 'date');

/** What the admin may do to a window: open it (from a date, today by default), extend it until a date, close it. */
export const windowChange = z.discriminatedUnion('action', [
  z.object({ action: z.literal('open'), from: localDate.optional(), until: localDate.optional() }),
  z.object({ action: z.literal('extend'), until: localDate }),
  /** Open now if need be, and keep it open `days` more days from today or from its end, whichever is later. */
  z.object({ action: z.literal('extendDays'), days: z.number().int().min(1).max(60) }),
  z.object({ action: z.literal('close') }),
  z.object({ action: z.literal('reset') }),
]);
export type WindowChange = z.infer<typeof windowChange>;

/**
 * Changes a period's mark window for the school or one class (admin only, R15), audited with
 * before and after (R31). Returns the window as it now applies.
 */
export async function changeMarkWindow(
  db: Db,
  actor: Actor,
  input: { yearId: string; periodCode: string; classId?: string; change: WindowChange },
  now: Date,
): Promise<MarkWindow> {
  if (!isAdmin(actor)) throw new AccessDenied();
  const change = windowChange.parse(input.change);
  const school = await cachedSchool(db, actor.schoolId);
  if (!school) throw new AccessDenied();
  const windowDays = settingsOf(school).finalMarkWindowDays;
  const today = todayOf({ timezone: school.timezone }, now);
  const year = await db.models.AcademicYear.findOne({ _id: toObjectId(input.yearId), schoolId: actor.schoolId }).lean();
  if (!year) throw new AccessDenied();
  if (year.status === 'archived') throw new DomainError('year.readOnly', { name: year.name });
  const period = year.periods.find((p) => p.code === input.periodCode);
  if (!period) throw new DomainError('marks.badPeriod');
  if (input.classId) {
    const cls = await db.models.SchoolClass.exists({ _id: toObjectId(input.classId), schoolId: actor.schoolId });
    if (!cls) throw new AccessDenied();
  }
  const before = markWindowOf(period, windowDays, input.classId);
  let next: { opensOn?: LocalDate; closesOn?: LocalDate } = {};
  switch (change.action) {
    case 'open': {
      const opensOn = change.from ?? today;
      next = { opensOn, closesOn: change.until ?? (before.closesOn < opensOn ? addDays(opensOn, windowDays - 1) : before.closesOn) };
      break;
    }
    case 'extend':
      next = { opensOn: before.opensOn, closesOn: change.until };
      break;
    case 'extendDays':
      next = {
        opensOn: before.opensOn <= today ? before.opensOn : today,
        closesOn: addDays(before.closesOn > today ? before.closesOn : today, change.days),
      };
      break;
    case 'close':
      next = { opensOn: before.opensOn < today ? before.opensOn : addDays(today, -1), closesOn: addDays(today, -1) };
      break;
    case 'reset':
      next = {};
  }
  if (next.opensOn && next.closesOn && next.closesOn < next.opensOn && change.action !== 'close') {
    throw new DomainError('year.windowBackwards', { from: fullDate(next.opensOn), to: fullDate(next.closesOn) });
  }
  if ((next.closesOn && next.closesOn > addDays(year.endsOn, 92)) || (next.opensOn && next.opensOn < year.startsOn)) {
    throw new DomainError('year.windowOutside', { name: year.name });
  }
  const periods = year.periods.map((p) => {
    if (p.code !== input.periodCode) return p;
    if (!input.classId) return { ...p, markWindow: next };
    const others = (p.classWindows ?? []).filter((w) => String(w.classId) !== input.classId);
    const own = next.opensOn || next.closesOn ? [{ classId: toObjectId(input.classId), ...next }] : [];
    return { ...p, classWindows: [...others, ...own] };
  });
  await db.models.AcademicYear.updateOne({ _id: year._id }, { $set: { periods } });
  const after = markWindowOf(
    periods.find((p) => p.code === input.periodCode) as WindowSource,
    windowDays,
    input.classId,
  );
  await appendAudit(db, actor, now, {
    action: 'year.markWindow',
    entity: { type: 'AcademicYear', id: year._id },
    before: { periodCode: input.periodCode, classId: input.classId ?? null, opensOn: before.opensOn, closesOn: before.closesOn },
    after: { periodCode: input.periodCode, classId: input.classId ?? null, opensOn: after.opensOn, closesOn: after.closesOn },
  });
  return after;
}
