import { Types } from 'mongoose';
import type { Db } from '../../db/index.js';
import { cachedSchool } from '../../db/school-cache.js';
import type { AssessmentRule } from '../journal/assessment.js';
import { assessmentRuleOf } from '../journal/period-marks.js';
import { fullName, studentsOfClass } from '../school/people.js';
import { rulesOf, type SchoolRules } from '../school/rules.js';
import type { LocalDate } from '../shared/calendar.js';
import { NotFound } from '../shared/errors.js';
import { STUDYING_STATUS } from '../shared/vocabulary.js';
import { pairVisible } from './access.js';
import type { ReportScope } from './types.js';

/**
 * What every figure of a report reads, loaded once per report with a few bulk queries (never one
 * per student): the roster at the end of the span, groups, subjects, the teaching load, the lessons
 * held up to today, the current marks and the absences of the span.
 */
const oid = (id: string) => new Types.ObjectId(id);

export interface RosterStudent {
  studentId: string;
  name: string;
  classId: string;
}

export interface LessonRow {
  id: string;
  date: LocalDate;
  classId: string;
  groupId?: string;
  subjectId: string;
  teacherId: string;
  /** Who held it: the substitute when there was one. */
  heldBy: string;
  cancelled: boolean;
  attendance: boolean;
  topic: boolean;
  homework: boolean;
}

export interface ReportData {
  scope: ReportScope;
  rule: AssessmentRule;
  rules: SchoolRules;
  classes: Map<string, { name: string; grade: number }>;
  /** Students counted (see `rosterOf`), in class and name order. */
  students: RosterStudent[];
  /** Students exempt from PE at some time in the span (R21): a dated exemption, or the import's open-ended flag. */
  peExempt: Set<string>;
  /** The period's marks (a period scope), of the students counted and the pairs in view. */
  periodMarks: Array<{ studentId: string; subjectId: string; value: string }>;
  /** Confirmed timetable slots of the classes (coverage's `timetabled`). */
  slots: Array<{ classId: string; groupId?: string; subjectId: string; teacherId: string; weekday: number; validFrom: LocalDate; validTo?: LocalDate }>;
  /** The calendar-thematic plan's topics of the classes (R8–R10). */
  plan: Array<{ classId: string; groupId?: string; subjectId: string; hours: number; periodCode?: string }>;
  groups: Map<string, { id: string; name: string; classId: string; subjectId: string; studentIds: Set<string> }>;
  subjects: Map<string, { name: string; assessment: 'marks' | 'passfail'; pe: boolean }>;
  load: Array<{ classId: string; groupId?: string; subjectId: string; teacherId: string; hoursPerYear: number }>;
  /** Lessons of the classes in the span up to today that the scope may see (cancelled ones included, flagged). */
  lessons: LessonRow[];
  marks: Array<{ lessonId: string; studentId: string; subjectId: string; value: number; weight: number; workKind: string; date: LocalDate; createdAt: Date }>;
  absences: Array<{ lessonId: string; studentId: string; code: 'Н' | 'Б' | 'У'; date: LocalDate }>;
  /** The last day lessons count to: the span's end or today, whichever is first. */
  until: LocalDate;
}

/**
 * The students counted at the end of the span: those of the classes still at the school, except
 * those who arrived after the span; those who have left count only when they left after it
 * (issue 14: "students who left before the period's end are not counted; those who arrived count").
 * Also returns the students flagged PE-exempt by the import (R21).
 */
async function rosterOf(db: Db, scope: ReportScope): Promise<{ students: RosterStudent[]; peExempt: Set<string> }> {
  const schoolId = oid(scope.schoolId);
  const classIds = scope.classes.map((c) => c.classId);
  if (classIds.length === 0) return { students: [], peExempt: new Set() };
  const everyone = await studentsOfClass(db, schoolId, classIds, { includeLeft: true });
  const wanted = scope.studentId ? everyone.filter((s) => s.studentId === scope.studentId) : everyone;
  const ids = wanted.map((s) => oid(s.studentId));
  const [people, moves] = await Promise.all([
    db.models.Person.find({ _id: { $in: ids } }, { student: 1, active: 1 }).lean(),
    db.models.StudentMovement.find({ schoolId, studentId: { $in: ids }, date: { $gt: scope.to } }, { studentId: 1, kind: 1, toClassId: 1 }).lean(),
  ]);
  const gone: readonly string[] = STUDYING_STATUS.$nin;
  const still = new Set(people.filter((p) => p.active !== false && !gone.includes(p.student?.status ?? '')).map((p) => String(p._id)));
  const classOf = new Map(people.map((p) => [String(p._id), String(p.student?.classId)]));
  const leftAfter = new Set(moves.filter((m) => m.kind !== 'arrival').map((m) => String(m.studentId)));
  const arrivedAfter = new Set(
    moves.filter((m) => m.kind === 'arrival' || (m.kind === 'transfer' && classOf.get(String(m.studentId)) === String(m.toClassId))).map((m) => String(m.studentId)),
  );
  const order = new Map(classIds.map((id, i) => [id, i]));
  const students = wanted
    .filter((s) => (still.has(s.studentId) ? !arrivedAfter.has(s.studentId) : leftAfter.has(s.studentId)))
    .map((s) => ({ studentId: s.studentId, name: s.fullName, classId: classOf.get(s.studentId) ?? '' }))
    .sort((a, b) => (order.get(a.classId) ?? 0) - (order.get(b.classId) ?? 0));
  return { students, peExempt: new Set(people.filter((p) => p.student?.peExempt).map((p) => String(p._id))) };
}

const MARK_FIELDS = { lessonId: 1, studentId: 1, classId: 1, subjectId: 1, value: 1, weight: 1, workKind: 1, date: 1, createdAt: 1 } as const;

/**
 * The current marks of the span: a class or a student by the students' index (studentId, subjectId,
 * date); a grade level or the school by its classes and dates.
 */
function marksOf(db: Db, scope: ReportScope, studentIds: string[]) {
  const span = { date: { $gte: scope.from, $lte: scope.to }, deletedAt: null };
  if (scope.kind === 'student' || scope.kind === 'class') {
    return db.models.Mark.find({ studentId: { $in: studentIds.map(oid) }, ...span }, MARK_FIELDS).lean();
  }
  return db.models.Mark.find({ schoolId: oid(scope.schoolId), classId: { $in: scope.classes.map((c) => oid(c.classId)) }, ...span }, MARK_FIELDS).lean();
}

export async function loadReportData(db: Db, scope: ReportScope): Promise<ReportData> {
  const schoolId = oid(scope.schoolId);
  const school = await cachedSchool(db, schoolId);
  if (!school) throw new NotFound('school');
  const classIds = scope.classes.map((c) => oid(c.classId));
  const until = scope.to < scope.today ? scope.to : scope.today;
  const inClasses = { schoolId, classId: { $in: classIds } };
  const roster = await rosterOf(db, scope);
  const students = roster.students;
  const ids = students.map((st) => oid(st.studentId));
  const few = scope.kind === 'student' || scope.kind === 'class';
  const [rule, groups, subjects, load, lessons, marks, absences, periodMarks, exemptions, slots, plan] = await Promise.all([
    assessmentRuleOf(db, schoolId),
    db.models.Group.find(inClasses, { name: 1, classId: 1, subjectId: 1, studentIds: 1 }).lean(),
    db.models.Subject.find({ schoolId }, { name: 1, assessment: 1, pe: 1 }).lean(),
    db.models.TeachingLoad.find(inClasses, { classId: 1, groupId: 1, subjectId: 1, teacherId: 1, hoursPerYear: 1 }).lean(),
    db.models.Lesson.find(
      { ...inClasses, date: { $gte: scope.from, $lte: until } },
      { date: 1, classId: 1, groupId: 1, subjectId: 1, teacherId: 1, substituteId: 1, status: 1, attendanceTakenAt: 1, topic: 1, homework: 1 },
    ).lean(),
    marksOf(
      db,
      scope,
      students.map((st) => st.studentId),
    ),
    db.models.Absence.find({ ...inClasses, date: { $gte: scope.from, $lte: until } }, { lessonId: 1, studentId: 1, code: 1, date: 1 }).lean(),
    // A class or a student: by the students' index; a grade level or the school: the period's marks of the school, filtered below.
    scope.period && ids.length
      ? db.models.PeriodMark.find(
          { schoolId, yearId: oid(scope.yearId), periodCode: scope.period.code, ...(few ? { studentId: { $in: ids } } : {}) },
          { studentId: 1, subjectId: 1, value: 1 },
        ).lean()
      : [],
    ids.length
      ? db.models.PeExemption.find({ schoolId, studentId: { $in: ids }, revokedAt: null, from: { $lte: scope.to }, to: { $gte: scope.from } }, { studentId: 1 }).lean()
      : [],
    db.models.TimetableSlot.find(
      { ...inClasses, draft: { $ne: true } },
      { classId: 1, groupId: 1, subjectId: 1, teacherId: 1, weekday: 1, validFrom: 1, validTo: 1 },
    ).lean(),
    db.models.PlanItem.find(inClasses, { classId: 1, groupId: 1, subjectId: 1, hours: 1, periodCode: 1 }).lean(),
  ]);
  const classOf = new Map(students.map((st) => [st.studentId, st.classId]));
  const classSet = new Set(scope.classes.map((c) => c.classId));
  const visible = lessons.filter((l) => pairVisible(scope, String(l.classId), String(l.subjectId)));
  const shown = new Set(visible.map((l) => String(l._id)));
  return {
    scope,
    rule,
    rules: rulesOf(school),
    classes: new Map(scope.classes.map((c) => [c.classId, { name: c.name, grade: c.grade }])),
    students,
    peExempt: new Set([...roster.peExempt, ...exemptions.map((e) => String(e.studentId))]),
    periodMarks: periodMarks
      .filter((m) => classOf.has(String(m.studentId)) && pairVisible(scope, classOf.get(String(m.studentId)) ?? '', String(m.subjectId)))
      .map((m) => ({ studentId: String(m.studentId), subjectId: String(m.subjectId), value: m.value })),
    slots: slots
      .filter((sl) => pairVisible(scope, String(sl.classId), String(sl.subjectId)))
      .map((sl) => ({
        classId: String(sl.classId),
        ...(sl.groupId ? { groupId: String(sl.groupId) } : {}),
        subjectId: String(sl.subjectId),
        teacherId: String(sl.teacherId),
        weekday: sl.weekday,
        validFrom: sl.validFrom,
        validTo: sl.validTo ?? undefined,
      })),
    plan: plan.map((i) => ({
      classId: String(i.classId),
      ...(i.groupId ? { groupId: String(i.groupId) } : {}),
      subjectId: String(i.subjectId),
      hours: i.hours,
      periodCode: i.periodCode ?? undefined,
    })),
    groups: new Map(
      groups.map((g) => [String(g._id), { id: String(g._id), name: g.name, classId: String(g.classId), subjectId: String(g.subjectId), studentIds: new Set(g.studentIds.map(String)) }]),
    ),
    subjects: new Map(subjects.map((s) => [String(s._id), { name: s.name, assessment: s.assessment === 'passfail' ? 'passfail' : 'marks', pe: Boolean(s.pe) }])),
    load: load
      .filter((l) => pairVisible(scope, String(l.classId), String(l.subjectId)))
      .map((l) => ({
        classId: String(l.classId),
        ...(l.groupId ? { groupId: String(l.groupId) } : {}),
        subjectId: String(l.subjectId),
        teacherId: String(l.teacherId),
        hoursPerYear: l.hoursPerYear,
      })),
    lessons: visible.map((l) => ({
      id: String(l._id),
      date: l.date,
      classId: String(l.classId),
      ...(l.groupId ? { groupId: String(l.groupId) } : {}),
      subjectId: String(l.subjectId),
      teacherId: String(l.teacherId),
      heldBy: String(l.substituteId ?? l.teacherId),
      cancelled: l.status === 'cancelled',
      attendance: Boolean(l.attendanceTakenAt),
      topic: Boolean(l.topic?.trim()),
      homework: Boolean(l.homework?.text?.trim() || l.homework?.attachments?.length),
    })),
    marks: marks
      .filter((m) => classSet.has(String(m.classId)) && pairVisible(scope, String(m.classId), String(m.subjectId)))
      .map((m) => ({
        lessonId: String(m.lessonId),
        studentId: String(m.studentId),
        subjectId: String(m.subjectId),
        value: m.value,
        weight: m.weight,
        workKind: m.workKind,
        date: m.date,
        createdAt: m.createdAt,
      })),
    absences: absences
      .filter((a) => shown.has(String(a.lessonId)))
      .map((a) => ({ lessonId: String(a.lessonId), studentId: String(a.studentId), code: a.code as 'Н' | 'Б' | 'У', date: a.date })),
    until,
  };
}

/** Does this lesson concern this student (a class lesson, or a lesson of a group the student is in)? */
export function lessonConcerns(data: ReportData, lesson: Pick<LessonRow, 'classId' | 'groupId'>, student: RosterStudent): boolean {
  if (lesson.classId !== student.classId) return false;
  if (!lesson.groupId) return true;
  return data.groups.get(lesson.groupId)?.studentIds.has(student.studentId) ?? false;
}

/** Items grouped by a key, in their order. */
export function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}

export const studentsByClass = (students: readonly RosterStudent[]) => groupBy(students, (s) => s.classId);

const namesCache = new WeakMap<ReportData, Promise<Map<string, string>>>();

/** Full names of the teachers of the report (the load's, the lessons' and their substitutes'), one query per report. */
export function teacherNames(db: Db, data: ReportData): Promise<Map<string, string>> {
  let names = namesCache.get(data);
  if (!names) {
    const ids = new Set([...data.load.map((l) => l.teacherId), ...data.lessons.flatMap((l) => [l.teacherId, l.heldBy])]);
    names = namesOf(db, data.scope.schoolId, ids);
    namesCache.set(data, names);
  }
  return names;
}

/** Full names of these people, one query. */
export async function namesOf(db: Db, schoolId: string, ids: Iterable<string>): Promise<Map<string, string>> {
  const wanted = [...new Set(ids)].filter((id) => /^[0-9a-f]{24}$/i.test(id)).map(oid);
  if (wanted.length === 0) return new Map();
  const people = await db.models.Person.find({ schoolId: oid(schoolId), _id: { $in: wanted } }, { firstName: 1, lastName: 1, middleName: 1 }).lean();
  return new Map(people.map((p) => [String(p._id), fullName(p)]));
}
