import type { Types } from 'mongoose';
import { z } from 'zod';
import type { Db } from '../../db/index.js';
import { isSchoolDay } from '../school/academic-year.js';
import type { Actor } from '../school/actor.js';
import { appendAudit } from '../school/audit.js';
import { fullName, toObjectId } from '../school/people.js';
import { isLocalDate, isoWeekday, type LocalDate } from '../shared/calendar.js';
import { AccessDenied, DomainError } from '../shared/errors.js';
import { assertDateWritable } from '../year/read-only.js';

/**
 * R7: the deputy (or the admin) puts a substitute teacher on one lesson — a timetable slot on a
 * date — and may cancel that again. The Substitution is what the journal reads: lessons.ts makes
 * the day's Lesson with `substituteId`, lesson-access.ts lets the substitute fill it (attendance,
 * marks, topic, homework), and the substitute sees it among their day's lessons. A lesson already
 * made for that date is updated at once. Every change is in the audit trail (R31).
 */
type Id = Types.ObjectId;

const id = z.string().regex(/^[0-9a-f]{24}$/i);
const date = z.string().refine(isLocalDate, 'date');

export const substitutionInput = z.object({
  slotId: id,
  date,
  substituteId: id,
  reason: z.string().trim().max(200).optional(),
});
export type SubstitutionInput = z.infer<typeof substitutionInput>;

/** R7: the deputy arranges substitutions; the admin may do anything. */
function assertCanSubstitute(actor: Actor): void {
  if (!actor.roles.has('deputy') && !actor.roles.has('admin')) throw new AccessDenied();
}

export interface SlotOfDay {
  slotId: string;
  lessonNo: number;
  className: string;
  groupName?: string;
  subjectName: string;
  teacherId: string;
  teacherName: string;
  /** The substitution already set for this slot on this date. */
  substitution?: { id: string; substituteId: string; substituteName: string; reason?: string };
}

export interface SubstitutionView {
  id: string;
  date: LocalDate;
  slotId: string;
  lessonNo: number;
  className: string;
  groupName?: string;
  subjectName: string;
  teacherName: string;
  substituteId: string;
  substituteName: string;
  reason?: string;
}

/** Slots valid on `date` (the timetable as lessons are made from it, drafts excluded). */
function slotsValidOn(schoolId: Id, day: LocalDate) {
  return { schoolId, weekday: isoWeekday(day), validFrom: { $lte: day }, $or: [{ validTo: null }, { validTo: { $gte: day } }], draft: { $ne: true } };
}

interface SlotRow {
  _id: Id;
  classId: Id;
  groupId?: Id | null;
  subjectId: Id;
  teacherId: Id;
  lessonNo: number;
}

/** Names of the classes, groups, subjects and people the rows mention (one query each). */
async function namesFor(db: Db, schoolId: Id, slots: SlotRow[], personIds: Id[]) {
  const { SchoolClass, Group, Subject, Person } = db.models;
  const [classes, groups, subjects, people] = await Promise.all([
    SchoolClass.find({ schoolId, _id: { $in: slots.map((s) => s.classId) } }, { name: 1, grade: 1, letter: 1 }).lean(),
    Group.find({ schoolId, _id: { $in: slots.flatMap((s) => (s.groupId ? [s.groupId] : [])) } }, { name: 1 }).lean(),
    Subject.find({ schoolId, _id: { $in: slots.map((s) => s.subjectId) } }, { name: 1 }).lean(),
    Person.find({ schoolId, _id: { $in: [...slots.map((s) => s.teacherId), ...personIds] } }, { lastName: 1, firstName: 1, middleName: 1 }).lean(),
  ]);
  const map = <T extends { _id: Id }>(xs: T[], f: (x: T) => string) => new Map(xs.map((x) => [String(x._id), f(x)]));
  const classOrder = new Map(classes.map((c) => [String(c._id), c.grade * 100 + (c.letter?.charCodeAt(0) ?? 0)]));
  return {
    cls: map(classes, (c) => c.name),
    group: map(groups, (g) => g.name),
    subject: map(subjects, (s) => s.name),
    person: map(people, fullName),
    classOrder: (classId: Id) => classOrder.get(String(classId)) ?? 0,
  };
}

/** The day's timetable to pick a lesson from, with the substitutions already set (deputy, admin). */
export async function slotsOfDay(db: Db, actor: Actor, day: LocalDate): Promise<SlotOfDay[]> {
  assertCanSubstitute(actor);
  if (!isLocalDate(day)) throw new DomainError('journal.badRange');
  if (!(await isSchoolDay(db, actor.schoolId, day))) return [];
  const slots = await db.models.TimetableSlot.find(slotsValidOn(actor.schoolId, day), { classId: 1, groupId: 1, subjectId: 1, teacherId: 1, lessonNo: 1 }).lean();
  const subs = await db.models.Substitution.find({ schoolId: actor.schoolId, date: day, slotId: { $in: slots.map((s) => s._id) } }).lean();
  const subOf = new Map(subs.map((s) => [String(s.slotId), s]));
  const n = await namesFor(db, actor.schoolId, slots, subs.map((s) => s.substituteId));
  return slots
    .sort((a, b) => n.classOrder(a.classId) - n.classOrder(b.classId) || a.lessonNo - b.lessonNo)
    .map((s) => {
      const sub = subOf.get(String(s._id));
      return {
        slotId: String(s._id),
        lessonNo: s.lessonNo,
        className: n.cls.get(String(s.classId)) ?? '—',
        ...(s.groupId ? { groupName: n.group.get(String(s.groupId)) } : {}),
        subjectName: n.subject.get(String(s.subjectId)) ?? '—',
        teacherId: String(s.teacherId),
        teacherName: n.person.get(String(s.teacherId)) ?? '—',
        ...(sub
          ? {
              substitution: {
                id: String(sub._id),
                substituteId: String(sub.substituteId),
                substituteName: n.person.get(String(sub.substituteId)) ?? '—',
                ...(sub.reason ? { reason: sub.reason } : {}),
              },
            }
          : {}),
      };
    });
}

/**
 * Puts `substituteId` on the slot's lesson of `date` (R7). A substitution already set for that lesson
 * is replaced (the audit keeps who it was). Refused: a date that is not a school day or not the slot's,
 * a closed year (R30), a cancelled lesson, the lesson's own teacher, someone who is not a working teacher.
 */
export async function createSubstitution(db: Db, actor: Actor, input: unknown, now: Date): Promise<SubstitutionView> {
  assertCanSubstitute(actor);
  const parsed = substitutionInput.safeParse(input);
  if (!parsed.success) throw new DomainError('office.subs.invalid');
  const { slotId, date: day, substituteId, reason } = parsed.data;
  const schoolId = actor.schoolId;
  const slot = await db.models.TimetableSlot.findOne({ _id: toObjectId(slotId), schoolId }).lean();
  if (!slot) throw new AccessDenied();
  const valid = await db.models.TimetableSlot.exists({ _id: slot._id, ...slotsValidOn(schoolId, day) });
  if (!valid || !(await isSchoolDay(db, schoolId, day))) throw new DomainError('office.subs.noLesson');
  await assertDateWritable(db, schoolId, day);
  const teacher = await db.models.Person.exists({ _id: toObjectId(substituteId), schoolId, roles: 'teacher', active: { $ne: false } });
  if (!teacher) throw new AccessDenied();
  if (String(slot.teacherId) === substituteId) throw new DomainError('office.subs.ownTeacher');
  const lesson = await db.models.Lesson.findOne({ slotId: slot._id, date: day }, { status: 1 }).lean();
  if (lesson?.status === 'cancelled') throw new DomainError('journal.cancelled');
  const before = await db.models.Substitution.findOne({ slotId: slot._id, date: day }).lean();
  const doc = await db.models.Substitution.findOneAndUpdate(
    { slotId: slot._id, date: day },
    {
      $set: { substituteId: toObjectId(substituteId), reason: reason || undefined, createdBy: actor.personId ?? undefined },
      $setOnInsert: { schoolId },
    },
    { upsert: true, returnDocument: 'after' },
  ).lean();
  if (!doc) throw new AccessDenied();
  // The lesson made already for that date follows at once (lessons.ts would on the next read too).
  await db.models.Lesson.updateOne({ slotId: slot._id, date: day }, { $set: { substituteId: doc.substituteId } });
  await appendAudit(db, actor, now, {
    action: before ? 'substitution.changed' : 'substitution.created',
    entity: { type: 'Substitution', id: doc._id },
    ...(lesson ? { lessonId: lesson._id } : {}),
    before: before ? { substituteId: String(before.substituteId), reason: before.reason ?? null } : null,
    after: { slotId, date: day, substituteId, reason: reason || null },
  });
  const [view] = await describe(db, actor, [doc]);
  return view as SubstitutionView;
}

/**
 * Cancels a substitution (R7): the lesson is its own teacher's again. What the substitute entered
 * (marks, attendance) stays. One already cancelled, or another school's, is refused as not found.
 */
export async function cancelSubstitution(db: Db, actor: Actor, substitutionId: string, now: Date): Promise<void> {
  assertCanSubstitute(actor);
  if (!/^[0-9a-f]{24}$/i.test(substitutionId)) throw new AccessDenied();
  const found = await db.models.Substitution.findOne({ _id: toObjectId(substitutionId), schoolId: actor.schoolId }, { date: 1 }).lean();
  if (!found) throw new DomainError('office.subs.gone');
  await assertDateWritable(db, actor.schoolId, found.date);
  const doc = await db.models.Substitution.findOneAndDelete({ _id: found._id, schoolId: actor.schoolId }).lean();
  if (!doc) throw new DomainError('office.subs.gone');
  const lesson = await db.models.Lesson.findOneAndUpdate(
    { slotId: doc.slotId, date: doc.date, substituteId: doc.substituteId },
    { $set: { substituteId: null } },
  ).lean();
  await appendAudit(db, actor, now, {
    action: 'substitution.cancelled',
    entity: { type: 'Substitution', id: doc._id },
    ...(lesson ? { lessonId: lesson._id } : {}),
    before: { slotId: String(doc.slotId), date: doc.date, substituteId: String(doc.substituteId), reason: doc.reason ?? null },
    after: null,
  });
}

type SubRow = { _id: Id; slotId: Id; date: string; substituteId: Id; reason?: string | null };

async function describe(db: Db, actor: Actor, subs: SubRow[]): Promise<SubstitutionView[]> {
  const slots = await db.models.TimetableSlot.find(
    { schoolId: actor.schoolId, _id: { $in: subs.map((s) => s.slotId) } },
    { classId: 1, groupId: 1, subjectId: 1, teacherId: 1, lessonNo: 1 },
  ).lean();
  const slotOf = new Map(slots.map((s) => [String(s._id), s]));
  const n = await namesFor(db, actor.schoolId, slots, subs.map((s) => s.substituteId));
  return subs.flatMap((s) => {
    const slot = slotOf.get(String(s.slotId));
    if (!slot) return [];
    return [
      {
        id: String(s._id),
        date: s.date,
        slotId: String(s.slotId),
        lessonNo: slot.lessonNo,
        className: n.cls.get(String(slot.classId)) ?? '—',
        ...(slot.groupId ? { groupName: n.group.get(String(slot.groupId)) } : {}),
        subjectName: n.subject.get(String(slot.subjectId)) ?? '—',
        teacherName: n.person.get(String(slot.teacherId)) ?? '—',
        substituteId: String(s.substituteId),
        substituteName: n.person.get(String(s.substituteId)) ?? '—',
        ...(s.reason ? { reason: s.reason } : {}),
      },
    ];
  });
}

/** The substitutions from `from` on (at most 200), by date and lesson number: the deputy's list. */
export async function listSubstitutions(db: Db, actor: Actor, from: LocalDate): Promise<SubstitutionView[]> {
  assertCanSubstitute(actor);
  if (!isLocalDate(from)) throw new DomainError('journal.badRange');
  const subs = await db.models.Substitution.find({ schoolId: actor.schoolId, date: { $gte: from } })
    .sort({ date: 1 })
    .limit(200)
    .lean();
  return (await describe(db, actor, subs)).sort((a, b) => a.date.localeCompare(b.date) || a.lessonNo - b.lessonNo || a.className.localeCompare(b.className, 'ru'));
}
