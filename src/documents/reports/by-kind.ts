import type { ReportData, ReportKind } from '../../domain/reports/catalog.js';
import type { ReasonCounts, Report } from '../../domain/reports/types.js';
import type { Translate } from '../../i18n.js';
import { journalDocumentPdf, journalDocumentXlsx } from './journal.js';
import { quarterReportPdf, quarterReportXlsx } from './quarter-report.js';
import { reportCardPdf } from './report-card.js';
import { summarySheetPdf, summarySheetXlsx } from './summary.js';
import { dmy, num, periodLabel } from './text.js';
import { weeklyLettersPdf } from './weekly-letter.js';
import { addTable, newWorkbook, toBuffer } from './xlsx.js';

/**
 * One entry for every face (bot, CLI, scheduled reports): a report's data (domain/reports/catalog.ts)
 * to its file. The documents use their own renderers; the figures (progress, attendance, filling,
 * coverage of any scope: the deputy's monthly check R27, the administration's period figures R28)
 * become an XLSX workbook, one sheet per breakdown.
 */
export interface ReportFile {
  name: string;
  data: Buffer;
  mime: string;
}

const MIME = { pdf: 'application/pdf', xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' } as const;

const slug = (s: string) =>
  s
    .replace(/[^\p{L}\p{N}]+/gu, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);

/** A file name a person recognises: kind, whom, period ('quarter-report-7А-q1.pdf'). */
export function fileNameOf(data: ReportData, format: 'pdf' | 'xlsx'): string {
  const parts: string[] = [data.kind];
  if ('sheet' in data) {
    parts.push(data.sheet.head.className);
    if (data.kind === 'report-card') parts.push(data.sheet.student.name.split(' ')[0] ?? '');
    if (data.kind === 'class-journal') parts.push(data.sheet.subject.short ?? data.sheet.subject.name);
    parts.push(data.sheet.head.periodCode ?? data.sheet.head.from);
  } else {
    const s = data.report.scope;
    parts.push(s.kind === 'school' ? 'school' : s.kind === 'grade' ? `grade-${s.grade}` : (s.classes[0]?.name ?? s.kind));
    parts.push(s.period?.code ?? `${s.from}_${s.to}`);
  }
  return `${parts.map(slug).filter(Boolean).join('-')}.${format}`;
}

function spanLine(t: Translate, report: Report): string {
  const s = report.scope;
  const span = s.period ? periodLabel(t, s.period.code, 'full') : t('sheets.range', { from: dmy(s.from), to: dmy(s.to) });
  return [span, t('sheets.year', { name: s.yearName })].filter(Boolean).join(' · ');
}

const reasons = (c: ReasonCounts) => [c.Н, c.Б, c.У, c.total];

/** The figures of any scope as a workbook. */
export async function figuresXlsx(kind: ReportKind, report: Report, t: Translate, locale: string): Promise<Buffer> {
  const wb = newWorkbook();
  const titleLines = [t(`reportsUi.kinds.${kind}`), spanLine(t, report)];
  const p = (v: number | null) => num(v, locale);
  if (kind === 'progress') {
    const headers = [t('reportsUi.cols.unit'), t('sheets.quarter.students'), t('sheets.quarter.assessed'), '«5»', '«4»', '«3»', '«2»', t('sheets.quarter.na')];
    headers.push(t('sheets.quarter.success'), t('sheets.quarter.quality'), t('sheets.quarter.sou'), t('sheets.quarter.average'));
    const units = [...report.progress.grades, ...report.progress.classes];
    const marks = ['5', '4', '3', '2', 'na'] as const;
    const row = (name: string, c: Report['progress']['overall']) => {
      const figures = [p(c.successPct), p(c.qualityPct), p(c.sou), num(c.averageMark, locale, 2)];
      return [name, c.students, c.assessed, ...marks.map((m) => c.counts[m]), ...figures];
    };
    const overall = t('sheets.quarter.overall');
    addTable(wb, { name: t('reportsUi.sheets.units'), titleLines, headers, rows: [...units.map((u) => row(u.name, u.overall)), row(overall, report.progress.overall)], widths: [24] });
    addTable(wb, { name: t('reportsUi.sheets.subjects'), titleLines, headers, rows: report.progress.subjects.map((s) => row(s.subjectName, s)), widths: [28] });
  } else if (kind === 'attendance') {
    const headers = [t('reportsUi.cols.unit'), t('sheets.quarter.students'), t('sheets.quarter.lessons')];
    const groups = ['', '', ''];
    for (const g of [t('sheets.quarter.missedLessons'), t('sheets.quarter.missedDays')]) {
      headers.push('Н', 'Б', 'У', t('sheets.quarter.total'));
      groups.push(g, g, g, g);
    }
    headers.push(t('sheets.quarter.missedPct'));
    groups.push('');
    const a = report.attendance;
    const rows = [...a.classes, a.total].map((c) => [c.name, c.students, c.lessons, ...reasons(c.missedLessons), ...reasons(c.missedDays), p(c.missedPct)]);
    addTable(wb, { name: t('reportsUi.sheets.units'), titleLines, headers, groups, rows, widths: [24] });
    if (a.students.length) {
      const srows = a.students.map((s) => [s.name, 1, s.lessons, ...reasons(s.missedLessons), ...reasons(s.missedDays), p(s.lessons ? (s.missedLessons.total / s.lessons) * 100 : null)]);
      addTable(wb, { name: t('reportsUi.sheets.students'), titleLines, headers, groups, rows: srows, widths: [32] });
    }
  } else if (kind === 'filling') {
    const cells = [t('reportsUi.cols.held'), t('reportsUi.cols.attendance'), t('reportsUi.cols.topic'), t('reportsUi.cols.homework'), t('reportsUi.cols.marks'), t('reportsUi.cols.onTime'), t('reportsUi.cols.late')];
    const values = (c: Report['filling']['total']) => [c.held, c.withAttendance, c.withTopic, c.withHomework, c.marks, c.marksOnTime, c.marksLate];
    const f = report.filling;
    addTable(wb, {
      name: t('reportsUi.sheets.teachers'),
      titleLines,
      headers: [t('reportsUi.cols.teacher'), ...cells],
      rows: [...f.teachers.map((x) => [x.teacherName, ...values(x)]), [t('sheets.quarter.overall'), ...values(f.total)]],
      widths: [32],
    });
    addTable(wb, {
      name: t('reportsUi.sheets.rows'),
      titleLines,
      headers: [t('reportsUi.cols.class'), t('reportsUi.cols.subject'), t('reportsUi.cols.teacher'), ...cells],
      rows: f.rows.map((r) => [r.className, r.subjectName, r.teacherName, ...values(r)]),
      widths: [8, 24, 32],
    });
  } else {
    const headers = [t('reportsUi.cols.class'), t('reportsUi.cols.subject'), t('reportsUi.cols.teacher'), t('reportsUi.cols.held'), t('reportsUi.cols.timetabled')];
    headers.push(t('reportsUi.cols.plan'), t('reportsUi.cols.load'), t('reportsUi.cols.diffPlan'), t('reportsUi.cols.diffLoad'));
    const rows = report.coverage.rows.map((r) => [
      r.groupName ? `${r.className} (${r.groupName})` : r.className,
      r.subjectName,
      r.teacherName,
      r.held,
      r.timetabled,
      r.planHours ?? '',
      r.loadHours ?? '',
      r.diffPlan ?? '',
      r.diffLoad ?? '',
    ]);
    addTable(wb, { name: t('reportsUi.sheets.rows'), titleLines, headers, rows, widths: [12, 24, 32] });
  }
  return toBuffer(wb);
}

/** The file of a report in a format its kind has (catalog KIND_FORMATS; the caller checks). */
export async function renderReport(data: ReportData, format: 'pdf' | 'xlsx', t: Translate, locale: 'ru' | 'en'): Promise<ReportFile> {
  const name = fileNameOf(data, format);
  const file = (buffer: Buffer): ReportFile => ({ name, data: buffer, mime: MIME[format] });
  switch (data.kind) {
    case 'progress':
    case 'attendance':
    case 'filling':
    case 'coverage':
      return file(await figuresXlsx(data.kind, data.report, t, locale));
    case 'quarter-report':
      return file(format === 'pdf' ? await quarterReportPdf(data.sheet, t, locale) : await quarterReportXlsx(data.sheet, t));
    case 'summary-sheet':
      return file(format === 'pdf' ? await summarySheetPdf(data.sheet, t) : await summarySheetXlsx(data.sheet, t));
    case 'class-journal':
      return file(format === 'pdf' ? await journalDocumentPdf(data.sheet, t, locale) : await journalDocumentXlsx(data.sheet, t, locale));
    case 'report-card':
      return file(await reportCardPdf(data.sheet, t, locale));
    case 'weekly-letters':
      return file(await weeklyLettersPdf(data.sheet, t, locale));
  }
}
