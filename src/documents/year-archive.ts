import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import ExcelJS from 'exceljs';
import mongoose from 'mongoose';
import type { JournalSheet, YearDump, YearJournals } from '../domain/year/archive.js';

/**
 * The year's archive as files a school keeps outside the system (R30):
 *   journals/<class> <subject>[ <group>].xlsx   one journal per class (or group) × subject
 *   year.json                                   the year's documents (Extended JSON: ids and dates kept) for `year restore`
 *   documents/                                  printed documents (report cards, orders) — filled by the reports issue
 *   SHA256SUMS                                  sha256 of every file above, `sha256sum -c` checks them
 * Texts (headers) come localized from the caller.
 */
export interface ArchiveLabels {
  student: string;
  lesson: string;
  topic: string;
  homework: string;
  teacher: string;
  year: string;
  cancelled: string;
  documentsReadme: string;
}

export const CHECKSUMS = 'SHA256SUMS';
export const DUMP_FILE = 'year.json';

const safe = (s: string) => s.replace(/[\\/:*?"<>|]+/g, '_').trim();

async function journalXlsx(sheet: JournalSheet, labels: ArchiveLabels, meta: { schoolName: string; yearName: string }): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  wb.creator = 'School Journal Bot';
  const ws = wb.addWorksheet(safe(`${sheet.className} ${sheet.subjectName}`).slice(0, 31));
  const title = [meta.schoolName, meta.yearName, sheet.className, sheet.groupName, sheet.subjectName].filter(Boolean).join(' · ');
  ws.addRow([title]);
  ws.addRow([`${labels.teacher}: ${sheet.teacherNames.join(', ')}`]);
  const dates = sheet.dates.map((d) => `${d.date.slice(8, 10)}.${d.date.slice(5, 7)}${d.cancelled ? ` (${labels.cancelled})` : ''}`);
  const periods = sheet.periods.map((p) => (p === 'year' ? labels.year : p));
  const head = ws.addRow([labels.student, ...dates, ...periods]);
  head.font = { bold: true };
  for (const s of sheet.students) ws.addRow([s.name, ...s.cells, ...s.periodMarks]);
  ws.getColumn(1).width = 32;
  ws.views = [{ state: 'frozen', xSplit: 1, ySplit: 3 }];
  // The lessons: date, number, topic, homework (R10, R22).
  const lessons = wb.addWorksheet(labels.lesson);
  lessons.addRow([labels.lesson, '№', labels.topic, labels.homework]).font = { bold: true };
  for (const d of sheet.dates) lessons.addRow([d.date, d.lessonNo ?? '', d.topic ?? '', d.homework ?? '']);
  lessons.getColumn(3).width = 50;
  lessons.getColumn(4).width = 50;
  return Buffer.from(await wb.xlsx.writeBuffer());
}

export interface ArchiveWritten {
  dir: string;
  files: number;
  bytes: number;
}

export async function writeYearArchive(dir: string, journals: YearJournals, dump: YearDump, labels: ArchiveLabels): Promise<ArchiveWritten> {
  await mkdir(path.join(dir, 'journals'), { recursive: true });
  await mkdir(path.join(dir, 'documents'), { recursive: true });
  const files: Array<[string, Buffer]> = [];
  const used = new Set<string>();
  for (const sheet of journals.sheets) {
    let name = `journals/${safe([sheet.className, sheet.subjectName, sheet.groupName].filter(Boolean).join(' '))}.xlsx`;
    for (let n = 2; used.has(name); n++) name = name.replace(/( \(\d+\))?\.xlsx$/, ` (${n}).xlsx`);
    used.add(name);
    files.push([name, await journalXlsx(sheet, labels, { schoolName: journals.schoolName, yearName: journals.year.name })]);
  }
  files.push([DUMP_FILE, Buffer.from(mongoose.mongo.BSON.EJSON.stringify(dump, { relaxed: true }))]);
  files.push(['documents/README.txt', Buffer.from(`${labels.documentsReadme}\n`)]);
  let bytes = 0;
  const sums: string[] = [];
  for (const [name, data] of files) {
    await writeFile(path.join(dir, name), data);
    bytes += data.length;
    sums.push(`${createHash('sha256').update(data).digest('hex')}  ${name}`);
  }
  const list = Buffer.from(`${sums.join('\n')}\n`);
  await writeFile(path.join(dir, CHECKSUMS), list);
  return { dir, files: files.length + 1, bytes: bytes + list.length };
}

/** Reads an archive back, refusing it when a file does not match its checksum (or is missing). */
export async function readYearArchive(dir: string): Promise<{ dump: YearDump; bad: string[] }> {
  const list = await readFile(path.join(dir, CHECKSUMS), 'utf8');
  const bad: string[] = [];
  for (const line of list.split('\n').filter(Boolean)) {
    const [sum, ...rest] = line.split('  ');
    const name = rest.join('  ');
    const data = await readFile(path.join(dir, name)).catch(() => undefined);
    if (!data || createHash('sha256').update(data).digest('hex') !== sum) bad.push(name);
  }
  const dump = mongoose.mongo.BSON.EJSON.parse(await readFile(path.join(dir, DUMP_FILE), 'utf8')) as YearDump;
  return { dump, bad };
}

/** The archive's size on disk, for the bench. */
export async function archiveSize(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) total += (await stat(path.join(e.parentPath, e.name))).size;
  }
  return total;
}
