import type { Types } from 'mongoose';
import type { Db } from '../../../db/index.js';
import { cachedSchool } from '../../../db/school-cache.js';
import type { Actor } from '../../school/actor.js';
import { fullName, studentsOfClass, toObjectId } from '../../school/people.js';
import { todayOf } from '../../school/rules.js';
import type { LocalDate } from '../../shared/calendar.js';
import { AccessDenied } from '../../shared/errors.js';
import { resolveReportScope } from '../access.js';
import type { ReportRequest, ReportScope } from '../types.js';

/**
 * What every printed document (R25, R29) starts from: the scope checked by the reports' one access
 * rule (../access.ts resolveReportScope: R4, R26), the header facts (school, class, class teacher,
 * year, period, the day it was made) and the class's subjects. Plain data; no rendering here.
 */
type Id = Types.ObjectId;

export interface SheetHead {
  school: string;
  /** The school's language: the documents are written in it unless the caller asks otherwise. */
  locale: 'ru' | 'en';
  className: string;
  classTeacher?: string;
  yearName: string;
  /** The period the document is for (q1…, year); absent for a date range. */
  periodCode?: string;
  from: LocalDate;
  to: LocalDate;
  /** The school's local date the document was made. */
  madeOn: LocalDate;
}

export interface SheetSubject {
  id: string;
  name: string;
  /** The school's short name ("Рус. яз."), when it has one: narrow columns use it. */
  short?: string;
  assessment: 'marks' | 'passfail';
}

/** Checks the request (refuses with AccessDenied) and resolves it; the one call to swap if the rule moves. */
export async function sheetScope(db: Db, actor: Actor, req: ReportRequest, now: Date, opts: { allSubjects?: boolean } = {}): Promise<ReportScope> {
  const scope = await resolveReportScope(db, actor, req, now);
  // Documents about the whole family's week or the whole class need every subject (class teacher, deputy, admin, the family).
  if (opts.allSubjects && scope.pairs) throw new AccessDenied();
  return scope;
}

export async function sheetHead(db: Db, scope: ReportScope, classId: string, now: Date): Promise<SheetHead> {
  const school = await cachedSchool(db, scope.schoolId);
  if (!school) throw new AccessDenied();
  const cls = await db.models.SchoolClass.findOne({ _id: toObjectId(classId), schoolId: school._id }, { name: 1, classTeacherId: 1 }).lean();
  if (!cls) throw new AccessDenied();
  const teacher = cls.classTeacherId ? await db.models.Person.findById(cls.classTeacherId, { lastName: 1, firstName: 1, middleName: 1 }).lean() : null;
  return {
    school: school.name,
    locale: school.locale === 'en' ? 'en' : 'ru',
    className: cls.name,
    ...(teacher ? { classTeacher: fullName(teacher) } : {}),
    yearName: scope.yearName,
    ...(scope.period ? { periodCode: scope.period.code } : {}),
    from: scope.from,
    to: scope.to,
    madeOn: todayOf({ timezone: school.timezone }, now),
  };
}

/**
 * The subjects of a class: by its teaching load, plus any with lessons or period marks in the
 * span (a subject taught without a load row still shows). Sorted by name.
 */
export async function classSubjects(db: Db, schoolId: Id, classId: Id, span: { from: LocalDate; to: LocalDate }, studentIds: Id[] = []): Promise<SheetSubject[]> {
  const [load, lessons, marks] = await Promise.all([
    db.models.TeachingLoad.distinct('subjectId', { schoolId, classId }),
    db.models.Lesson.distinct('subjectId', { schoolId, classId, date: { $gte: span.from, $lte: span.to } }),
    studentIds.length ? db.models.PeriodMark.distinct('subjectId', { schoolId, studentId: { $in: studentIds } }) : [],
  ]);
  const ids = [...new Set([...load, ...lessons, ...marks].map(String))];
  const subjects = await db.models.Subject.find({ schoolId, _id: { $in: ids.map((i) => toObjectId(i)) } }, { name: 1, shortName: 1, assessment: 1 }).lean();
  return subjects
    .map((s) => ({ id: String(s._id), name: s.name, ...(s.shortName ? { short: s.shortName } : {}), assessment: s.assessment === 'passfail' ? ('passfail' as const) : ('marks' as const) }))
    .sort((a, b) => a.name.localeCompare(b.name, 'ru'));
}

/** The class's roster for a document: its students still at school (R5), sorted by full name. */
export async function roster(db: Db, schoolId: Id, classId: Id): Promise<Array<{ id: Id; studentId: string; name: string }>> {
  const list = await studentsOfClass(db, schoolId, classId);
  return list.map((s) => ({ id: toObjectId(s.studentId), studentId: s.studentId, name: s.fullName }));
}

/** The groups a student is in (a group lesson counts for its members only, R6). */
export async function groupsOf(db: Db, schoolId: Id, studentIds: Id[]): Promise<Map<string, Set<string>>> {
  const groups = await db.models.Group.find({ schoolId, studentIds: { $in: studentIds } }, { studentIds: 1 }).lean();
  const out = new Map<string, Set<string>>();
  for (const g of groups) out.set(String(g._id), new Set(g.studentIds.map(String)));
  return out;
}
