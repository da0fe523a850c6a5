import type { Types } from 'mongoose';
import type { Db } from '../../db/index.js';
import { addDays, localDate } from '../shared/calendar.js';
import { canReadStudent } from '../school/access.js';
import { currentYear, periodsOf } from '../school/academic-year.js';
import type { Actor } from '../school/actor.js';
import { AccessDenied } from '../shared/errors.js';
import { assertConsent, fullName, shortName, toObjectId } from '../school/people.js';

/**
 * Opening a child's diary (электронный дневник, R24) for a reader. Every read of the diary starts
 * with `openStudent`, which refuses (AccessDenied) unless `canReadStudent` (R4) and, for family
 * members, the privacy consent (R32); then the period a family means by "now".
 */
type Id = Types.ObjectId;

export interface Names {
  ru: string;
  en: string;
}

export interface DiaryStudent {
  studentId: string;
  name: string;
  fullName: string;
  classId?: string;
  className?: string;
  /** The class's grade level: which periods apply (quarters for 1–9, halves for 10–11). */
  grade?: number;
  schoolId: string;
  timezone: string;
  today: string;
}

export interface Opened {
  student: DiaryStudent;
  id: Id;
  schoolId: Id;
  classId?: Id;
  groupIds: string[];
  workKinds: Map<string, { name: Names }>;
  bells: Map<number, { start: string; end: string }>;
}

/** Loads the student for a reader, or refuses. A forged id is refused like a foreign one. */
export async function openStudent(db: Db, actor: Actor, studentId: string, now: Date): Promise<Opened> {
  const id = toObjectId(studentId);
  if (!(await canReadStudent(db, actor, id))) throw new AccessDenied();
  const family = actor.childIds.has(String(id)) || String(actor.personId) === String(id);
  if (family) await assertConsent(db, actor);
  const { Person, School, SchoolClass, Group } = db.models;
  const [s, school] = await Promise.all([
    Person.findOne({ _id: id, schoolId: actor.schoolId }, { firstName: 1, lastName: 1, middleName: 1, student: 1 }).lean(),
    School.findById(actor.schoolId, { timezone: 1, settings: 1 }).lean(),
  ]);
  if (!s || !school) throw new AccessDenied();
  const classId = s.student?.classId ?? undefined;
  const [cls, groups] = await Promise.all([
    classId ? SchoolClass.findOne({ _id: classId, schoolId: actor.schoolId }, { name: 1, grade: 1 }).lean() : null,
    Group.find({ schoolId: actor.schoolId, studentIds: id }, { _id: 1 }).lean(),
  ]);
  const workKinds = new Map(
    (school.settings?.workKinds ?? []).map((k) => [k.code, { name: { ru: k.name?.ru ?? k.code, en: k.name?.en ?? k.code } }]),
  );
  const bells = new Map((school.settings?.bells ?? []).map((b) => [b.lessonNo, { start: b.start, end: b.end }]));
  return {
    student: {
      studentId: String(id),
      name: shortName(s),
      fullName: fullName(s),
      classId: classId ? String(classId) : undefined,
      className: cls?.name,
      grade: cls?.grade,
      schoolId: String(actor.schoolId),
      timezone: school.timezone,
      today: localDate(now, school.timezone),
    },
    id,
    schoolId: actor.schoolId,
    classId,
    groupIds: groups.map((g) => String(g._id)),
    workKinds,
    bells,
  };
}

export interface Period {
  yearId: string;
  code: string;
  kind: string;
  startsOn: string;
  endsOn: string;
}

/**
 * The period a family means by "now": the quarter (half, trimester) containing today; in the
 * holidays the one that just ended; before the first one, the first.
 */
export async function currentPeriod(db: Db, schoolId: Id, today: string, grade?: number): Promise<Period | undefined> {
  // A closed year counts too (R30): in the summer after the closing a family still reads the year just ended.
  const year = await currentYear(db, schoolId, today, { archived: true, orUpcoming: true });
  if (!year) return undefined;
  const periods = periodsOf(year, grade);
  const pick =
    periods.find((p) => p.startsOn <= today && today <= p.endsOn) ??
    [...periods].reverse().find((p) => p.endsOn < today) ??
    periods[0];
  if (!pick) return undefined;
  return { yearId: year.id, code: pick.code, kind: pick.kind, startsOn: pick.startsOn, endsOn: pick.endsOn };
}

/** Without an academic calendar: the last 90 days. */
export const fallbackPeriod = (today: string) => ({ startsOn: addDays(today, -90), endsOn: today });

export async function subjectNames(db: Db, schoolId: Id, ids: Iterable<string>): Promise<Map<string, string>> {
  const list = [...new Set(ids)];
  if (list.length === 0) return new Map();
  const subjects = await db.models.Subject.find({ schoolId, _id: { $in: list } }, { name: 1 }).lean();
  return new Map(subjects.map((s) => [String(s._id), s.name]));
}

/** A lesson or slot of a group counts for the student only in their groups; one without a group, for all. */
export const inGroupOf = (o: Opened, groupId: Id | null | undefined) => !groupId || o.groupIds.includes(String(groupId));
