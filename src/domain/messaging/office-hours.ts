import type { Db } from '../../db/index.js';
import type { MessageThreadDoc } from '../../db/models/messaging.js';
import type { Actor } from '../school/actor.js';
import { AccessDenied } from '../shared/errors.js';
import { addDays, instantOf, isoWeekday, localDate, parseTime } from '../shared/calendar.js';

/**
 * A teacher's office hours (R3): outside them a family's message is kept and delivered when they
 * begin; the family is told so once a day per thread.
 */
export interface OfficeHours {
  weekdays: number[];
  from: string;
  to: string;
}

/** When the teacher's office hours next begin, or undefined when `now` is inside them. */
export function officeHoursStart(now: Date, timeZone: string, hours: OfficeHours): Date | undefined {
  const from = parseTime(hours.from, -1);
  const to = parseTime(hours.to, -1);
  if (from < 0 || to <= from || hours.weekdays.length === 0) return undefined;
  const today = localDate(now, timeZone);
  for (let d = 0; d <= 7; d++) {
    const date = addDays(today, d);
    if (!hours.weekdays.includes(isoWeekday(date))) continue;
    const start = instantOf(date, from, timeZone);
    const end = instantOf(date, to, timeZone);
    if (d === 0 && now >= start && now < end) return undefined;
    if (start > now) return start;
  }
  return undefined;
}

/** The teacher's office hours (undefined: none, messages arrive at once). */
export async function getOfficeHours(db: Db, actor: Actor): Promise<OfficeHours | undefined> {
  if (!actor.personId || !actor.roles.has('teacher')) throw new AccessDenied();
  const doc = await db.models.OfficeHours.findOne({ teacherId: actor.personId, schoolId: actor.schoolId }).lean();
  return doc ? { weekdays: [...doc.weekdays], from: doc.from, to: doc.to } : undefined;
}

/** Sets (or with undefined, clears) the teacher's office hours. */
export async function setOfficeHours(db: Db, actor: Actor, hours: OfficeHours | undefined): Promise<void> {
  if (!actor.personId || !actor.roles.has('teacher')) throw new AccessDenied();
  const key = { teacherId: actor.personId };
  if (!hours) {
    await db.models.OfficeHours.deleteOne(key);
    return;
  }
  await db.models.OfficeHours.updateOne(
    key,
    { $set: { schoolId: actor.schoolId, weekdays: hours.weekdays, from: hours.from, to: hours.to } },
    { upsert: true },
  );
}

/** When a message to the teacher of this thread waits for office hours: until when, and the school's local today. */
export async function officeHoursHold(db: Db, thread: MessageThreadDoc, now: Date): Promise<{ until: Date; today: string } | undefined> {
  const hours = await db.models.OfficeHours.findOne({ teacherId: thread.teacherId, schoolId: thread.schoolId }).lean();
  if (!hours) return undefined;
  const school = await db.models.School.findById(thread.schoolId, { timezone: 1 }).lean();
  const tz = school?.timezone ?? 'UTC';
  const until = officeHoursStart(now, tz, hours);
  return until ? { until, today: localDate(now, tz) } : undefined;
}
