import type { Db } from '../../db/index.js';
import type { Actor } from '../school/actor.js';
import { resolveReportScope } from './access.js';
import { attendanceFigures } from './attendance.js';
import { coverageFigures } from './coverage.js';
import { loadReportData } from './data.js';
import { fillingFigures } from './filling.js';
import { progressFigures } from './progress.js';
import type { Report, ReportRequest, ReportScope } from './types.js';

/**
 * The report figures of issue 14 (R26–R28), one entry point per face: the request is checked
 * against the actor's rights (access.ts, AccessDenied otherwise), the data read once with a few
 * bulk queries (data.ts), and every figure computed from it. Definitions: docs/reports.md.
 */
export type * from './types.js';
export { resolveReportScope, pairVisible } from './access.js';
export { SOU_WEIGHTS } from './progress.js';

/** All four figures for a scope already resolved (the documents and jobs that resolved it themselves). */
export async function reportFor(db: Db, scope: ReportScope): Promise<Report> {
  const data = await loadReportData(db, scope);
  const [filling, coverage] = await Promise.all([fillingFigures(db, data), coverageFigures(db, data)]);
  return { scope, progress: progressFigures(data), attendance: attendanceFigures(data), filling, coverage };
}

/** Any scope: a student, a class, a grade level, the school; a period or a date range. */
export async function buildReport(db: Db, actor: Actor, request: ReportRequest, now: Date = new Date()): Promise<Report> {
  return reportFor(db, await resolveReportScope(db, actor, request, now));
}

type Span = Pick<ReportRequest, 'periodCode' | 'from' | 'to' | 'yearId'>;

export const studentReport = (db: Db, actor: Actor, studentId: string, span: Span = {}, now?: Date) =>
  buildReport(db, actor, { kind: 'student', studentId, ...span }, now);

export const classReport = (db: Db, actor: Actor, classId: string, span: Span = {}, now?: Date) =>
  buildReport(db, actor, { kind: 'class', classId, ...span }, now);

export const gradeReport = (db: Db, actor: Actor, grade: number, span: Span = {}, now?: Date) =>
  buildReport(db, actor, { kind: 'grade', grade, ...span }, now);

export const schoolReport = (db: Db, actor: Actor, span: Span = {}, now?: Date) => buildReport(db, actor, { kind: 'school', ...span }, now);
