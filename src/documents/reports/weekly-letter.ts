import type { WeeklyLetter, WeeklyLetters } from '../../domain/reports/sheets/weekly-letter.js';
import type { Translate } from '../../i18n.js';
import { drawTable, openPdf, type Pdf, paragraph } from './pdf.js';
import { dm, dmy, headerOf, pageLabel } from './text.js';

/**
 * The weekly letters for families without internet (R25): one A4 page per student — the week's
 * marks, the missed lessons with their reason, the homework for the coming days, a line for the
 * parent's signature. One PDF for the class teacher to print on Friday.
 */
const CODE_KEY: Record<string, string> = { Н: 'n', Б: 'b', У: 'u' };

function section(pdf: Pdf, title: string, y: number): number {
  return paragraph(pdf, title, y + 4, { size: 11, bold: true });
}

function letterPage(pdf: Pdf, letter: WeeklyLetter, t: Translate, locale: 'ru' | 'en'): void {
  let y = paragraph(pdf, t('sheets.letter.student', { name: letter.name }), pdf.top, { size: 12, bold: true });
  y = section(pdf, t('sheets.letter.marks'), y);
  y = letter.marks.length
    ? drawTable(
        pdf,
        {
          columns: [
            { header: t('sheets.letter.date') },
            { header: t('sheets.letter.subject'), wrap: true, align: 'left', maxWidth: 200 },
            { header: t('sheets.letter.mark') },
            { header: t('sheets.letter.kind'), wrap: true, align: 'left', maxWidth: 200 },
          ],
          rows: letter.marks.map((m) => [dm(m.date), m.subject, String(m.value), m.workKind[locale]]),
          fontSize: 9,
          minFontSize: 7,
        },
        y,
      )
    : paragraph(pdf, t('sheets.letter.noMarks'), y, { size: 9 });
  y = section(pdf, t('sheets.letter.absences'), y);
  y = letter.absences.length
    ? drawTable(
        pdf,
        {
          columns: [
            { header: t('sheets.letter.date') },
            { header: t('sheets.letter.lessonNo') },
            { header: t('sheets.letter.subject'), wrap: true, align: 'left', maxWidth: 200 },
            { header: t('sheets.letter.reason'), wrap: true, align: 'left', maxWidth: 220 },
          ],
          rows: letter.absences.map((a) => [dm(a.date), a.lessonNo === undefined ? '' : String(a.lessonNo), a.subject, `${a.code} — ${t(`sheets.code.${CODE_KEY[a.code] ?? 'n'}`)}`]),
          fontSize: 9,
          minFontSize: 7,
        },
        y,
      )
    : paragraph(pdf, t('sheets.letter.noAbsences'), y, { size: 9 });
  y = section(pdf, t('sheets.letter.homework'), y);
  y = letter.homework.length
    ? drawTable(
        pdf,
        {
          columns: [
            { header: t('sheets.letter.due') },
            { header: t('sheets.letter.subject'), wrap: true, align: 'left', maxWidth: 140 },
            { header: t('sheets.letter.task'), wrap: true, align: 'left', maxWidth: 400 },
          ],
          rows: letter.homework.map((h) => [dm(h.dueOn), h.subject, h.text]),
          fontSize: 9,
          minFontSize: 7,
        },
        y,
      )
    : paragraph(pdf, t('sheets.letter.noHomework'), y, { size: 9 });
  paragraph(pdf, t('sheets.letter.signature'), y + 14, { size: 10 });
}

export async function weeklyLettersPdf(data: WeeklyLetters, t: Translate, locale = data.head.locale): Promise<Buffer> {
  const first = data.letters[0];
  const week = (l: WeeklyLetter) => t('sheets.letter.week', { from: dmy(l.weekFrom), to: dmy(l.weekTo) });
  const base = headerOf({ ...data.head, periodCode: undefined }, t('sheets.letter.title'), t);
  // The week replaces the period in the header line: class · week · year · class teacher.
  const details = (l?: WeeklyLetter) => [base.details[0] ?? '', l ? week(l) : '', ...base.details.slice(2)];
  const pdf = openPdf({ ...base, details: details(first) });
  if (!first) {
    paragraph(pdf, t('sheets.letter.none'), pdf.newPage(), { size: 11 });
    return pdf.finish(pageLabel(t));
  }
  // Each family gets its own pages: they are numbered within the letter ("стр. 1 из 1"), not the bundle.
  const starts: number[] = [];
  for (const letter of data.letters) {
    pdf.newPage({ details: details(letter) });
    starts.push(pdf.doc.bufferedPageRange().count - 1);
    letterPage(pdf, letter, t, locale);
  }
  return pdf.finish((n, total) => {
    const k = starts.findLastIndex((start) => start <= n - 1);
    const start = starts[k] ?? 0;
    return t('sheets.page', { n: n - start, total: (starts[k + 1] ?? total) - start });
  });
}
