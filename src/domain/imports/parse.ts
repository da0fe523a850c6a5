import { parse as parseCsv } from 'csv-parse/sync';
import type ExcelJS from 'exceljs';
import { DomainError } from '../shared/errors.js';

/**
 * Reading a spreadsheet (CSV or the first sheet of an XLSX) into rows of text cells keyed by the
 * header as written in the file. Row numbers are the ones a person sees in the spreadsheet: the
 * header is row 1, the first data row is row 2 (empty rows still count, as they do on screen).
 */
export interface SheetRow {
  rowNo: number;
  cells: Record<string, string>;
}

export interface ParsedSheet {
  /** Headers as written (trimmed), in column order; empty header cells are left out. */
  headers: string[];
  rows: SheetRow[];
}

export type SheetFormat = 'csv' | 'xlsx';

/** Whole-file problems (not a CSV/XLSX, unreadable, too big): reported against row 1. */
export class SpreadsheetError extends DomainError {
  constructor(key: string, vars: Record<string, unknown> = {}) {
    super(key, vars);
    this.name = 'SpreadsheetError';
  }
}

/** A school has a few thousand people at most; this guards the server against a wrong file. */
export const MAX_ROWS = 20_000;
export const MAX_FILE_BYTES = 10 * 1024 * 1024;

const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);

/** By extension, then by content: an XLSX is a ZIP archive; anything else that decodes as text is CSV. */
export function sheetFormat(filename: string, data: Buffer): SheetFormat | undefined {
  const ext = filename.toLowerCase().split('.').pop() ?? '';
  if (ext === 'xlsx') return 'xlsx';
  if (ext === 'csv' || ext === 'txt') return 'csv';
  if (data.subarray(0, 4).equals(ZIP_MAGIC)) return ext === 'xls' || ext === 'ods' ? undefined : 'xlsx';
  if (ext === '' && !data.includes(0)) return 'csv';
  return undefined;
}

export async function parseSpreadsheet(data: Buffer, filename: string): Promise<ParsedSheet> {
  if (data.length > MAX_FILE_BYTES) throw new SpreadsheetError('import.errors.fileTooBig', { maxMb: MAX_FILE_BYTES / 1024 / 1024 });
  const format = sheetFormat(filename, data);
  if (!format) throw new SpreadsheetError('import.errors.badFormat');
  const sheet = format === 'xlsx' ? await readXlsx(data) : readCsv(data);
  if (sheet.headers.length === 0) throw new SpreadsheetError('import.errors.noHeader');
  if (sheet.rows.length > MAX_ROWS) throw new SpreadsheetError('import.errors.tooManyRows', { max: MAX_ROWS });
  return sheet;
}

// ---------------------------------------------------------------------------------------------
// CSV

/**
 * UTF-8 (with or without BOM) is expected; Excel in Russian locales saves "CSV" as Windows-1251,
 * so a file that is not valid UTF-8 is read as that rather than turned into mojibake.
 */
export function decodeText(data: Buffer): string {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(data);
  } catch {
    text = new TextDecoder('windows-1251').decode(data);
  }
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** The delimiter is whichever of `;`, `,` or tab occurs most in the header line (outside quotes). */
export function detectDelimiter(text: string): string {
  const counts = new Map<string, number>([
    [';', 0],
    [',', 0],
    ['\t', 0],
  ]);
  let quoted = false;
  for (const ch of text) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && (ch === '\n' || ch === '\r')) break;
    else if (!quoted && counts.has(ch)) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  }
  let best = ',';
  let bestCount = 0;
  for (const [d, n] of counts) {
    if (n > bestCount) {
      best = d;
      bestCount = n;
    }
  }
  return best;
}

function readCsv(data: Buffer): ParsedSheet {
  const text = decodeText(data);
  let records: string[][];
  try {
    records = parseCsv(text, {
      delimiter: detectDelimiter(text),
      relax_column_count: true,
      relax_quotes: true,
      skip_empty_lines: false,
    });
  } catch (error) {
    const line = (error as { lines?: number }).lines;
    throw new SpreadsheetError('import.errors.badCsv', { line: line ?? '?' });
  }
  const [headerRecord = [], ...body] = records;
  const columns = headerRecord.map((h) => h.trim());
  const rows: SheetRow[] = [];
  body.forEach((record, i) => {
    const cells: Record<string, string> = {};
    let filled = false;
    columns.forEach((header, c) => {
      if (!header) return;
      const value = (record[c] ?? '').trim();
      if (value) filled = true;
      cells[header] = value;
    });
    if (filled) rows.push({ rowNo: i + 2, cells });
  });
  return { headers: columns.filter(Boolean), rows };
}

// ---------------------------------------------------------------------------------------------
// XLSX

async function readXlsx(data: Buffer): Promise<ParsedSheet> {
  // Loaded on first use: exceljs is large, and most imports (and every CLI --help) never need it.
  const { default: Excel } = await import('exceljs');
  const workbook = new Excel.Workbook();
  try {
    await workbook.xlsx.load(data as unknown as ArrayBuffer);
  } catch {
    throw new SpreadsheetError('import.errors.badXlsx');
  }
  const sheet = workbook.worksheets[0];
  if (!sheet) throw new SpreadsheetError('import.errors.noHeader');
  const columns = new Map<number, string>();
  sheet.getRow(1).eachCell({ includeEmpty: false }, (cell, col) => {
    const header = cellText(cell.value).trim();
    if (header) columns.set(col, header);
  });
  const rows: SheetRow[] = [];
  sheet.eachRow({ includeEmpty: false }, (row, rowNo) => {
    if (rowNo === 1) return;
    const cells: Record<string, string> = {};
    let filled = false;
    for (const [col, header] of columns) {
      const value = cellText(row.getCell(col).value).trim();
      if (value) filled = true;
      cells[header] = value;
    }
    if (filled) rows.push({ rowNo, cells });
  });
  return { headers: [...columns.values()], rows };
}

const pad = (n: number) => String(n).padStart(2, '0');

/** A cell as the person sees it: dates as YYYY-MM-DD, formulas by their result, rich text joined. */
export function cellText(value: ExcelJS.CellValue | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(12)));
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  // Excel stores a calendar date; exceljs hands it over as midnight UTC of that date.
  if (value instanceof Date) return `${value.getUTCFullYear()}-${pad(value.getUTCMonth() + 1)}-${pad(value.getUTCDate())}`;
  if ('richText' in value) return value.richText.map((r) => r.text).join('');
  if ('hyperlink' in value) return typeof value.text === 'string' ? value.text : cellText(value.text as ExcelJS.CellValue);
  if ('formula' in value || 'sharedFormula' in value) {
    const result = (value as { result?: unknown }).result;
    return result === undefined || (typeof result === 'object' && result !== null && 'error' in result)
      ? ''
      : cellText(result as ExcelJS.CellValue);
  }
  return '';
}

// ---------------------------------------------------------------------------------------------
// Writing CSV (templates, the demo school, error lists)

/** One CSV line; fields with the delimiter, quotes or line breaks are quoted. */
export function csvLine(values: ReadonlyArray<string | number | boolean | null | undefined>, delimiter = ';'): string {
  return values
    .map((v) => {
      const s = v === null || v === undefined ? '' : String(v);
      return /["\r\n]/.test(s) || s.includes(delimiter) ? `"${s.replace(/"/g, '""')}"` : s;
    })
    .join(delimiter);
}

/** A UTF-8 CSV file (with BOM, so Excel opens Cyrillic correctly) from header names and rows. */
export function toCsv(
  headers: readonly string[],
  rows: ReadonlyArray<Record<string, string | number | boolean | null | undefined>>,
  delimiter = ';',
): Buffer {
  const lines = [csvLine(headers, delimiter), ...rows.map((r) => csvLine(headers.map((h) => r[h]), delimiter))];
  return Buffer.from(`\uFEFF${lines.join('\r\n')}\r\n`, 'utf8');
}
