import type { Types } from 'mongoose';
import type { Db } from '../../db/index.js';
import { cachedSchool } from '../../db/school-cache.js';
import { readsWholeSchool } from '../school/access.js';
import type { Actor } from '../school/actor.js';
import { markWindowOf, type MarkWindow, type WindowState, windowState } from '../school/mark-windows.js';
import { fullName, studentsOfClass, toObjectId } from '../school/people.js';
import { settingsOf, todayOf } from '../school/rules.js';
import type { LocalDate } from '../shared/calendar.js';
import { AccessDenied } from '../shared/errors.js';
import { currentYear } from '../school/academic-year.js';
import type { PeriodRef } from './period-marks.js';

/**
 * Where period marks stand (R15, R7, R27): which class or group × subject has which period open,
 * and how many students still have no mark. The teacher's list, the deputy's per-class view and
 * the daily reminder all read it here.
 */
type Id = Types.ObjectId;

interface PeriodLike {
  code: string;
  kind: string;
  startsOn: string;
  endsOn: string;
  grades?: number[] | null;
  markWindow?: { opensOn?: string | null; closesOn?: string | null } | null;
  classWindows?: Array<{ classId: unknown; opensOn?: string | null; closesOn?: string | null }> | null;
}

export interface PeriodTarget {
  classId: string;
  className: string;
  groupId?: string;
  groupName?: string;
  subjectId: string;
  subjectName: string;
  teacherId: string;
  teacherName: string;
  yearId: string;
  periodCode: string;
  window: MarkWindow & { state: WindowState };
  students: number;
  missing: number;
}

const forGrade = (p: PeriodLike, grade: number) => !p.grades?.length || p.grades.includes(grade);

/**
 * The period a class is marking now: one whose window is open (a term before the year), else the
 * term the date falls in, else the last term that has ended.
 */
export function relevantPeriod<P extends PeriodLike>(periods: readonly P[], grade: number, classId: string, today: LocalDate, windowDays: number): P | undefined {
  const mine = periods.filter((p) => forGrade(p, grade)).sort((a, b) => a.endsOn.localeCompare(b.endsOn) || (a.kind === 'year' ? 1 : -1));
  const open = mine.find((p) => windowState(markWindowOf(p, windowDays, classId), today) === 'open');
  if (open) return open;
  const terms = mine.filter((p) => p.kind !== 'year');
  return terms.find((p) => p.startsOn <= today && today <= p.endsOn) ?? terms.filter((p) => p.endsOn < today).at(-1);
}

interface Pair {
  classId: Id;
  groupId?: Id | null;
  subjectId: Id;
  teacherId: Id;
}

async function targetsOf(db: Db, schoolId: Id, pairs: Pair[], now: Date, opts: { onlyOpen?: boolean } = {}): Promise<PeriodTarget[]> {
  if (pairs.length === 0) return [];
  const school = await cachedSchool(db, schoolId);
  if (!school) return [];
  const today = todayOf({ timezone: school.timezone }, now);
  const windowDays = settingsOf(school).finalMarkWindowDays;
  const years = await db.models.AcademicYear.find({ schoolId, status: 'active' }).sort({ startsOn: -1 }).lean();
  const year = years.find((y) => y.startsOn <= today && today <= y.endsOn) ?? years.find((y) => y.startsOn <= today);
  if (!year) return [];
  const ids = (k: keyof Pair) => [...new Set(pairs.flatMap((p) => (p[k] ? [String(p[k])] : [])))].map((id) => toObjectId(id));
  const [classes, subjects, groups, teachers] = await Promise.all([
    db.models.SchoolClass.find({ _id: { $in: ids('classId') }, schoolId }, { name: 1, grade: 1 }).lean(),
    db.models.Subject.find({ _id: { $in: ids('subjectId') }, schoolId }, { name: 1 }).lean(),
    db.models.Group.find({ _id: { $in: ids('groupId') }, schoolId }, { name: 1, studentIds: 1 }).lean(),
    db.models.Person.find({ _id: { $in: ids('teacherId') }, schoolId }, { firstName: 1, lastName: 1, middleName: 1 }).lean(),
  ]);
  const byId = <T extends { _id: Id }>(list: T[]) => new Map(list.map((d) => [String(d._id), d]));
  const [classOf, subjectOf, groupOf, teacherOf] = [byId(classes), byId(subjects), byId(groups), byId(teachers)];
  const rosters = new Map<string, string[]>();
  for (const c of classes) rosters.set(String(c._id), (await studentsOfClass(db, schoolId, c._id)).map((s) => s.studentId));
  const out: PeriodTarget[] = [];
  const wanted: Array<{ target: PeriodTarget; studentIds: string[] }> = [];
  for (const p of pairs) {
    const cls = classOf.get(String(p.classId));
    const subject = subjectOf.get(String(p.subjectId));
    const group = p.groupId ? groupOf.get(String(p.groupId)) : undefined;
    if (!cls || !subject || (p.groupId && !group)) continue;
    const period = relevantPeriod(year.periods, cls.grade, String(cls._id), today, windowDays);
    if (!period) continue;
    const w = markWindowOf(period, windowDays, String(cls._id));
    const state = windowState(w, today);
    if (opts.onlyOpen && state !== 'open') continue;
    const inGroup = group ? new Set(group.studentIds.map(String)) : undefined;
    const studentIds = (rosters.get(String(cls._id)) ?? []).filter((id) => !inGroup || inGroup.has(id));
    const teacher = teacherOf.get(String(p.teacherId));
    const target: PeriodTarget = {
      classId: String(cls._id),
      className: cls.name,
      ...(group ? { groupId: String(group._id), groupName: group.name } : {}),
      subjectId: String(subject._id),
      subjectName: subject.name,
      teacherId: String(p.teacherId),
      teacherName: teacher ? fullName(teacher) : '—',
      yearId: String(year._id),
      periodCode: period.code,
      window: { ...w, state },
      students: studentIds.length,
      missing: studentIds.length,
    };
    wanted.push({ target, studentIds });
    out.push(target);
  }
  const allStudents = [...new Set(wanted.flatMap((w) => w.studentIds))].map((id) => toObjectId(id));
  const marks = await db.models.PeriodMark.find(
    { schoolId, yearId: year._id, studentId: { $in: allStudents } },
    { studentId: 1, subjectId: 1, periodCode: 1 },
  ).lean();
  const have = new Set(marks.map((m) => `${m.studentId}|${m.subjectId}|${m.periodCode}`));
  for (const { target, studentIds } of wanted) {
    target.missing = studentIds.filter((s) => !have.has(`${s}|${target.subjectId}|${target.periodCode}`)).length;
  }
  return out.sort((a, b) => a.className.localeCompare(b.className, 'ru') || a.subjectName.localeCompare(b.subjectName, 'ru'));
}

/** A teacher's own classes and groups × subjects (by the teaching load). */
export async function myPeriodTargets(db: Db, actor: Actor, now: Date): Promise<PeriodTarget[]> {
  if (!actor.personId) return [];
  const load = await db.models.TeachingLoad.find({ schoolId: actor.schoolId, teacherId: actor.personId }).lean();
  return targetsOf(db, actor.schoolId, load, now);
}

/** Every subject of one class: its class teacher (R26), the deputy, the admin, the secretary. */
export async function classPeriodTargets(db: Db, actor: Actor, classId: string, now: Date): Promise<PeriodTarget[]> {
  if (!/^[0-9a-f]{24}$/i.test(classId)) throw new AccessDenied();
  if (!readsWholeSchool(actor) && !actor.classTeacherOf.has(classId)) throw new AccessDenied();
  const load = await db.models.TeachingLoad.find({ schoolId: actor.schoolId, classId: toObjectId(classId) }).lean();
  return targetsOf(db, actor.schoolId, load, now);
}

export interface ClassMissing {
  classId: string;
  className: string;
  periodCode: string;
  state: WindowState;
  missing: number;
  /** Subjects (with their teachers) that still miss marks. */
  subjects: Array<{ subjectName: string; groupName?: string; teacherName: string; missing: number }>;
}

/** The deputy's view (R7, R27): per class, what is still missing for the period being marked. */
export async function missingByClass(db: Db, actor: Actor, now: Date): Promise<ClassMissing[]> {
  if (!readsWholeSchool(actor)) throw new AccessDenied();
  const load = await db.models.TeachingLoad.find({ schoolId: actor.schoolId }).lean();
  const targets = await targetsOf(db, actor.schoolId, load, now);
  const byClass = new Map<string, ClassMissing>();
  for (const t of targets) {
    const row = byClass.get(t.classId) ?? {
      classId: t.classId,
      className: t.className,
      periodCode: t.periodCode,
      state: t.window.state,
      missing: 0,
      subjects: [],
    };
    row.missing += t.missing;
    if (t.missing > 0) row.subjects.push({ subjectName: t.subjectName, groupName: t.groupName, teacherName: t.teacherName, missing: t.missing });
    byClass.set(t.classId, row);
  }
  return [...byClass.values()];
}

/** For the daily reminder (R15): every teacher with marks still missing in an open window, per school. */
export async function teachersMissingPeriodMarks(db: Db, schoolId: Id, now: Date): Promise<Map<string, PeriodTarget[]>> {
  const load = await db.models.TeachingLoad.find({ schoolId }).lean();
  const targets = await targetsOf(db, schoolId, load, now, { onlyOpen: true });
  const out = new Map<string, PeriodTarget[]>();
  for (const t of targets) if (t.missing > 0) out.set(t.teacherId, [...(out.get(t.teacherId) ?? []), t]);
  return out;
}

/**
 * A button's reference (a class or a group, a subject, a period code) to the full reference in the
 * school's current year; a forged or foreign id finds nothing (R4). The use cases check the rights.
 */
export async function resolvePeriodRef(
  db: Db,
  actor: Actor,
  input: { isGroup: boolean; id: string; subjectId: string; periodCode: string },
  now: Date,
): Promise<PeriodRef> {
  if (![input.id, input.subjectId].every((id) => /^[0-9a-f]{24}$/i.test(id))) throw new AccessDenied();
  const school = await cachedSchool(db, actor.schoolId);
  if (!school) throw new AccessDenied();
  const year = await currentYear(db, actor.schoolId, todayOf({ timezone: school.timezone }, now));
  if (!year) throw new AccessDenied();
  if (!input.isGroup) return { classId: input.id, subjectId: input.subjectId, yearId: year.id, periodCode: input.periodCode };
  const group = await db.models.Group.findOne({ _id: toObjectId(input.id), schoolId: actor.schoolId }, { classId: 1 }).lean();
  if (!group) throw new AccessDenied();
  return { classId: String(group.classId), groupId: input.id, subjectId: input.subjectId, yearId: year.id, periodCode: input.periodCode };
}
