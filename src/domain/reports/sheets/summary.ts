import type { Db } from '../../../db/index.js';
import { periodsOf, yearById } from '../../school/academic-year.js';
import type { Actor } from '../../school/actor.js';
import { toObjectId } from '../../school/people.js';
import { DomainError } from '../../shared/errors.js';
import { pairVisible } from '../access.js';
import { classSubjects, roster, type SheetHead, sheetHead, type SheetSubject, sheetScope } from './common.js';

/**
 * The class's summary sheet of the year (сводная ведомость, R29): students down, subjects across,
 * under each subject the mark of every period of the year for the class's grade and the year mark;
 * the last column — the decision of the pedagogical council (date, number) — stays empty for the
 * class teacher to fill by hand.
 */
export interface SummarySheet {
  head: SheetHead;
  /** The period codes under each subject, the year's own last ('q1'…'q4', 'year'). */
  periods: string[];
  subjects: SheetSubject[];
  students: Array<{
    no: number;
    studentId: string;
    name: string;
    /** subjectId → periodCode → the mark as set ('5', 'Н', 'К'…); missing: no mark. */
    marks: Record<string, Record<string, string>>;
  }>;
}

export async function classYearSummary(db: Db, actor: Actor, classId: string, opts: { yearId?: string } = {}, now = new Date()): Promise<SummarySheet> {
  const scope = await sheetScope(db, actor, { kind: 'class', classId, periodCode: 'year', ...(opts.yearId ? { yearId: opts.yearId } : {}) }, now);
  const year = await yearById(db, scope.schoolId, scope.yearId);
  if (!year) throw new DomainError('reports.noYear');
  const cls = scope.classes[0];
  if (!cls) throw new DomainError('reports.noYear');
  const schoolId = toObjectId(scope.schoolId);
  const id = toObjectId(cls.classId);
  const [head, students] = await Promise.all([sheetHead(db, scope, cls.classId, now), roster(db, schoolId, id)]);
  const ids = students.map((s) => s.id);
  const subjects = (await classSubjects(db, schoolId, id, scope, ids)).filter((s) => pairVisible(scope, cls.classId, s.id));
  const periods = [...periodsOf(year, cls.grade).map((p) => p.code), 'year'];
  const marks = await db.models.PeriodMark.find(
    { schoolId, yearId: toObjectId(year.id), studentId: { $in: ids }, periodCode: { $in: periods }, subjectId: { $in: subjects.map((s) => toObjectId(s.id)) } },
    { studentId: 1, subjectId: 1, periodCode: 1, value: 1 },
  ).lean();
  const byStudent = new Map<string, Record<string, Record<string, string>>>();
  for (const m of marks) {
    const row = byStudent.get(String(m.studentId)) ?? {};
    const subject = String(m.subjectId);
    row[subject] = { ...(row[subject] ?? {}), [m.periodCode]: m.value };
    byStudent.set(String(m.studentId), row);
  }
  return {
    head,
    periods,
    subjects,
    students: students.map((s, i) => ({ no: i + 1, studentId: s.studentId, name: s.name, marks: byStudent.get(s.studentId) ?? {} })),
  };
}
