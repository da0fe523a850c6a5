import type { ReportCard } from '../../domain/reports/sheets/report-card.js';
import type { Translate } from '../../i18n.js';
import { drawTable, openPdf, paragraph } from './pdf.js';
import { headerOf, num, pageLabel } from './text.js';

/** The student's report card for a period (табель): A4 portrait, one table and the absence totals. */
export async function reportCardPdf(data: ReportCard, t: Translate, locale = data.head.locale): Promise<Buffer> {
  const pdf = openPdf(headerOf(data.head, t('sheets.card.title'), t));
  let y = paragraph(pdf, t('sheets.letter.student', { name: data.student.name }), pdf.newPage(), { size: 12, bold: true });
  const abs = (c: { Н: number; Б: number; У: number }) => [c.Н, c.Б, c.У].map((n) => (n ? String(n) : ''));
  y = drawTable(
    pdf,
    {
      columns: [
        { header: t('sheets.card.subject'), wrap: true, align: 'left', maxWidth: 220 },
        { header: t('sheets.card.marks') },
        { header: t('sheets.card.average') },
        { header: t('sheets.card.periodMark') },
        { header: 'Н', group: t('sheets.card.missed') },
        { header: 'Б', group: t('sheets.card.missed') },
        { header: 'У', group: t('sheets.card.missed') },
      ],
      rows: [
        ...data.rows.map((r) => [r.subject, r.marks ? String(r.marks) : '', num(r.average, locale, 2), r.periodMark, ...abs(r.absences)]),
        [t('sheets.card.total'), '', '', '', ...abs(data.absences)],
      ],
      bold: new Set([data.rows.length]),
      fontSize: 10,
      minFontSize: 7,
    },
    y + 4,
  );
  paragraph(pdf, `Н — ${t('sheets.code.n')}; Б — ${t('sheets.code.b')}; У — ${t('sheets.code.u')}`, y + 4, { size: 8 });
  return pdf.finish(pageLabel(t));
}
