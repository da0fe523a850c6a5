import type { Db } from '../../db/index.js';
import type { Actor } from '../school/actor.js';
import type { LocalDate } from '../shared/calendar.js';
import { DomainError } from '../shared/errors.js';
import { resolveReportScope } from './access.js';
import { reportFor } from './index.js';
import { sheetScope } from './sheets/common.js';
import { classJournalDocument, type JournalDocument } from './sheets/journal.js';
import { classQuarterReport, type QuarterReport } from './sheets/quarter-report.js';
import { type ReportCard, studentReportCard } from './sheets/report-card.js';
import { classYearSummary, type SummarySheet } from './sheets/summary.js';
import { type WeeklyLetters, weeklyLetter, weeklyLettersForClass } from './sheets/weekly-letter.js';
import type { FillingCell, ProgressCell, Report, ReportRequest, ReportScopeKind } from './types.js';

/**
 * The reports a person can ask for (issue 14, "How people get them"), one list for every face: the
 * bot's /reports, the CLI's `report <kind>`, the scheduled reports. Each kind names the figures or
 * the document it is, what scope it takes, and is built through the reports' one access rule
 * (resolveReportScope, R4, R26–R28) — a face never checks rights itself. Plain data only; the
 * files are rendered by src/documents/reports/by-kind.ts.
 */
export const REPORT_KINDS = [
  'progress',
  'attendance',
  'filling',
  'coverage',
  'quarter-report',
  'summary-sheet',
  'class-journal',
  'report-card',
  'weekly-letters',
] as const;
export type ReportKind = (typeof REPORT_KINDS)[number];

/** The figures (any scope) and the documents (a class or a student). */
export const FIGURE_KINDS: readonly ReportKind[] = ['progress', 'attendance', 'filling', 'coverage'];

/** Which scopes each kind takes. */
export const KIND_SCOPES: Record<ReportKind, readonly ReportScopeKind[]> = {
  progress: ['student', 'class', 'grade', 'school'],
  attendance: ['student', 'class', 'grade', 'school'],
  filling: ['class', 'grade', 'school'],
  coverage: ['class', 'grade', 'school'],
  'quarter-report': ['class'],
  'summary-sheet': ['class'],
  'class-journal': ['class'],
  'report-card': ['student'],
  'weekly-letters': ['class', 'student'],
};

/** The files each kind is rendered to (json: the figures themselves, CLI only). */
export const KIND_FORMATS: Record<ReportKind, readonly ('xlsx' | 'pdf')[]> = {
  progress: ['xlsx'],
  attendance: ['xlsx'],
  filling: ['xlsx'],
  coverage: ['xlsx'],
  'quarter-report': ['pdf', 'xlsx'],
  'summary-sheet': ['pdf', 'xlsx'],
  'class-journal': ['pdf', 'xlsx'],
  'report-card': ['pdf'],
  'weekly-letters': ['pdf'],
};

export interface ReportParams {
  scope: ReportScopeKind;
  classId?: string;
  grade?: number;
  studentId?: string;
  subjectId?: string;
  periodCode?: string;
  from?: LocalDate;
  to?: LocalDate;
}

export type ReportData =
  | { kind: 'progress' | 'attendance' | 'filling' | 'coverage'; report: Report }
  | { kind: 'quarter-report'; report: Report; sheet: QuarterReport }
  | { kind: 'summary-sheet'; sheet: SummarySheet }
  | { kind: 'class-journal'; sheet: JournalDocument }
  | { kind: 'report-card'; sheet: ReportCard }
  | { kind: 'weekly-letters'; sheet: WeeklyLetters };

function requestOf(p: ReportParams): ReportRequest {
  const span = { ...(p.periodCode ? { periodCode: p.periodCode } : {}), ...(p.from ? { from: p.from } : {}), ...(p.to ? { to: p.to } : {}) };
  if (p.scope === 'student') return { kind: 'student', studentId: p.studentId ?? '', ...span };
  if (p.scope === 'class') return { kind: 'class', classId: p.classId ?? '', ...span };
  if (p.scope === 'grade') return { kind: 'grade', ...(p.grade !== undefined ? { grade: p.grade } : {}), ...span };
  return { kind: 'school', ...span };
}

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined || value === '') throw new DomainError('reports.missingParam', { what });
  return value;
}

/**
 * Checks that the actor may open this report (AccessDenied otherwise) without building it: the
 * faces call it before they start the (maybe long) work, so a forged button is refused at once.
 */
export async function assertMayOpen(db: Db, actor: Actor, kind: ReportKind, p: ReportParams, now: Date): Promise<void> {
  if (!KIND_SCOPES[kind].includes(p.scope)) throw new DomainError('reports.badScope', { kind, scope: p.scope });
  const whole = kind === 'quarter-report' || kind === 'summary-sheet' || kind === 'weekly-letters';
  await sheetScope(db, actor, requestOf(p), now, { allSubjects: whole });
}

/** Builds the figures or the document's data of one kind (access-checked in the domain). */
export async function buildReportData(db: Db, actor: Actor, kind: ReportKind, p: ReportParams, now: Date): Promise<ReportData> {
  if (!KIND_SCOPES[kind].includes(p.scope)) throw new DomainError('reports.badScope', { kind, scope: p.scope });
  switch (kind) {
    case 'progress':
    case 'attendance':
    case 'filling':
    case 'coverage':
      return { kind, report: await reportFor(db, await resolveReportScope(db, actor, requestOf(p), now)) };
    case 'quarter-report': {
      const report = await reportFor(db, await sheetScope(db, actor, requestOf(p), now, { allSubjects: true }));
      return { kind, report, sheet: await classQuarterReport(db, report, now) };
    }
    case 'summary-sheet':
      return { kind, sheet: await classYearSummary(db, actor, need(p.classId, 'class'), {}, now) };
    case 'class-journal': {
      const span = { ...(p.periodCode ? { periodCode: p.periodCode } : {}), ...(p.from ? { from: p.from } : {}), ...(p.to ? { to: p.to } : {}) };
      return { kind, sheet: await classJournalDocument(db, actor, { classId: need(p.classId, 'class'), subjectId: need(p.subjectId, 'subject'), ...span }, now) };
    }
    case 'report-card':
      return { kind, sheet: await studentReportCard(db, actor, need(p.studentId, 'student'), p.periodCode ? { periodCode: p.periodCode } : {}, now) };
    case 'weekly-letters': {
      const week = p.from ? { weekOf: p.from } : {};
      const sheet =
        p.scope === 'student'
          ? await weeklyLetter(db, actor, need(p.studentId, 'student'), week, now)
          : await weeklyLettersForClass(db, actor, need(p.classId, 'class'), week, now);
      return { kind, sheet };
    }
  }
}

/** % with one decimal; null without a base. A display ratio of the reports' own counts. */
export const pct = (part: number, whole: number): number | null => (whole > 0 ? Math.round((part / whole) * 1000) / 10 : null);

/** The key figures a person sees first (the bot's summary, the scheduled reports' text). */
export interface KeyFigures {
  title?: string;
  progress?: Pick<ProgressCell, 'successPct' | 'qualityPct' | 'sou' | 'averageMark' | 'students' | 'assessed'>;
  attendance?: { lessons: number; missedLessons: number; missedDays: number; missedPct: number | null };
  filling?: { held: number; attendancePct: number | null; topicPct: number | null; homeworkPct: number | null; marksOnTimePct: number | null };
  coverage?: { rows: number; behindPlan: number; behindLoad: number };
  /** Documents: how many students (letters, rows) and lessons the file holds. */
  students?: number;
  lessons?: number;
}

export function fillingKey(c: FillingCell): NonNullable<KeyFigures['filling']> {
  return {
    held: c.held,
    attendancePct: pct(c.withAttendance, c.held),
    topicPct: pct(c.withTopic, c.held),
    homeworkPct: pct(c.withHomework, c.held),
    marksOnTimePct: pct(c.marksOnTime, c.marks),
  };
}

function figuresOf(report: Report): Omit<KeyFigures, 'students' | 'lessons'> {
  const o = report.progress.overall;
  const a = report.attendance.total;
  return {
    progress: { successPct: o.successPct, qualityPct: o.qualityPct, sou: o.sou, averageMark: o.averageMark, students: o.students, assessed: o.assessed },
    attendance: { lessons: a.lessons, missedLessons: a.missedLessons.total, missedDays: a.missedDays.total, missedPct: a.missedPct },
    filling: fillingKey(report.filling.total),
    coverage: {
      rows: report.coverage.rows.length,
      behindPlan: report.coverage.rows.filter((r) => (r.diffPlan ?? 0) < 0).length,
      behindLoad: report.coverage.rows.filter((r) => (r.diffLoad ?? 0) < 0).length,
    },
  };
}

export function keyFigures(data: ReportData): KeyFigures {
  switch (data.kind) {
    case 'progress':
    case 'quarter-report': {
      const { progress, attendance } = figuresOf(data.report);
      return { progress, attendance };
    }
    case 'attendance':
      return { attendance: figuresOf(data.report).attendance };
    case 'filling':
      return { filling: figuresOf(data.report).filling };
    case 'coverage':
      return { coverage: figuresOf(data.report).coverage };
    case 'summary-sheet':
      return { students: data.sheet.students.length };
    case 'class-journal':
      return { students: data.sheet.students.length, lessons: data.sheet.lessons.length };
    case 'report-card': {
      const a = data.sheet.absences;
      return { lessons: data.sheet.rows.length, attendance: { lessons: 0, missedLessons: a.Н + a.Б + a.У, missedDays: 0, missedPct: null } };
    }
    case 'weekly-letters':
      return { students: data.sheet.letters.length };
  }
}
