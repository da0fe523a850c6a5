import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { journalDocumentPdf, journalDocumentXlsx } from '../../../src/documents/reports/journal.js';
import { drawTable, layoutTable, openPdf } from '../../../src/documents/reports/pdf.js';
import { quarterReportPdf, quarterReportXlsx } from '../../../src/documents/reports/quarter-report.js';
import { reportCardPdf } from '../../../src/documents/reports/report-card.js';
import { summarySheetPdf, summarySheetXlsx } from '../../../src/documents/reports/summary.js';
import { weeklyLettersPdf } from '../../../src/documents/reports/weekly-letter.js';
import type { SheetHead } from '../../../src/domain/reports/sheets/common.js';
import type { JournalDocument } from '../../../src/domain/reports/sheets/journal.js';
import type { QuarterReport } from '../../../src/domain/reports/sheets/quarter-report.js';
import type { SummarySheet } from '../../../src/domain/reports/sheets/summary.js';
import type { WeeklyLetters } from '../../../src/domain/reports/sheets/weekly-letter.js';
import type { ProgressCell } from '../../../src/domain/reports/types.js';
import { addDays } from '../../../src/domain/shared/calendar.js';
import { createI18n, type Translate, translator } from '../../../src/i18n.js';

// The renderers on hand-built data for a class of 30 (R25, R29): A4, Cyrillic, pages as expected,
// columns within the page, no row cut by a page break, "стр. N из M"; the XLSX read back.
let t: Translate;
let en: Translate;
let dir: string;
const pad = (n: number) => String(n).padStart(2, '0');
const names = Array.from({ length: 30 }, (_, i) => `Ученикова${pad(i + 1)} Анастасия Александровна`);
const head: SheetHead = { school: 'Школа № 1', locale: 'ru', className: '7Б', classTeacher: 'Классова Мария Ивановна', yearName: '2026/2027', periodCode: 'q1', from: '2026-09-01', to: '2026-10-26', madeOn: '2026-11-13' };
const SUBJECTS = ['Алгебра', 'Английский язык', 'Биология', 'География', 'Геометрия', 'Изобразительное искусство', 'Информатика', 'История', 'Литература', 'Музыка', 'Обществознание', 'Русский язык'];

const pages = (pdf: Buffer) => (pdf.toString('latin1').match(/\/Type \/Page[^s]/g) ?? []).length;

/** The text of each page, as pdftotext reads it (poppler). */
function pageTexts(pdf: Buffer): string[] {
  const file = path.join(dir, `${Math.random().toString(36).slice(2)}.pdf`);
  writeFileSync(file, pdf);
  const text = execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
  return text.split('\f').slice(0, pages(pdf));
}

async function readXlsx(buf: Buffer): Promise<ExcelJS.Workbook> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(buf as unknown as ArrayBuffer);
  return wb;
}

const rowValues = (ws: ExcelJS.Worksheet, n: number) => (ws.getRow(n).values as unknown[]).slice(1);

function summary(): SummarySheet {
  const periods = ['q1', 'q2', 'q3', 'q4', 'year'];
  const subjects = SUBJECTS.map((name, i) => ({ id: `s${i}`, name, assessment: 'marks' as const }));
  return {
    head: { ...head, periodCode: 'year' },
    periods,
    subjects,
    students: names.map((name, i) => ({
      no: i + 1,
      studentId: `st${i}`,
      name,
      marks: Object.fromEntries(subjects.map((s, k) => [s.id, Object.fromEntries(periods.map((p, j) => [p, String(2 + ((i + k + j) % 4))]))])),
    })),
  };
}

function journal(lessons: number): JournalDocument {
  const dates = Array.from({ length: lessons }, (_, i) => addDays('2026-09-01', i));
  return {
    head,
    subject: { id: 's0', name: 'Математика' },
    teachers: ['Учителева Анна Ивановна'],
    lessons: dates.map((date, i) => ({ lessonId: `l${i}`, date, lessonNo: 2, topic: `Тема урока ${i + 1}: решение задач на проценты`, homework: i % 2 ? '§ 12, упр. 3–5' : '' })),
    students: names.map((name, i) => ({ no: i + 1, studentId: `st${i}`, name, cells: dates.map((_, k) => ((i + k) % 7 === 0 ? 'Н 5' : (i + k) % 5 === 0 ? '4' : '')), average: 4.25, periodMark: '4' })),
  };
}

beforeAll(async () => {
  const i18n = await createI18n('ru');
  t = translator(i18n, 'ru');
  en = translator(i18n, 'en');
  dir = mkdtempSync(path.join(tmpdir(), 'sjb-report-docs-'));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the summary sheet (R29)', () => {
  it('PDF: 12 subjects × 5 columns split over two landscape pages, the students on both, the council column on the last', async () => {
    const pdf = await summarySheetPdf(summary(), t);
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    expect(pages(pdf)).toBe(2);
    const text = pageTexts(pdf);
    for (const [i, page] of text.entries()) {
      expect(page).toContain('Сводная ведомость итоговых отметок');
      expect(page).toContain(`стр. ${i + 1} из 2`);
      for (const name of names) expect(page).toContain(name);
    }
    expect(text[0]).not.toContain('Решение педсовета');
    expect(text[1]).toContain('Решение педсовета');
  });

  it('XLSX: the subjects over their periods, the header row, a student row and the empty council column', async () => {
    const wb = await readXlsx(await summarySheetXlsx(summary(), t));
    const ws = wb.worksheets[0] as ExcelJS.Worksheet;
    expect(rowValues(ws, 1)).toEqual(['Сводная ведомость итоговых отметок']);
    // Title (4 lines), a blank row, the subjects (merged over their five columns), the header, the students.
    expect(rowValues(ws, 7).slice(0, 8)).toEqual(['№', 'Ученик', '1 ч.', '2 ч.', '3 ч.', '4 ч.', 'Год', '1 ч.']);
    expect(rowValues(ws, 7).at(-1)).toBe('Решение педсовета (дата, №)');
    expect(ws.getCell(6, 3).value).toBe('Алгебра');
    expect(ws.getCell(6, 3).isMerged && ws.getCell(6, 7).master.address).toBe('C6');
    expect(ws.getCell(6, 8).value).toBe('Английский язык');
    expect(rowValues(ws, 8).slice(0, 7)).toEqual([1, names[0], '2', '3', '4', '5', '2']);
    expect(ws.getRow(8).getCell(2 + 60 + 1).value || '').toBe('');
    expect(ws.rowCount).toBe(7 + 30);
  });
});

describe('the class journal (R29)', () => {
  it('PDF: 60 lessons do not fit one page: the lessons split over pages with the students repeated, then the list of lessons', async () => {
    const pdf = await journalDocumentPdf(journal(60), t);
    const text = pageTexts(pdf);
    const grid = text.filter((p) => p.includes('Ученикова30'));
    expect(grid.length).toBeGreaterThanOrEqual(2);
    for (const page of grid) for (const name of names) expect(page).toContain(name);
    expect(text.some((p) => p.includes('Тема урока 60: решение задач на проценты'))).toBe(true);
    expect(text.at(-1)).toContain(`стр. ${text.length} из ${text.length}`);
    // Every lesson's date is on some page of the grid, once.
    expect(grid.join('').match(/01\.09/g)).toHaveLength(1);
    expect(grid.join('').match(/30\.10/g)).toHaveLength(1);
  });

  it("the grid's columns fit the page width on every band (A4 landscape)", () => {
    const pdf = openPdf({ school: 's', title: 't', details: [], made: '' }, { landscape: true });
    pdf.newPage();
    const columns = [{ header: '№', fixed: true }, { header: 'Ученик', fixed: true, wrap: true, maxWidth: 150 }, ...Array.from({ length: 60 }, (_, i) => ({ header: `${pad(i + 1)}.09` }))];
    const rows = names.map((n, i) => [String(i + 1), n, ...Array.from({ length: 60 }, () => 'Н 5')]);
    const layout = layoutTable(pdf.doc, { columns, rows, fontSize: 8, minFontSize: 6.5 }, pdf.width);
    expect(layout.bands.length).toBeGreaterThan(1);
    for (const band of layout.bands) {
      expect(band.slice(0, 2)).toEqual([0, 1]);
      expect(band.reduce((a, i) => a + (layout.widths[i] ?? 0), 0)).toBeLessThanOrEqual(pdf.width + 0.01);
    }
    expect(new Set(layout.bands.flatMap((b) => b.slice(2))).size).toBe(60);
  });

  it('XLSX: the grid and the lessons', async () => {
    const wb = await readXlsx(await journalDocumentXlsx(journal(3), t));
    const [grid, lessons] = wb.worksheets as [ExcelJS.Worksheet, ExcelJS.Worksheet];
    expect(rowValues(grid, 6)).toEqual(['№', 'Ученик', '01.09', '02.09', '03.09', 'Ср. балл', 'Итог']);
    expect(rowValues(grid, 7)).toEqual([1, names[0], 'Н 5', '', '', 4.25, '4']);
    expect(rowValues(lessons, 6)).toEqual(['№', 'Дата', 'Тема урока', 'Домашнее задание']);
    expect(rowValues(lessons, 8)).toEqual(['2', '02.09.2026', 'Тема урока 2: решение задач на проценты', '§ 12, упр. 3–5']);
  });
});

describe('page breaks never cut a row', () => {
  it('40 tall rows on A4: each row wholly on one page, the header repeated', async () => {
    const pdf = openPdf({ school: 'Школа', title: 'Проверка', details: [], made: '' });
    const long = (k: number) => `начало${k} ${'очень длинный текст ячейки, '.repeat(12)}конец${k}`;
    drawTable(pdf, { columns: [{ header: '№' }, { header: 'Текст', wrap: true, maxWidth: 300 }], rows: Array.from({ length: 40 }, (_, k) => [String(k), long(k)]) }, pdf.newPage());
    const buf = await pdf.finish((n, total) => `стр. ${n} из ${total}`);
    const text = pageTexts(buf);
    expect(text.length).toBeGreaterThan(2);
    for (let k = 0; k < 40; k++) {
      const where = text.findIndex((p) => p.includes(`начало${k} `));
      expect(where).toBeGreaterThanOrEqual(0);
      expect(text[where]).toContain(`конец${k}`);
    }
    for (const page of text) expect(page).toContain('Текст');
  });
});

describe('the weekly letters (R25)', () => {
  it('one A4 page per student, with the marks, absences and homework; an empty week says so', async () => {
    const data: WeeklyLetters = {
      head,
      letters: names.map((name, i) => ({
        studentId: `st${i}`,
        name,
        weekFrom: '2026-11-09',
        weekTo: '2026-11-15',
        marks: Array.from({ length: 12 }, (_, k) => ({ date: addDays('2026-11-09', k % 5), subject: SUBJECTS[k] ?? '', value: 5, workKind: { ru: 'Контрольная работа', en: 'Control work' } })),
        absences: i === 0 ? [] : [{ date: '2026-11-10', subject: 'История', lessonNo: 3, code: 'Б' }],
        homework: Array.from({ length: 15 }, (_, k) => ({ dueOn: addDays('2026-11-16', k % 5), subject: SUBJECTS[k % 12] ?? '', text: 'Выучить правило на с. 48 и выполнить упражнения 214, 215 (письменно)' })),
      })),
    };
    const pdf = await weeklyLettersPdf(data, t);
    expect(pages(pdf)).toBe(30);
    const text = pageTexts(pdf);
    expect(text[0]).toContain(`Ученик: ${names[0]}`);
    expect(text[0]).toContain('Пропусков нет.');
    expect(text[4]).toContain(`Ученик: ${names[4]}`);
    expect(text[4]).toContain('Б — по болезни');
    expect(text[4]).toContain('Неделя: 09.11.2026 — 15.11.2026');
    // Numbered within each family's letter, not across the bundle.
    expect(text[4]).toContain('стр. 1 из 1');
    expect(text[4]).not.toContain('из 30');
    // A long letter runs on to a second page, numbered within the letter; the next letter starts its own page.
    const [first, second] = data.letters as [WeeklyLetters['letters'][number], WeeklyLetters['letters'][number]];
    const long = await weeklyLettersPdf({ head, letters: [{ ...first, homework: [...first.homework, ...first.homework, ...first.homework] }, second] }, t);
    const longText = pageTexts(long);
    expect(longText).toHaveLength(3);
    expect(longText[0]).toContain('стр. 1 из 2');
    expect(longText[1]).toContain('стр. 2 из 2');
    expect(longText[2]).toContain(`Ученик: ${names[1]}`);
    expect(longText[2]).toContain('стр. 1 из 1');
    const none = await weeklyLettersPdf({ head, letters: [] }, t);
    expect(pages(none)).toBe(1);
    expect(pageTexts(none)[0]).toContain('Писем нет');
  });
});

describe("the report card and the class teacher's report", () => {
  const cell = (n: number): ProgressCell => ({ students: 30, exempt: 0, assessed: 30, missing: 0, counts: { '5': n, '4': 10, '3': 20 - n, '2': 0, na: 0, passed: 0 }, successPct: 100, qualityPct: 66.7, sou: 61.2, averageMark: 3.87 });

  it('the report card: one page, the subjects and the totals', async () => {
    const rows = SUBJECTS.map((subject, i) => ({ subjectId: `s${i}`, subject, average: 4.5, marks: 6, periodMark: '5', absences: { Н: i % 2, Б: 0, У: 0 } }));
    const pdf = await reportCardPdf({ head, student: { studentId: 'st0', name: names[0] ?? '' }, rows, absences: { Н: 6, Б: 0, У: 0 } }, t);
    expect(pages(pdf)).toBe(1);
    const [page] = pageTexts(pdf);
    expect(page).toContain('Табель успеваемости');
    expect(page).toContain('Изобразительное искусство');
    expect(page).toContain('4,50');
  });

  it("the class teacher's report: PDF in Russian and English, XLSX with the figures", async () => {
    const students = names.map((name, i) => ({ studentId: `st${i}`, name, classId: 'c', lessons: 300, missedLessons: { Н: 1, Б: 2, У: 0, total: 3 }, missedDays: { Н: 0, Б: 1, У: 0, total: 1 } }));
    const data: QuarterReport = {
      head,
      rows: SUBJECTS.map((subject, i) => ({ subject, cell: cell(i % 5) })),
      overall: cell(4),
      attendance: { id: 'c', name: '7Б', students: 30, lessons: 9000, missedLessons: { Н: 30, Б: 60, У: 0, total: 90 }, missedDays: { Н: 0, Б: 30, У: 0, total: 30 }, missedPct: 1 },
      students,
      concerns: [{ name: names[3] ?? '', failing: ['Алгебра'], notAssessed: [] }],
    };
    const text = pageTexts(await quarterReportPdf(data, t));
    expect(text[0]).toContain('Отчёт классного руководителя');
    expect(text[0]).toContain('66,7');
    expect(text.join('')).toContain(`${names[3]} — «2»: Алгебра`);
    expect(text.join('')).toContain('30 Ученикова30 Анастасия');
    expect(pageTexts(await quarterReportPdf(data, en, 'en'))[0]).toContain("Class teacher's report");
    const wb = await readXlsx(await quarterReportXlsx(data, t));
    const [progress, attendance] = wb.worksheets as [ExcelJS.Worksheet, ExcelJS.Worksheet];
    expect(rowValues(progress, 6).slice(0, 3)).toEqual(['Предмет', 'Учеников', 'Аттест.']);
    // Figures are numbers in the spreadsheet, not text.
    expect(rowValues(progress, 7)).toEqual(['Алгебра', 30, 30, 0, 10, 20, 0, 0, 100, 66.7, 61.2, 3.87]);
    expect(rowValues(progress, 6 + SUBJECTS.length + 1)[0]).toBe('Всего по классу');
    expect(rowValues(attendance, 7).slice(0, 3)).toEqual(['№', 'Ученик', 'Уроков']);
    expect(rowValues(attendance, 8)).toEqual([1, names[0], 300, 1, 2, 0, 3, 0, 1, 0, 1, 1]);
    expect(attendance.rowCount).toBe(7 + 30 + 1);
  });
});
