import type { SheetHead } from '../../domain/reports/sheets/common.js';
import type { Translate } from '../../i18n.js';
import type { PdfHeader } from './pdf.js';

/** Words shared by the reports' documents: dates, period names, the header lines, page labels. */

/** '2026-11-23' → '23.11.2026' (the format of Russian school papers; read the same in English). */
export const dmy = (date: string) => `${date.slice(8, 10)}.${date.slice(5, 7)}.${date.slice(0, 4)}`;
/** '2026-11-23' → '23.11' */
export const dm = (date: string) => `${date.slice(8, 10)}.${date.slice(5, 7)}`;

/** "2 ч." / "Q2" (short: column headers) or "2-я четверть" (full: the header line). */
export function periodLabel(t: Translate, code: string, form: 'short' | 'full'): string {
  const key = form === 'short' ? 'sheets.periodShort' : 'sheets.periodFull';
  const m = /^([qht])(\d)$/.exec(code);
  if (m) return t(`${key}.${m[1]}`, { n: m[2] });
  if (code === 'year') return t(`${key}.year`);
  return code;
}

/** The page header: the school, the title, then class · period (or dates) · year · class teacher · extras. */
export function headerOf(head: SheetHead, title: string, t: Translate, extra: string[] = []): PdfHeader {
  // The year's own period is said by the year line.
  const span = head.periodCode ? (head.periodCode === 'year' ? '' : periodLabel(t, head.periodCode, 'full')) : t('sheets.range', { from: dmy(head.from), to: dmy(head.to) });
  return {
    school: head.school,
    title,
    details: [
      t('sheets.class', { name: head.className }),
      span,
      t('sheets.year', { name: head.yearName }),
      ...extra,
      head.classTeacher ? t('sheets.classTeacher', { name: head.classTeacher }) : '',
    ],
    made: t('sheets.made', { date: dmy(head.madeOn) }),
  };
}

/** The title block of an XLSX sheet: the same facts, one per line. */
export function titleLines(header: PdfHeader): string[] {
  return [header.title, header.school, header.details.filter(Boolean).join(' · '), header.made];
}

export const pageLabel = (t: Translate) => (n: number, total: number) => t('sheets.page', { n, total });

/** A number with one decimal in the document's locale ("66,7"); '' for none. */
export function num(value: number | null | undefined, locale: string, digits = 1): string {
  if (value === null || value === undefined) return '';
  return value.toLocaleString(locale === 'en' ? 'en-GB' : 'ru-RU', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
