import type { Db } from '../../db/index.js';
import { cachedSchool } from '../../db/school-cache.js';
import { type AcademicYear, currentYear, periodsOf, yearById } from '../school/academic-year.js';
import { isAdmin } from '../school/access.js';
import type { Actor } from '../school/actor.js';
import { assertConsent, toObjectId } from '../school/people.js';
import { todayOf } from '../school/rules.js';
import { isLocalDate, type LocalDate } from '../shared/calendar.js';
import { AccessDenied, DomainError } from '../shared/errors.js';
import type { PairKey, ReportRequest, ReportScope } from './types.js';

/**
 * Who may see which report (issue 14, R4, R26–R28), checked here whatever the face:
 * - the deputy and the admin (and the CLI operator and the jobs, which act as admin): any scope;
 * - a class teacher: their class, and any student of it, in every subject (R26);
 * - a teacher: a class they teach (load or timetable, groups included) or a student of it, in the
 *   subjects they teach there only;
 * - a parent: their own child (student scope); a student: themself.
 * Everything else — a grade level or the school for anyone but the deputy and the admin, another
 * class, another child, another school's ids — is refused with AccessDenied, which says nothing
 * about whether the thing exists.
 */

const leads = (a: Actor) => isAdmin(a) || a.roles.has('deputy');

type ClassRow = { classId: string; name: string; grade: number };

function spanOf(year: AcademicYear, req: ReportRequest, today: LocalDate, grade?: number): Pick<ReportScope, 'period' | 'from' | 'to'> {
  if (req.periodCode) {
    const p = year.periods.find((x) => x.code === req.periodCode);
    if (!p || (grade !== undefined && p.grades.length > 0 && !p.grades.includes(grade))) throw new DomainError('reports.badPeriod', { period: req.periodCode.slice(0, 10) });
    return { period: { code: p.code, kind: p.kind, startsOn: p.startsOn, endsOn: p.endsOn }, from: p.startsOn, to: p.endsOn };
  }
  if (req.from || req.to) {
    const from = req.from ?? year.startsOn;
    const to = req.to ?? today;
    if (!isLocalDate(from) || !isLocalDate(to) || to < from) throw new DomainError('reports.badRange', { from: String(from).slice(0, 10), to: String(to).slice(0, 10) });
    return { from, to };
  }
  const terms = periodsOf(year, grade);
  const p = terms.find((t) => t.startsOn <= today && today <= t.endsOn) ?? terms.filter((t) => t.endsOn < today).at(-1);
  if (!p) return { from: year.startsOn, to: year.endsOn };
  return { period: { code: p.code, kind: p.kind, startsOn: p.startsOn, endsOn: p.endsOn }, from: p.startsOn, to: p.endsOn };
}

/** The pairs a teacher teaches in these classes: by the teaching load and the timetable (groups carry their class). */
async function taughtPairs(db: Db, actor: Actor, classIds: string[]): Promise<PairKey[]> {
  if (!actor.personId || !actor.roles.has('teacher')) return [];
  const filter = { schoolId: actor.schoolId, teacherId: actor.personId, classId: { $in: classIds.map((id) => toObjectId(id)) } };
  const [load, slots] = await Promise.all([
    db.models.TeachingLoad.find(filter, { classId: 1, subjectId: 1 }).lean(),
    db.models.TimetableSlot.find({ ...filter, draft: { $ne: true } }, { classId: 1, subjectId: 1 }).lean(),
  ]);
  return [...new Set([...load, ...slots].map((l) => `${l.classId}|${l.subjectId}`))].sort();
}

async function classesOf(db: Db, actor: Actor, filter: Record<string, unknown>): Promise<ClassRow[]> {
  const list = await db.models.SchoolClass.find({ schoolId: actor.schoolId, closedAt: null, ...filter }, { name: 1, grade: 1, letter: 1 }).lean();
  return list
    .sort((a, b) => a.grade - b.grade || a.letter.localeCompare(b.letter, 'ru'))
    .map((c) => ({ classId: String(c._id), name: c.name, grade: c.grade }));
}

/**
 * Checks a report request against the actor's rights and resolves it: the year, the period or the
 * range, the classes, and (for a teacher) the class × subject pairs they may see.
 */
export async function resolveReportScope(db: Db, actor: Actor, req: ReportRequest, now: Date = new Date()): Promise<ReportScope> {
  const school = await cachedSchool(db, actor.schoolId);
  if (!school) throw new AccessDenied();
  const today = todayOf({ timezone: school.timezone }, now);
  let classes: ClassRow[];
  let pairs: PairKey[] | undefined;
  let studentId: string | undefined;
  if (req.kind === 'student') {
    if (!req.studentId) throw new AccessDenied();
    const s = await db.models.Person.findOne({ _id: toObjectId(req.studentId), schoolId: actor.schoolId, roles: 'student' }, { student: 1 }).lean();
    if (!s?.student?.classId) throw new AccessDenied();
    studentId = String(s._id);
    classes = await classesOf(db, actor, { _id: s.student.classId });
    const classId = String(s.student.classId);
    const family = actor.childIds.has(studentId) || (actor.roles.has('student') && String(actor.personId) === studentId);
    if (family) await assertConsent(db, actor); // R32
    else if (!leads(actor) && !actor.classTeacherOf.has(classId)) {
      pairs = await taughtPairs(db, actor, [classId]);
      if (pairs.length === 0) throw new AccessDenied();
    }
  } else if (req.kind === 'class') {
    if (!req.classId) throw new AccessDenied();
    classes = await classesOf(db, actor, { _id: toObjectId(req.classId) });
    if (classes.length === 0) throw new AccessDenied();
    if (!leads(actor) && !actor.classTeacherOf.has(req.classId)) {
      pairs = await taughtPairs(db, actor, [req.classId]);
      if (pairs.length === 0) throw new AccessDenied();
    }
  } else if (req.kind === 'grade' || req.kind === 'school') {
    if (!leads(actor)) throw new AccessDenied();
    if (req.kind === 'grade' && !(Number.isInteger(req.grade) && (req.grade as number) >= 1 && (req.grade as number) <= 11)) {
      throw new DomainError('reports.badGrade');
    }
    classes = await classesOf(db, actor, req.kind === 'grade' ? { grade: req.grade } : {});
  } else {
    throw new AccessDenied();
  }
  const year = req.yearId ? await yearById(db, actor.schoolId, req.yearId) : await currentYear(db, actor.schoolId, today);
  if (!year) throw new DomainError('reports.noYear');
  const oneGrade = req.kind === 'school' ? undefined : (req.grade ?? classes[0]?.grade);
  const span = spanOf(year, req, today, oneGrade);
  // A period for some grade levels only (quarters 1–9, halves 10–11): the school's report keeps those classes.
  const p = span.period ? year.periods.find((x) => x.code === span.period?.code) : undefined;
  if (p?.grades.length) classes = classes.filter((c) => p.grades.includes(c.grade));
  return {
    kind: req.kind,
    schoolId: String(actor.schoolId),
    yearId: year.id,
    yearName: year.name,
    yearStartsOn: year.startsOn,
    yearEndsOn: year.endsOn,
    holidays: year.holidays.map((h) => ({ startsOn: h.startsOn, endsOn: h.endsOn })),
    ...span,
    today,
    classes,
    ...(studentId ? { studentId } : {}),
    ...(req.kind === 'grade' ? { grade: req.grade } : {}),
    ...(pairs ? { pairs } : {}),
  };
}

/** May the scope show this class × subject? */
export const pairVisible = (scope: Pick<ReportScope, 'pairs'>, classId: string, subjectId: string): boolean =>
  !scope.pairs || scope.pairs.includes(`${classId}|${subjectId}`);
