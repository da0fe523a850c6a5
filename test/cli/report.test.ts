import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import type { Connection, Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPORT_KIND_NAMES } from '../../src/cli/commands/report.js';
import { connectMongo } from '../../src/db/connection.js';
import { createDb, type Db } from '../../src/db/index.js';
import { REPORT_KINDS } from '../../src/domain/reports/catalog.js';
import { runCliProcess } from '../support/cli-process.js';
import { testMongoUri } from '../support/db.js';
import { addSchoolYear, buildJournalSchool, type JournalFixture } from '../support/journal-fixtures.js';

/**
 * `npm run cli -- report …` (issue 14) as an operator runs it. 7Б's q1 marks (math 5 4 3 2,
 * russian 5 5 4 3): success 3/4 = 75 %, quality 2/4 = 50 %, СОУ 516/8 = 64.5 (see test/bot/reports).
 */
let uri: string;
let conn: Connection;
let db: Db;
let work: string;
let f: JournalFixture;
let school: string;
const cli = (args: string[]) => runCliProcess(uri, work, args);
const SLOW = 120_000;

beforeAll(async () => {
  uri = testMongoUri('cli_report');
  conn = await connectMongo(uri);
  db = await createDb(conn);
  work = mkdtempSync(join(tmpdir(), 'sjb-report-'));
  f = await buildJournalSchool(db, { students7: 4, students8: 1 });
  school = String(f.schoolId);
  const yearId = await addSchoolYear(db, f);
  const marks = (subjectId: Types.ObjectId, values: string[]) =>
    db.models.PeriodMark.insertMany(values.map((value, i) => ({ schoolId: f.schoolId, yearId, periodCode: 'q1', studentId: f.class7.studentIds[i], subjectId, value, source: 'teacher' })));
  await marks(f.mathId, ['5', '4', '3', '2']);
  await marks(f.russianId, ['5', '5', '4', '3']);
}, 60_000);

afterAll(async () => {
  await conn?.dropDatabase().catch(() => undefined);
  await conn?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('report: the reports from the command line', () => {
  it('names the same kinds as the domain', () => {
    expect([...REPORT_KIND_NAMES]).toEqual([...REPORT_KINDS]);
  });

  it('json prints the figures', async () => {
    const r = await cli(['report', 'quarter-report', '--school', school, '--class', '7Б', '--period', 'q1', '--format', 'json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.key.progress).toMatchObject({ successPct: 75, qualityPct: 50, sou: 64.5, students: 4, assessed: 4 });
    expect(out.report.progress.subjects.map((s: { subjectName: string }) => s.subjectName).sort()).toEqual(['Математика', 'Русский язык']);
    const school7 = await cli(['report', 'progress', '--school', school, '--period', 'q1', '--format', 'json']);
    expect(JSON.parse(school7.stdout).report.progress.classes.map((c: { name: string }) => c.name)).toEqual(['7Б', '8А']);
  }, SLOW);

  it('xlsx and pdf write a file that opens', async () => {
    const x = await cli(['report', 'progress', '--school', school, '--grade', '7', '--period', 'q1', '--format', 'xlsx', '--out', 'p.xlsx']);
    expect(x.code).toBe(0);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(readFileSync(join(work, 'p.xlsx')) as unknown as ArrayBuffer);
    const rows = wb.getWorksheet('Классы')?.getSheetValues().flat().map(String) ?? [];
    expect(rows).toContain('7Б');
    expect(rows).toContain('75,0');
    const p = await cli(['report', 'quarter-report', '--school', school, '--class', '7Б', '--period', 'q1', '--format', 'pdf', '--out', 'q.pdf']);
    expect(p.code).toBe(0);
    const text = execFileSync('pdftotext', ['-layout', join(work, 'q.pdf'), '-'], { encoding: 'utf8' });
    expect(text).toContain('Математика');
    expect(text).toContain('7Б');
  }, SLOW);

  it('bad arguments: a clear message and exit code 2', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['report', 'nonsense', '--school', school, '--format', 'json'], /nonsense/],
      [['report', 'progress', '--school', school, '--format', 'pdf'], /xlsx/],
      [['report', 'progress', '--school', school, '--format', 'json', '--from', '1.09.2026'], /from/],
      [['report', 'progress', '--school', school], /format/],
      [['report', 'progress', '--school', school, '--class', '9Я', '--format', 'json'], /9Я/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
    }
  }, SLOW);

  it('school settings turns an automatic report off', async () => {
    const r = await cli(['school', 'settings', '--school', school, '--weekly-reports', 'off', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).settings.reports).toEqual({ weekly: false, monthly: true, periodEnd: true });
    expect((await cli(['school', 'settings', '--school', school, '--weekly-reports', 'maybe'])).code).toBe(2);
  }, SLOW);
});
