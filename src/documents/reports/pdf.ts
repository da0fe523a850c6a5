import PDFDocument from 'pdfkit';
import { pdfOutput } from '../pdf-output.js';

/**
 * The printed reports' common ground (R25, R29): an A4 document in the shipped Cyrillic font
 * (DejaVu), the same header on every page (school, title, class, period, the date it was made),
 * tables whose columns always fit the page (smaller font first, then the columns that do not fit
 * move to further pages with the fixed ones — №, the student — repeated), a page break that never
 * cuts a row, and "стр. 1 из 3" at the foot of each page. Texts come translated from the caller.
 */

export const MARGIN = 30;
const FOOTER = 18;
const PAD = 2;

export interface PdfHeader {
  school: string;
  title: string;
  /** Class, period, teacher…: one line, joined with " · ". */
  details: string[];
  /** "Сформировано 03.12.2026" */
  made: string;
}

export interface Pdf {
  doc: PDFKit.PDFDocument;
  /** Usable width between the margins. */
  width: number;
  /** Where content must end on a page. */
  bottom: number;
  /** Starts a new page with the header (`header` replaces it from this page on); returns where content begins. */
  newPage(header?: Partial<PdfHeader>): number;
  /** The y after the current page's header. */
  top: number;
  finish(pageLabel: (n: number, total: number) => string): Promise<Buffer>;
}

export function openPdf(first: PdfHeader, opts: { landscape?: boolean } = {}): Pdf {
  let header = first;
  const doc = new PDFDocument({
    size: 'A4',
    layout: opts.landscape ? 'landscape' : 'portrait',
    margin: MARGIN,
    bufferPages: true,
    autoFirstPage: false,
    info: { Title: header.title, Creator: 'School Journal Bot' },
  });
  const done = pdfOutput(doc);
  const pdf: Pdf = {
    doc,
    width: 0,
    bottom: 0,
    top: 0,
    newPage(change) {
      if (change) header = { ...header, ...change };
      doc.addPage();
      pdf.width = doc.page.width - MARGIN * 2;
      pdf.bottom = doc.page.height - MARGIN - FOOTER;
      doc.font('Regular').fontSize(8).fillColor('#444').text(header.school, MARGIN, MARGIN, { width: pdf.width * 0.7, lineBreak: false, ellipsis: true });
      doc.text(header.made, MARGIN, MARGIN, { width: pdf.width, align: 'right', lineBreak: false });
      doc.font('Bold').fontSize(13).fillColor('black').text(header.title, MARGIN, MARGIN + 12, { width: pdf.width });
      const details = header.details.filter(Boolean).join(' · ');
      if (details) doc.font('Regular').fontSize(9).text(details, { width: pdf.width });
      pdf.top = doc.y + 6;
      return pdf.top;
    },
    async finish(pageLabel) {
      const range = doc.bufferedPageRange();
      for (let i = range.start; i < range.start + range.count; i++) {
        doc.switchToPage(i);
        // Writing below the bottom margin would start a new page: lift the margin for the footer.
        doc.page.margins.bottom = 0;
        doc
          .font('Regular')
          .fontSize(8)
          .fillColor('#444')
          .text(pageLabel(i - range.start + 1, range.count), MARGIN, doc.page.height - MARGIN - 8, { width: pdf.width, align: 'right', lineBreak: false });
      }
      doc.end();
      return done;
    },
  };
  return pdf;
}

export interface Column {
  header: string;
  /** A label shared by consecutive columns (a subject over its periods), printed above them. */
  group?: string;
  align?: 'left' | 'center';
  /** Text columns (a name, a topic) wrap; their width is a share of what is left. */
  wrap?: boolean;
  /** Repeated on every page when the columns are split (№, the student); kept on one line up to maxWidth. */
  fixed?: boolean;
  /** The widest a wrapping column may get, in points. */
  maxWidth?: number;
  /** Room to write by hand (an empty column), in points. */
  minWidth?: number;
}

export interface TableSpec {
  columns: Column[];
  rows: string[][];
  fontSize?: number;
  minFontSize?: number;
  /** Rows to shade (e.g. a total row). */
  bold?: ReadonlySet<number>;
}

const textWidth = (doc: PDFKit.PDFDocument, s: string) => (s ? doc.widthOfString(s) : 0);

interface Layout {
  size: number;
  widths: number[];
  /** Column indexes per page band: fixed ones first in each. */
  bands: number[][];
}

const longestWord = (doc: PDFKit.PDFDocument, s: string) => Math.max(0, ...s.split(/\s+/).map((w) => textWidth(doc, w)));

interface Widths {
  /** What each column wants: its longest cell (a wrapping column up to its maxWidth). */
  want: number[];
  /** The least each column can take: a wrapping column, its longest word (a fixed one, what it wants). */
  least: number[];
}

/** The text widths of a table at font size 1: a width at any size is this times the size. */
interface TextWidths {
  headerWords: number[];
  groupWords: Map<string, number>;
  longest: number[];
  longestWords: number[];
}

function textWidths(doc: PDFKit.PDFDocument, spec: TableSpec): TextWidths {
  doc.font('Bold').fontSize(1);
  const headerWords = spec.columns.map((c) => longestWord(doc, c.header));
  const groupWords = new Map<string, number>();
  for (const c of spec.columns) if (c.group && !groupWords.has(c.group)) groupWords.set(c.group, longestWord(doc, c.group));
  doc.font('Regular').fontSize(1);
  const cells = (i: number) => spec.rows.map((r) => r[i] ?? '');
  return {
    headerWords,
    groupWords,
    longest: spec.columns.map((_, i) => Math.max(headerWords[i] ?? 0, ...cells(i).map((s) => textWidth(doc, s)))),
    longestWords: spec.columns.map((c, i) => (c.wrap ? Math.max(headerWords[i] ?? 0, ...cells(i).map((s) => longestWord(doc, s))) : 0)),
  };
}

/** The widths at a font size. Headers are bold and wrap by word; a group's label must fit over its columns. */
function measure(spec: TableSpec, tw: TextWidths, size: number): Widths {
  const padded = (w: number, c: Column) => Math.max(Math.ceil(w * size + PAD * 2 + 1), c.minWidth ?? 0);
  const want: number[] = [];
  const least: number[] = [];
  spec.columns.forEach((c, i) => {
    const cap = (c.maxWidth ?? 160) / size;
    want.push(padded(c.wrap ? Math.min(tw.longest[i] ?? 0, cap) : (tw.longest[i] ?? 0), c));
    least.push(c.wrap && !c.fixed ? padded(Math.min(tw.longestWords[i] ?? 0, cap), c) : (want[i] ?? 0));
  });
  for (const [group, word] of tw.groupWords) {
    const members = spec.columns.flatMap((c, i) => (c.group === group ? [i] : []));
    const extra = (word * size + PAD * 2 + 1 - members.reduce((a, i) => a + (want[i] ?? 0), 0)) / members.length;
    if (extra <= 0) continue;
    for (const i of members) {
      want[i] = (want[i] ?? 0) + extra;
      least[i] = (least[i] ?? 0) + extra;
    }
  }
  return { want, least };
}

const sum = (list: number[], only?: number[]) => (only ?? list.map((_, i) => i)).reduce((a, i) => a + (list[i] ?? 0), 0);

/**
 * Picks the largest font at which every column fits one band — text columns wrapping down to their
 * longest word before the font gets smaller —; else the smallest, split into bands.
 */
export function layoutTable(doc: PDFKit.PDFDocument, spec: TableSpec, width: number): Layout {
  const max = spec.fontSize ?? 9;
  const min = spec.minFontSize ?? 6;
  const fixed = spec.columns.flatMap((c, i) => (c.fixed ? [i] : []));
  const moving = spec.columns.flatMap((c, i) => (c.fixed ? [] : [i]));
  const one = [[...fixed, ...moving]];
  const tw = textWidths(doc, spec);
  for (let size = max; size >= min; size -= 0.5) {
    const { want, least } = measure(spec, tw, size);
    if (sum(want) <= width) return { size, widths: stretch(spec, want, width), bands: one };
    if (sum(least) <= width) {
      // Give the wrapping columns what is left, in proportion to what they lose.
      const room = (sum(want) - width) / (sum(want) - sum(least));
      return { size, widths: want.map((w, i) => w - (w - (least[i] ?? 0)) * room), bands: one };
    }
  }
  // Split: the fixed columns on every band, the others in order, a group never cut.
  const widths = measure(spec, tw, min).least;
  const room = Math.max(width - sum(widths, fixed), 40);
  const bands: number[][] = [];
  let band: number[] = [];
  let k = 0;
  while (k < moving.length) {
    const group = spec.columns[moving[k] ?? 0]?.group;
    let end = k + 1;
    while (group && end < moving.length && spec.columns[moving[end] ?? 0]?.group === group) end++;
    const members = moving.slice(k, end);
    if (band.length && sum(widths, band) + sum(widths, members) > room) {
      bands.push(band);
      band = [];
    }
    band.push(...members);
    k = end;
  }
  if (band.length || bands.length === 0) bands.push(band);
  return { size: min, widths, bands: bands.map((b) => [...fixed, ...b]) };
}

/** Gives the spare width to the wrapping columns (names, topics) up to their maxWidth. */
function stretch(spec: TableSpec, widths: number[], width: number): number[] {
  const spare = width - sum(widths);
  const wrapping = spec.columns.flatMap((c, i) => (c.wrap ? [i] : []));
  if (spare <= 0 || wrapping.length === 0) return widths;
  return widths.map((w, i) => (wrapping.includes(i) ? Math.max(w, Math.min(w + spare / wrapping.length, spec.columns[i]?.maxWidth ?? 160)) : w));
}

const cellHeight = (doc: PDFKit.PDFDocument, text: string, w: number) => (text ? doc.heightOfString(text, { width: w - PAD * 2 }) : doc.currentLineHeight());

/** Draws a table from `y`, adding pages as needed; a row is never split. Returns the y after it. */
export function drawTable(pdf: Pdf, spec: TableSpec, y0: number): number {
  const { doc } = pdf;
  const layout = layoutTable(doc, spec, pdf.width);
  let y = y0;
  layout.bands.forEach((band, b) => {
    if (b > 0) y = pdf.newPage();
    const x: number[] = [];
    let acc = 0;
    for (const i of band) {
      x[i] = MARGIN + acc;
      acc += layout.widths[i] ?? 0;
    }
    const head = () => {
      y = drawHead(pdf, spec, band, x, layout, y);
    };
    head();
    spec.rows.forEach((row, r) => {
      doc.font(spec.bold?.has(r) ? 'Bold' : 'Regular').fontSize(layout.size);
      const h = Math.max(...band.map((i) => cellHeight(doc, row[i] ?? '', layout.widths[i] ?? 0))) + PAD * 2;
      if (y + h > pdf.bottom) {
        y = pdf.newPage();
        head();
        doc.font(spec.bold?.has(r) ? 'Bold' : 'Regular').fontSize(layout.size);
      }
      for (const i of band) drawCell(doc, row[i] ?? '', x[i] ?? 0, y, layout.widths[i] ?? 0, h, spec.columns[i]?.align ?? 'center');
      y += h;
    });
  });
  return y + 4;
}

function drawHead(pdf: Pdf, spec: TableSpec, band: number[], x: number[], layout: Layout, y0: number): number {
  const { doc } = pdf;
  let y = y0;
  doc.font('Bold').fontSize(layout.size);
  const hasGroups = band.some((i) => spec.columns[i]?.group);
  if (hasGroups) {
    // Consecutive columns of one group share a cell above them.
    const spans: Array<{ label: string; x: number; w: number }> = [];
    for (const i of band) {
      const c = spec.columns[i];
      const last = spans.at(-1);
      if (c?.group && last && last.label === c.group && Math.abs(last.x + last.w - (x[i] ?? 0)) < 0.5) last.w += layout.widths[i] ?? 0;
      else spans.push({ label: c?.group ?? '', x: x[i] ?? 0, w: layout.widths[i] ?? 0 });
    }
    const h = Math.max(...spans.map((s) => cellHeight(doc, s.label, s.w))) + PAD * 2;
    for (const s of spans) drawCell(doc, s.label, s.x, y, s.w, h, 'center', '#eee');
    y += h;
  }
  const h = Math.max(...band.map((i) => cellHeight(doc, spec.columns[i]?.header ?? '', layout.widths[i] ?? 0))) + PAD * 2;
  for (const i of band) drawCell(doc, spec.columns[i]?.header ?? '', x[i] ?? 0, y, layout.widths[i] ?? 0, h, 'center', '#eee');
  doc.font('Regular');
  return y + h;
}

function drawCell(doc: PDFKit.PDFDocument, text: string, x: number, y: number, w: number, h: number, align: 'left' | 'center', fill?: string) {
  if (fill) doc.save().rect(x, y, w, h).fill(fill).restore();
  doc.save().lineWidth(0.4).strokeColor('#777').rect(x, y, w, h).stroke().restore();
  if (text) doc.fillColor('black').text(text, x + PAD, y + PAD, { width: w - PAD * 2, align, lineBreak: true });
}

/** A paragraph that starts a new page when it would not fit. */
export function paragraph(pdf: Pdf, text: string, y: number, opts: { size?: number; bold?: boolean } = {}): number {
  const { doc } = pdf;
  doc.font(opts.bold ? 'Bold' : 'Regular').fontSize(opts.size ?? 10).fillColor('black');
  const h = doc.heightOfString(text, { width: pdf.width });
  const top = y + h > pdf.bottom ? pdf.newPage() : y;
  doc.text(text, MARGIN, top, { width: pdf.width });
  return doc.y + 2;
}
