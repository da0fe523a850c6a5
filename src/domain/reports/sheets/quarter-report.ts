import type { Db } from '../../../db/index.js';
import type { Actor } from '../../school/actor.js';
import { DomainError } from '../../shared/errors.js';
import { reportFor } from '../index.js';
import type { AttendanceTotals, ProgressCell, Report, ReportRequest, StudentAttendance } from '../types.js';
import { type SheetHead, sheetHead, sheetScope } from './common.js';

/**
 * The class teacher's report for a period (R27, R28): success, quality, СОУ and the average mark by
 * subject and overall, attendance (lessons and days missed by reason), and the students with a 2
 * or not assessed. The figures are the reports' own (../types.ts, computed and access-checked by
 * the caller through resolveReportScope); this only lays them out for the document.
 */
export interface QuarterRow {
  subject: string;
  cell: ProgressCell;
}

export interface QuarterReport {
  head: SheetHead;
  rows: QuarterRow[];
  overall: ProgressCell;
  attendance: AttendanceTotals;
  students: StudentAttendance[];
  /** Students with a 2 (or Н/Б/У: not assessed) in a subject, with those subjects. */
  concerns: Array<{ name: string; failing: string[]; notAssessed: string[] }>;
}

export async function classQuarterReport(db: Db, report: Pick<Report, 'scope' | 'progress' | 'attendance'>, now = new Date()): Promise<QuarterReport> {
  const { scope, progress, attendance } = report;
  const cls = scope.classes[0];
  if (scope.kind !== 'class' || !cls) throw new DomainError('reports.noYear');
  const head = await sheetHead(db, scope, cls.classId, now);
  const subjectName = new Map(progress.subjects.map((s) => [s.subjectId, s.subjectName]));
  const concerns = progress.students
    .map((s) => {
      const named = (pick: (v: string) => boolean) =>
        Object.entries(s.marks)
          .filter(([, v]) => pick(v))
          .map(([id]) => subjectName.get(id) ?? '—')
          .sort((a, b) => a.localeCompare(b, 'ru'));
      return { name: s.name, failing: named((v) => v === '2'), notAssessed: named((v) => v === 'Н' || v === 'Б' || v === 'У') };
    })
    .filter((c) => c.failing.length > 0 || c.notAssessed.length > 0)
    .sort((a, b) => a.name.localeCompare(b.name, 'ru'));
  return {
    head,
    rows: progress.subjects.map((s) => ({ subject: s.subjectName, cell: s })),
    overall: progress.overall,
    attendance: attendance.total,
    students: [...attendance.students].sort((a, b) => a.name.localeCompare(b.name, 'ru')),
    concerns,
  };
}

/** The whole way for a face: checks the actor (the class teacher, the deputy, the admin: every subject), computes, lays out. */
export async function classTeacherReport(
  db: Db,
  actor: Actor,
  classId: string,
  span: Pick<ReportRequest, 'periodCode' | 'from' | 'to' | 'yearId'> = {},
  now = new Date(),
): Promise<QuarterReport> {
  const scope = await sheetScope(db, actor, { kind: 'class', classId, ...span }, now, { allSubjects: true });
  return classQuarterReport(db, await reportFor(db, scope), now);
}
