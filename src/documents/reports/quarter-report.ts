import type { QuarterReport } from '../../domain/reports/sheets/quarter-report.js';
import type { ProgressCell, ReasonCounts } from '../../domain/reports/types.js';
import type { Translate } from '../../i18n.js';
import { type Column, drawTable, openPdf, paragraph } from './pdf.js';
import { headerOf, num, pageLabel, titleLines } from './text.js';
import { addTable, newWorkbook, toBuffer } from './xlsx.js';

/**
 * The class teacher's report for a period (R27, R28): progress by subject and overall (success,
 * quality, СОУ, the average mark), attendance of the class and of each student (lessons and days
 * missed by reason), and the students with a 2 or not assessed. PDF (A4 landscape) and XLSX.
 */
/** Numbers stay numbers for the XLSX; the PDF prints them with `digits` decimals in the locale. */
type Raw = string | number | null;
type Table = { columns: Array<Column & { digits?: number }>; rows: Raw[][] };

const printed = (table: Table, locale: string): string[][] =>
  table.rows.map((r) => r.map((v, i) => (typeof v === 'number' ? num(v, locale, table.columns[i]?.digits ?? 0) : (v ?? ''))));
const stored = (table: Table): Array<Array<string | number>> => table.rows.map((r) => r.map((v) => v ?? ''));

function progress(data: QuarterReport, t: Translate): Table {
  const columns: Table['columns'] = [
    { header: t('sheets.quarter.subject'), wrap: true, align: 'left', maxWidth: 200 },
    { header: t('sheets.quarter.students') },
    { header: t('sheets.quarter.assessed') },
    { header: '«5»' },
    { header: '«4»' },
    { header: '«3»' },
    { header: '«2»' },
    { header: t('sheets.quarter.na') },
    { header: t('sheets.quarter.success'), digits: 1 },
    { header: t('sheets.quarter.quality'), digits: 1 },
    { header: t('sheets.quarter.sou'), digits: 1 },
    { header: t('sheets.quarter.average'), digits: 2 },
  ];
  const row = (name: string, c: ProgressCell): Raw[] => [
    name,
    c.students,
    c.assessed,
    c.counts['5'],
    c.counts['4'],
    c.counts['3'],
    c.counts['2'],
    c.counts.na,
    c.successPct,
    c.qualityPct,
    c.sou,
    c.averageMark,
  ];
  return { columns, rows: [...data.rows.map((r) => row(r.subject, r.cell)), row(t('sheets.quarter.overall'), data.overall)] };
}

function attendance(data: QuarterReport, t: Translate): Table {
  const lessons = t('sheets.quarter.missedLessons');
  const days = t('sheets.quarter.missedDays');
  const reasons = (group: string): Column[] => ['Н', 'Б', 'У', t('sheets.quarter.total')].map((header) => ({ header, group }));
  const counts = (c: ReasonCounts) => [c.Н, c.Б, c.У, c.total];
  const columns: Table['columns'] = [
    { header: t('sheets.no'), fixed: true },
    { header: t('sheets.student'), fixed: true, wrap: true, align: 'left', maxWidth: 180 },
    { header: t('sheets.quarter.lessons') },
    ...reasons(lessons),
    ...reasons(days),
    { header: t('sheets.quarter.missedPct'), digits: 1 },
  ];
  // The share of lessons missed, one decimal, as the reports compute it for the class (missedPct).
  const pct = (missed: number, of: number) => (of ? Math.round((missed / of) * 1000) / 10 : null);
  const rows: Raw[][] = data.students.map((s, i) => [i + 1, s.name, s.lessons, ...counts(s.missedLessons), ...counts(s.missedDays), pct(s.missedLessons.total, s.lessons)]);
  const a = data.attendance;
  rows.push(['', t('sheets.quarter.overall'), a.lessons, ...counts(a.missedLessons), ...counts(a.missedDays), a.missedPct]);
  return { columns, rows };
}

function concerns(data: QuarterReport, t: Translate): string[] {
  return data.concerns.map((c) =>
    [c.name, c.failing.length ? t('sheets.quarter.failing', { list: c.failing.join(', ') }) : '', c.notAssessed.length ? t('sheets.quarter.notAssessed', { list: c.notAssessed.join(', ') }) : '']
      .filter(Boolean)
      .join(' — '),
  );
}

export async function quarterReportPdf(data: QuarterReport, t: Translate, locale = data.head.locale): Promise<Buffer> {
  const pdf = openPdf(headerOf(data.head, t('sheets.quarter.title'), t), { landscape: true });
  let y = paragraph(pdf, t('sheets.quarter.progress'), pdf.newPage(), { size: 11, bold: true });
  const p = progress(data, t);
  y = drawTable(pdf, { columns: p.columns, rows: printed(p, locale), bold: new Set([p.rows.length - 1]), fontSize: 9, minFontSize: 6.5 }, y);
  y = paragraph(pdf, t('sheets.quarter.concerns'), y + 6, { size: 11, bold: true });
  const lines = concerns(data, t);
  for (const line of lines.length ? lines : [t('sheets.quarter.noConcerns')]) y = paragraph(pdf, line, y, { size: 9 });
  y = paragraph(pdf, t('sheets.quarter.attendance'), y + 6, { size: 11, bold: true });
  const a = attendance(data, t);
  drawTable(pdf, { columns: a.columns, rows: printed(a, locale), bold: new Set([a.rows.length - 1]), fontSize: 9, minFontSize: 6.5 }, y);
  return pdf.finish(pageLabel(t));
}

/** `_locale`: kept for callers that pass it; numbers are stored as numbers, so the spreadsheet formats them. */
export async function quarterReportXlsx(data: QuarterReport, t: Translate, _locale?: string): Promise<Buffer> {
  const lines = titleLines(headerOf(data.head, t('sheets.quarter.title'), t));
  const wb = newWorkbook();
  const p = progress(data, t);
  addTable(wb, { name: t('sheets.quarter.progress'), titleLines: lines, headers: p.columns.map((c) => c.header), rows: stored(p), widths: [28, ...p.columns.slice(1).map(() => 10)] });
  const a = attendance(data, t);
  addTable(wb, {
    name: t('sheets.quarter.attendance'),
    titleLines: lines,
    headers: a.columns.map((c) => c.header),
    groups: a.columns.map((c) => c.group ?? ''),
    rows: stored(a),
    widths: [5, 32, ...a.columns.slice(2).map(() => 9)],
  });
  return toBuffer(wb);
}
