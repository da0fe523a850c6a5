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
import type { Types } from 'mongoose';
import pino from 'pino';
import { connectMongo } from '../src/db/connection.js';
import { createDb, type Db } from '../src/db/index.js';
import { startLocalMongo } from '../src/db/local-server.js';
import { archiveSize, writeYearArchive } from '../src/documents/year-archive.js';
import { seedDemoSchool } from '../src/domain/demo/seed.js';
import { isSchoolDay } from '../src/domain/school/academic-year.js';
import { systemActor } from '../src/domain/school/actor.js';
import { addDays, isoWeekday } from '../src/domain/shared/calendar.js';
import { archivedYear, yearDump, yearJournals } from '../src/domain/year/archive.js';
import { closeYear, yearToClose } from '../src/domain/year/close.js';
import { arg } from './bench-common.js';

const STUDENTS = arg('students', 1000);
const WEEKS = arg('weeks', 34);
const MARKS = arg('marks', 2);
const SEEDED_AT = new Date('2026-08-25T09:00:00Z');
const CLOSED_AT = new Date('2027-06-15T09:00:00Z');

async function journalYear(db: Db, schoolId: Types.ObjectId): Promise<{ lessons: number; marks: number; absences: number; yearMarks: number }> {
  const { TimetableSlot, Person, Lesson, Mark, Absence, PeriodMark, AcademicYear, TeachingLoad } = db.models;
  const year = await AcademicYear.findOne({ schoolId }).lean();
  if (!year) throw new Error('no year');
  const slots = await TimetableSlot.find({ schoolId }).lean();
  const students = await Person.find({ schoolId, roles: 'student' }, { student: 1 }).lean();
  const byClass = new Map<string, Types.ObjectId[]>();
  for (const s of students) byClass.set(String(s.student?.classId), [...(byClass.get(String(s.student?.classId)) ?? []), s._id]);
  let seed = 7;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const counts = { lessons: 0, marks: 0, absences: 0, yearMarks: 0 };
  const last = addDays(year.startsOn, WEEKS * 7 - 1);
  for (let date = year.startsOn; date <= last && date <= year.endsOn; date = addDays(date, 1)) {
    if (!(await isSchoolDay(db, schoolId, date))) continue;
    const today = slots.filter((s) => s.weekday === isoWeekday(date));
    if (today.length === 0) continue;
    const lessons = await Lesson.insertMany(
      today.map((s) => ({ schoolId, date, slotId: s._id, classId: s.classId, groupId: s.groupId, subjectId: s.subjectId, teacherId: s.teacherId, lessonNo: s.lessonNo, topic: 'Тема урока', attendanceTakenAt: CLOSED_AT })),
    );
    const marks = [];
    const absences = [];
    for (const l of lessons) {
      const roster = byClass.get(String(l.classId)) ?? [];
      if (roster.length === 0) continue;
      for (let i = 0; i < MARKS; i++) {
        const studentId = roster[rand(roster.length)];
        marks.push({ schoolId, lessonId: l._id, studentId, subjectId: l.subjectId, classId: l.classId, date, value: 2 + rand(4), workKind: 'classwork', weight: 1, teacherId: l.teacherId });
      }
      absences.push({ schoolId, lessonId: l._id, studentId: roster[rand(roster.length)], classId: l.classId, date, code: 'Н' });
    }
    await Mark.insertMany(marks, { ordered: false });
    await Absence.insertMany(absences, { ordered: false }).catch(() => undefined);
    counts.lessons += lessons.length;
    counts.marks += marks.length;
    counts.absences += absences.length;
  }
  const load = await TeachingLoad.find({ schoolId }, { classId: 1, subjectId: 1 }).lean();
  const yearMarks = load.flatMap((l) =>
    (byClass.get(String(l.classId)) ?? []).map((studentId) => ({ schoolId, yearId: year._id, periodCode: 'year', studentId, subjectId: l.subjectId, value: String(3 + rand(3)) })),
  );
  for (let i = 0; i < yearMarks.length; i += 5000) await PeriodMark.insertMany(yearMarks.slice(i, i + 5000), { ordered: false }).catch(() => undefined);
  counts.yearMarks = await PeriodMark.countDocuments({ schoolId });
  return counts;
}

async function main(): Promise<void> {
  const quiet = pino({ level: 'warn' });
  let uri = process.env.MONGODB_URI;
  let stop: (() => Promise<void>) | undefined;
  let kind = 'external';
  if (!uri) {
    const local = await startLocalMongo({ persistent: false, offline: true, dbName: 'bench_year', logger: quiet });
    uri = local.uri;
    kind = local.kind;
    stop = () => local.stop();
  }
  const conn = await connectMongo(uri.replace(/\/[^/?]*(\?|$)/, `/bench_year_${Date.now().toString(36)}$1`));
  const out = mkdtempSync(path.join(tmpdir(), 'sjb-archive-'));
  try {
    const db = await createDb(conn);
    const seeded = await seedDemoSchool(db, { students: STUDENTS, now: SEEDED_AT });
    const schoolId = (await db.models.School.findById(seeded.schoolId, { _id: 1 }).lean())!._id;
    const t0 = performance.now();
    const journal = await journalYear(db, schoolId);
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
  } finally {
    await conn.dropDatabase().catch(() => undefined);
    await conn.close();
    await stop?.();
    rmSync(out, { recursive: true, force: true });
  }
}

void main().catch((e) => {
  console.error(e);
  process.exit(1);
});
