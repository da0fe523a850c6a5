import type { JournalDocument } from '../../domain/reports/sheets/journal.js';
import type { Translate } from '../../i18n.js';
import { type Column, drawTable, openPdf } from './pdf.js';
import { dm, dmy, headerOf, num, pageLabel, titleLines } from './text.js';
import { addTable, newWorkbook, toBuffer } from './xlsx.js';

/**
 * The class journal of a period for one subject (R29): first the grid — students down, the
 * lessons' dates across (split over pages with the students repeated when they do not fit), the
 * average and the period mark —, then the list of lessons with their topics and homework.
 * A4 landscape PDF, and XLSX with the grid and the lessons on two sheets.
 */
function grid(data: JournalDocument, t: Translate, locale: string) {
  const columns: Column[] = [
    { header: t('sheets.no'), fixed: true },
    { header: t('sheets.student'), fixed: true, wrap: true, align: 'left', maxWidth: 150 },
    ...data.lessons.map((l) => ({ header: dm(l.date) })),
    { header: t('sheets.journal.average') },
    { header: t('sheets.journal.periodMark') },
  ];
  const rows = data.students.map((s) => [String(s.no), s.name, ...s.cells, num(s.average, locale, 2), s.periodMark]);
  return { columns, rows };
}

function lessonList(data: JournalDocument, t: Translate) {
  const columns: Column[] = [
    { header: t('sheets.no') },
    { header: t('sheets.journal.date') },
    { header: t('sheets.journal.topic'), wrap: true, align: 'left', maxWidth: 360 },
    { header: t('sheets.journal.homework'), wrap: true, align: 'left', maxWidth: 360 },
  ];
  const rows = data.lessons.map((l, i) => [String(i + 1), dmy(l.date), l.topic, l.homework]);
  return { columns, rows };
}

const headerFor = (data: JournalDocument, t: Translate) =>
  headerOf(data.head, `${t('sheets.journal.title')}: ${data.subject.name}`, t, data.teachers.length ? [t('sheets.teachers', { names: data.teachers.join(', ') })] : []);

export async function journalDocumentPdf(data: JournalDocument, t: Translate, locale = data.head.locale): Promise<Buffer> {
  const pdf = openPdf(headerFor(data, t), { landscape: true });
  drawTable(pdf, { ...grid(data, t, locale), fontSize: 8, minFontSize: 6.5 }, pdf.newPage());
  drawTable(pdf, { ...lessonList(data, t), fontSize: 8, minFontSize: 6.5 }, pdf.newPage());
  return pdf.finish(pageLabel(t));
}

export async function journalDocumentXlsx(data: JournalDocument, t: Translate, locale = data.head.locale): Promise<Buffer> {
  const lines = titleLines(headerFor(data, t));
  const wb = newWorkbook();
  const g = grid(data, t, locale);
  addTable(wb, {
    name: t('sheets.journal.grid'),
    titleLines: lines,
    headers: g.columns.map((c) => c.header),
    rows: data.students.map((s) => [s.no, s.name, ...s.cells, s.average ?? '', s.periodMark]),
    widths: [5, 32, ...data.lessons.map(() => 6), 8, 8],
  });
  const l = lessonList(data, t);
  addTable(wb, { name: t('sheets.journal.lessons'), titleLines: lines, headers: l.columns.map((c) => c.header), rows: l.rows, widths: [5, 12, 50, 50] });
  return toBuffer(wb);
}
