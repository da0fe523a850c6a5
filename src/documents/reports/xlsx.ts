import ExcelJS from 'exceljs';

/**
 * The reports as tables (XLSX): a title block (school, title, details, the date it was made),
 * then a header row (with a group row above it when columns are grouped, e.g. a subject over its
 * periods), then the rows. The header row is frozen so it stays in view.
 */
export interface XlsxTable {
  name: string;
  titleLines: string[];
  headers: string[];
  /** One label per column ('' for none): merged over consecutive equal labels. */
  groups?: string[];
  rows: Array<Array<string | number>>;
  /** Widths in characters, per column (the rest get 8). */
  widths?: number[];
}

const safeName = (s: string) => s.replace(/[\\/:*?"<>|[\]]+/g, '_').slice(0, 31) || 'Sheet';

export function addTable(wb: ExcelJS.Workbook, table: XlsxTable): ExcelJS.Worksheet {
  const ws = wb.addWorksheet(safeName(table.name));
  for (const [i, line] of table.titleLines.entries()) {
    const row = ws.addRow([line]);
    if (i === 0) row.font = { bold: true, size: 13 };
  }
  ws.addRow([]);
  if (table.groups?.some(Boolean)) {
    const row = ws.addRow(table.groups);
    row.font = { bold: true };
    let start = 0;
    for (let i = 1; i <= table.groups.length; i++) {
      if (i === table.groups.length || table.groups[i] !== table.groups[start]) {
        if (i - start > 1 && table.groups[start]) ws.mergeCells(row.number, start + 1, row.number, i);
        start = i;
      }
    }
  }
  const head = ws.addRow(table.headers);
  head.font = { bold: true };
  head.alignment = { wrapText: true, vertical: 'middle', horizontal: 'center' };
  for (const r of table.rows) ws.addRow(r);
  table.headers.forEach((_, i) => {
    ws.getColumn(i + 1).width = table.widths?.[i] ?? 8;
  });
  ws.views = [{ state: 'frozen', xSplit: 0, ySplit: head.number }];
  return ws;
}

export function newWorkbook(): ExcelJS.Workbook {
  const wb = new ExcelJS.Workbook();
  wb.creator = 'School Journal Bot';
  return wb;
}

export async function toBuffer(wb: ExcelJS.Workbook): Promise<Buffer> {
  return Buffer.from(await wb.xlsx.writeBuffer());
}
