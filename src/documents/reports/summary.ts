import type { SummarySheet } from '../../domain/reports/sheets/summary.js';
import type { Translate } from '../../i18n.js';
import { type Column, drawTable, openPdf } from './pdf.js';
import { headerOf, pageLabel, periodLabel, titleLines } from './text.js';
import { addTable, newWorkbook, toBuffer } from './xlsx.js';

/**
 * The class's summary sheet of the year (R29) as an A4 landscape PDF and as XLSX: students down,
 * each subject's period marks and year mark across, and the empty column of the pedagogical
 * council's decision (date, number) for the class teacher to fill by hand.
 */
function table(data: SummarySheet, t: Translate) {
  const columns: Column[] = [
    { header: t('sheets.no'), fixed: true },
    { header: t('sheets.student'), fixed: true, wrap: true, align: 'left', maxWidth: 150 },
  ];
  for (const s of data.subjects) {
    for (const p of data.periods) columns.push({ header: periodLabel(t, p, 'short'), group: s.short ?? s.name });
  }
  columns.push({ header: t('sheets.summary.council'), wrap: true, minWidth: 110, maxWidth: 130 });
  const rows = data.students.map((st) => [
    String(st.no),
    st.name,
    ...data.subjects.flatMap((s) => data.periods.map((p) => st.marks[s.id]?.[p] ?? '')),
    '',
  ]);
  return { columns, rows };
}

export async function summarySheetPdf(data: SummarySheet, t: Translate): Promise<Buffer> {
  const header = headerOf(data.head, t('sheets.summary.title'), t);
  const pdf = openPdf(header, { landscape: true });
  const { columns, rows } = table(data, t);
  drawTable(pdf, { columns, rows, fontSize: 9, minFontSize: 6 }, pdf.newPage());
  return pdf.finish(pageLabel(t));
}

export async function summarySheetXlsx(data: SummarySheet, t: Translate): Promise<Buffer> {
  const header = headerOf(data.head, t('sheets.summary.title'), t);
  const { columns, rows } = table(data, t);
  const wb = newWorkbook();
  addTable(wb, {
    name: t('sheets.summary.sheet'),
    titleLines: titleLines(header),
    headers: columns.map((c) => c.header),
    groups: columns.map((c) => (c.group && c.group !== '' ? c.group : '')),
    rows: rows.map((r) => r.map((v, i) => (i === 0 ? Number(v) : v))),
    widths: [5, 32, ...columns.slice(2, -1).map(() => 6), 36],
  });
  return toBuffer(wb);
}
