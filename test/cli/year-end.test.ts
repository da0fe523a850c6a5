import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import type { Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMongo } from '../../src/db/connection.js';
import { createDb, type Db } from '../../src/db/index.js';
import { runCliProcess } from '../support/cli-process.js';
import { dropTestDatabase, testMongoUri } from '../support/db.js';
import { buildJournalSchool, type JournalFixture, lessonOn } from '../support/journal-fixtures.js';

/** The year's end as an operator runs it (R5, R30): outcomes from a file, close, archive, restore into a new database. */
let uri: string;
let restoredUri: string;
let conn: Connection;
let db: Db;
let work: string;
let f: JournalFixture;

const cli = (args: string[]) => runCliProcess(uri, work, args);

beforeAll(async () => {
  uri = testMongoUri('cli_year_end');
  restoredUri = testMongoUri('cli_year_restored');
  conn = await connectMongo(uri);
  db = await createDb(conn);
  work = mkdtempSync(join(tmpdir(), 'sjb-year-end-'));
  f = await buildJournalSchool(db, { students7: 3, students8: 2 });
  // A year that has ended before today, whatever day the test runs.
  await db.models.AcademicYear.create({
    schoolId: f.schoolId,
    name: '2025/2026',
    startsOn: '2025-09-01',
    endsOn: '2026-05-31',
    periods: [{ code: 'year', kind: 'year', startsOn: '2025-09-01', endsOn: '2026-05-31' }],
  });
  await db.models.TimetableSlot.updateMany({ schoolId: f.schoolId }, { $set: { validFrom: '2025-09-01' } });
  const lessonId = await lessonOn(db, f, f.mathSlot7, '2026-05-20');
  const student = f.class7.studentIds[0];
  await db.models.Mark.create({ schoolId: f.schoolId, lessonId, studentId: student, subjectId: f.mathId, classId: f.class7.id, date: '2026-05-20', value: 5, workKind: 'classwork', weight: 1, teacherId: f.teacherId });
  await db.models.Absence.create({ schoolId: f.schoolId, lessonId, studentId: f.class7.studentIds[1], classId: f.class7.id, date: '2026-05-20', code: 'Б' });
}, 60_000);
afterAll(async () => {
  await conn?.dropDatabase().catch(() => undefined);
  await conn?.close();
  await dropTestDatabase(restoredUri).catch(() => undefined);
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('year-end from the command line', () => {
  it('outcomes from a file: a bad row refuses the whole file (exit 1, row named); a good one writes', async () => {
    writeFileSync(join(work, 'bad.csv'), 'код ученика;решение\n7b-s01;оставлен на повторное обучение\n7b-zz;переведен\n');
    const bad = await cli(['year', 'outcomes', '--school', String(f.schoolId), '--file', 'bad.csv', '--lang', 'en']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('7b-zz');
    expect(await db.models.StudentOutcome.countDocuments({})).toBe(0);
    writeFileSync(join(work, 'good.csv'), 'student_id,outcome\n7b-s01,repeating\n8a-s01,expelled\n');
    const good = await cli(['year', 'outcomes', '--school', String(f.schoolId), '--file', 'good.csv', '--json']);
    expect(good.code).toBe(0);
    expect(JSON.parse(good.stdout)).toMatchObject({ written: 2, errors: [] });
  }, 60_000);

  it('close --dry-run reports and changes nothing; close runs the four steps', async () => {
    const dry = await cli(['year', 'close', '--school', String(f.schoolId), '--dry-run', '--json']);
    expect(dry.code).toBe(0);
    const report = JSON.parse(dry.stdout).report;
    expect(report).toMatchObject({ year: { name: '2025/2026' }, nextYearName: '2026/2027', students: 5, outcomes: { recorded: 2, notRecorded: 3 } });
    expect((await db.models.AcademicYear.findOne({ name: '2025/2026' }).lean())?.status).toBe('active');
    const run = await cli(['year', 'close', '--school', String(f.schoolId), '--json']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).steps.map((s: { ran: boolean }) => s.ran)).toEqual([true, true, true, true]);
    expect((await db.models.SchoolClass.findById(f.class7.id).lean())?.name).toBe('8Б');
  }, 60_000);

  it('archive writes XLSX journals, year.json, documents/ and SHA256SUMS that match', async () => {
    const r = await cli(['year', 'archive', '--school', String(f.schoolId), '--year', '2025/2026', '--out', 'arch', '--lang', 'en']);
    expect(r.code).toBe(0);
    const dir = join(work, 'arch');
    expect(existsSync(join(dir, 'documents'))).toBe(true);
    // One journal per class × subject with lessons that year, under the class's name of that year (7Б, now 8Б).
    expect(readdirSync(join(dir, 'journals'))).toEqual(['7Б Математика.xlsx']);
    for (const line of readFileSync(join(dir, 'SHA256SUMS'), 'utf8').trim().split('\n')) {
      const [sum, name] = line.split('  ');
      expect(createHash('sha256').update(readFileSync(join(dir, name ?? ''))).digest('hex')).toBe(sum);
    }
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(join(dir, 'journals', '7Б Математика.xlsx'));
    const rows = wb.worksheets[0]!.getSheetValues().filter(Boolean).map((row) => (row as unknown[]).slice(1));
    expect(rows[2]).toEqual(['Student', '20.05', 'Year']);
    expect(rows.slice(3).map((row) => row[1])).toEqual(['5', 'Б', '']);
  }, 60_000);

  it('restore loads the archive into a new database for reading; a damaged archive is refused', async () => {
    const r = await cli(['year', 'restore', '--from', 'arch', '--uri', restoredUri, '--json']);
    expect(r.code).toBe(0);
    const other = await connectMongo(restoredUri);
    try {
      const rdb = await createDb(other);
      expect(await rdb.models.Mark.countDocuments({ value: 5, date: '2026-05-20' })).toBe(1);
      expect((await rdb.models.AcademicYear.findOne({}).lean())?.status).toBe('archived');
    } finally {
      await other.close();
    }
    const again = await cli(['year', 'restore', '--from', 'arch', '--uri', restoredUri, '--lang', 'en']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already has a school');
    appendFileSync(join(work, 'arch', 'year.json'), ' ');
    const damaged = await cli(['year', 'restore', '--from', 'arch', '--uri', testMongoUri('cli_year_damaged'), '--lang', 'en']);
    expect(damaged.code).toBe(1);
    expect(damaged.stderr).toContain('year.json');
  }, 60_000);
});
