/**
 * Closing a school year, measured (R5, R30):
 *   npx tsx scripts/bench-year-close.ts [--students 1000] [--weeks 34] [--marks 2]
 *
 * Builds the demo school (`seedDemoSchool`, --students), then a year of journal in bulk: a lesson
 * for every timetable slot on every school day of --weeks weeks, --marks marks and one absence per
 * lesson, a year mark per student × subject. Then times the closing (report + four steps) and the
 * archive (XLSX journals, year.json, SHA256SUMS) and prints the figures; the last line is JSON.
 * MONGODB_URI, else a throw-away local server (the stand-in where mongod cannot be downloaded).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Types } from 'mongoose';
import { archiveSize, writeYearArchive } from '../src/documents/year-archive.js';
import { seedDemoSchool } from '../src/domain/demo/seed.js';
import { systemActor } from '../src/domain/school/actor.js';
import { addDays } from '../src/domain/shared/calendar.js';
import { archivedYear, yearDump, yearJournals } from '../src/domain/year/archive.js';
import { closeYear, yearToClose } from '../src/domain/year/close.js';
import { arg, seedJournal, withBenchDb } from './bench-common.js';

const STUDENTS = arg('students', 1000);
const WEEKS = arg('weeks', 34);
const MARKS = arg('marks', 2);
const SEEDED_AT = new Date('2026-08-25T09:00:00Z');
const CLOSED_AT = new Date('2027-06-15T09:00:00Z');

async function main(): Promise<void> {
  const out = mkdtempSync(path.join(tmpdir(), 'sjb-archive-'));
  try {
    await withBenchDb('bench_year', async (db, kind) => {
      const seeded = await seedDemoSchool(db, { students: STUDENTS, now: SEEDED_AT });
      const schoolId = new Types.ObjectId(String(seeded.schoolId));
      const yearStart = (await db.models.AcademicYear.findOne({ schoolId }, { startsOn: 1 }).lean())?.startsOn;
      if (!yearStart) throw new Error('no year');
      const t0 = performance.now();
      const seededJournal = await seedJournal(db, schoolId, {
        from: yearStart,
        to: addDays(yearStart, WEEKS * 7 - 1),
        marks: MARKS,
        seed: 7,
        takenAt: () => CLOSED_AT,
        period: { code: 'year', values: ['3', '4', '5'] },
      });
      const journal = { lessons: seededJournal.lessons, marks: seededJournal.marks, absences: seededJournal.absences, yearMarks: seededJournal.periodMarks };
      const buildMs = performance.now() - t0;
      const admin = systemActor(schoolId);
      const c0 = performance.now();
      const closed = await closeYear(db, admin, await yearToClose(db, admin, CLOSED_AT), CLOSED_AT);
      const closeMs = performance.now() - c0;
      const a0 = performance.now();
      const year = await archivedYear(db, admin, closed.report.year.name);
      const labels = { student: 'Ученик', lesson: 'Уроки', topic: 'Тема', homework: 'Домашнее задание', teacher: 'Учитель', year: 'Год', cancelled: 'не состоялся', documentsReadme: '' };
      const written = await writeYearArchive(out, await yearJournals(db, admin, year), await yearDump(db, admin, year), labels);
      const archiveMs = performance.now() - a0;
      const bytes = await archiveSize(out);
      const students = await db.models.Person.countDocuments({ schoolId, roles: 'student' });
      console.log(`Year-end benchmark — MongoDB: ${kind}; ${students} students, ${closed.report.classes} classes; journal built in ${(buildMs / 1000).toFixed(1)} s`);
      console.log(`  journal: ${journal.lessons} lessons, ${journal.marks} marks, ${journal.absences} absences, ${journal.yearMarks} year marks`);
      console.log(`  close the year (report + 4 steps): ${(closeMs / 1000).toFixed(2)} s — ${closed.steps.map((s) => `${s.name} ${JSON.stringify(s.detail ?? {})}`).join('; ')}`);
      console.log(`  archive: ${(archiveMs / 1000).toFixed(2)} s, ${written.files} files, ${(bytes / 1048576).toFixed(1)} MB`);
      console.log(JSON.stringify({ kind, students, ...journal, closeMs: Math.round(closeMs), archiveMs: Math.round(archiveMs), archiveFiles: written.files, archiveBytes: bytes }));
    });
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

void main().catch((e) => {
  console.error(e);
  process.exit(1);
});
