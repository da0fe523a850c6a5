/**
 * Renders every printed report (R25, R29, issue 14) on the demo school, to look at them:
 *   npx tsx scripts/render-report-samples.ts [--out /tmp/report-samples] [--weeks 8] [--students 550]
 *
 * Seeds the demo school, fills --weeks weeks of the journal in bulk (lessons with topics and
 * homework, two marks and one absence per lesson, period and year marks), then writes the summary
 * sheet, the class journal, the weekly letters, a report card and the class teacher's report (PDF and
 * XLSX) and a PNG of each PDF page (pdftoppm -r 60) under --out. Nothing is kept in git.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Types } from 'mongoose';
import pino from 'pino';
import { connectMongo } from '../src/db/connection.js';
import { createDb, type Db } from '../src/db/index.js';
import { startLocalMongo } from '../src/db/local-server.js';
import { journalDocumentPdf, journalDocumentXlsx } from '../src/documents/reports/journal.js';
import { quarterReportPdf, quarterReportXlsx } from '../src/documents/reports/quarter-report.js';
import { reportCardPdf } from '../src/documents/reports/report-card.js';
import { summarySheetPdf, summarySheetXlsx } from '../src/documents/reports/summary.js';
import { weeklyLettersPdf } from '../src/documents/reports/weekly-letter.js';
import { seedDemoSchool } from '../src/domain/demo/seed.js';
import { classJournalDocument } from '../src/domain/reports/sheets/journal.js';
import { classTeacherReport } from '../src/domain/reports/sheets/quarter-report.js';
import { studentReportCard } from '../src/domain/reports/sheets/report-card.js';
import { classYearSummary } from '../src/domain/reports/sheets/summary.js';
import { weeklyLettersForClass } from '../src/domain/reports/sheets/weekly-letter.js';
import { isSchoolDay } from '../src/domain/school/academic-year.js';
import { systemActor } from '../src/domain/school/actor.js';
import { addDays, isoWeekday } from '../src/domain/shared/calendar.js';
import { createI18n, translator } from '../src/i18n.js';
import { arg, seededInts } from './bench-common.js';

const OUT = process.argv.includes('--out') ? String(process.argv[process.argv.indexOf('--out') + 1]) : '/tmp/report-samples';
const WEEKS = arg('weeks', 8);
const STUDENTS = arg('students', 550);
const SEEDED_AT = new Date('2026-08-25T09:00:00Z');
const NOW = new Date('2026-10-23T09:00:00Z');
const TOPICS = ['Повторение изученного в прошлом году', 'Решение задач', 'Контрольная работа по теме «Дроби»', 'Работа над ошибками', 'Новая тема'];
const HOMEWORK = ['§ 12, упр. 3–5', 'Выучить правило на с. 48 и выполнить упражнения 214, 215 (письменно), подготовить пересказ текста', ''];

async function fillJournal(db: Db, schoolId: Types.ObjectId): Promise<void> {
  const { TimetableSlot, Person, Lesson, Mark, Absence, PeriodMark, AcademicYear, TeachingLoad } = db.models;
  const [year, slots, students] = await Promise.all([
    AcademicYear.findOne({ schoolId }).lean(),
    TimetableSlot.find({ schoolId }).lean(),
    Person.find({ schoolId, roles: 'student' }, { student: 1 }).lean(),
  ]);
  if (!year) throw new Error('no year');
  const byClass = new Map<string, Types.ObjectId[]>();
  for (const s of students) byClass.set(String(s.student?.classId), [...(byClass.get(String(s.student?.classId)) ?? []), s._id]);
  const rand = seededInts(11);
  const last = addDays(year.startsOn, WEEKS * 7 - 1);
  for (let date = year.startsOn; date <= last; date = addDays(date, 1)) {
    if (!(await isSchoolDay(db, schoolId, date))) continue;
    const today = slots.filter((s) => s.weekday === isoWeekday(date));
    const lessons = await Lesson.insertMany(
      today.map((s) => ({
        ...{ schoolId, date, slotId: s._id, classId: s.classId, groupId: s.groupId, subjectId: s.subjectId, teacherId: s.teacherId, lessonNo: s.lessonNo },
        topic: TOPICS[rand(TOPICS.length)],
        homework: { text: HOMEWORK[rand(HOMEWORK.length)] || undefined, dueOn: addDays(date, 7) },
      })),
    );
    const marks = [];
    const absences = [];
    for (const l of lessons) {
      const roster = byClass.get(String(l.classId)) ?? [];
      if (roster.length === 0) continue;
      for (let i = 0; i < 2; i++) {
        const studentId = roster[rand(roster.length)];
        marks.push({ schoolId, lessonId: l._id, studentId, subjectId: l.subjectId, classId: l.classId, date, value: 2 + rand(4), workKind: i ? 'control' : 'classwork', weight: i ? 2 : 1, teacherId: l.teacherId });
      }
      absences.push({ schoolId, lessonId: l._id, studentId: roster[rand(roster.length)], classId: l.classId, date, code: ['Н', 'Б', 'У'][rand(3)] });
    }
    await Mark.insertMany(marks, { ordered: false });
    await Absence.insertMany(absences, { ordered: false }).catch(() => undefined);
  }
  const load = await TeachingLoad.find({ schoolId }, { classId: 1, subjectId: 1 }).lean();
  const codes = (year.periods ?? []).filter((p) => p.kind !== 'year').map((p) => p.code);
  const values = ['5', '4', '4', '3', '3', '2', 'Н'];
  const periodMarks = load.flatMap((l) =>
    (byClass.get(String(l.classId)) ?? []).flatMap((studentId) =>
      [...codes, 'year'].map((periodCode) => ({ schoolId, yearId: year._id, periodCode, studentId, subjectId: l.subjectId, value: values[rand(values.length)] })),
    ),
  );
  for (let i = 0; i < periodMarks.length; i += 5000) await PeriodMark.insertMany(periodMarks.slice(i, i + 5000), { ordered: false }).catch(() => undefined);
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const local = await startLocalMongo({ persistent: false, offline: true, dbName: 'report_samples', logger: pino({ level: 'warn' }) });
  const conn = await connectMongo(local.uri.replace(/\/[^/?]*(\?|$)/, `/report_samples_${Date.now().toString(36)}$1`));
  try {
    const db = await createDb(conn);
    const seeded = await seedDemoSchool(db, { students: STUDENTS, now: SEEDED_AT });
    const school = await db.models.School.findById(seeded.schoolId, { _id: 1 }).lean();
    if (!school) throw new Error('no school');
    await fillJournal(db, school._id);
    const admin = systemActor(school._id);
    const i18n = await createI18n('ru');
    const t = translator(i18n, 'ru');
    const classes = await db.models.SchoolClass.find({ schoolId: school._id }, { name: 1, grade: 1 }).sort({ grade: -1 }).lean();
    const cls = classes.find((c) => c.grade === 7) ?? classes[0];
    if (!cls) throw new Error('no class');
    const classId = String(cls._id);
    const load = await db.models.TeachingLoad.findOne({ schoolId: school._id, classId: cls._id }, { subjectId: 1 }).lean();
    const files: Array<[string, Buffer]> = [];
    const timings: string[] = [];
    // Each document timed from the request to the file (data + rendering).
    const timed = async <T>(label: string, build: () => Promise<T>, render: (data: T) => Array<[string, Promise<Buffer>]>): Promise<T> => {
      const t0 = performance.now();
      const data = await build();
      const t1 = performance.now();
      for (const [name, buffer] of render(data)) files.push([name, await buffer]);
      timings.push(`${label}: data ${Math.round(t1 - t0)} ms, files ${Math.round(performance.now() - t1)} ms`);
      return data;
    };
    const summary = await timed('summary sheet', () => classYearSummary(db, admin, classId, {}, NOW), (d) => [['summary.pdf', summarySheetPdf(d, t)], ['summary.xlsx', summarySheetXlsx(d, t)]]);
    const journal = await timed(
      'class journal',
      () => classJournalDocument(db, admin, { classId, subjectId: String(load?.subjectId), periodCode: 'q1' }, NOW),
      (d) => [['journal.pdf', journalDocumentPdf(d, t)], ['journal.xlsx', journalDocumentXlsx(d, t)]],
    );
    const letters = await timed('weekly letters', () => weeklyLettersForClass(db, admin, classId, {}, NOW), (d) => [['letters.pdf', weeklyLettersPdf(d, t)]]);
    const first = summary.students[0]?.studentId ?? '';
    await timed('report card', () => studentReportCard(db, admin, first, { periodCode: 'q1' }, NOW), (d) => [['report-card.pdf', reportCardPdf(d, t)]]);
    await timed(
      "class teacher's report",
      () => classTeacherReport(db, admin, classId, { periodCode: 'q1' }, NOW),
      (d) => [['quarter.pdf', quarterReportPdf(d, t)], ['quarter.xlsx', quarterReportXlsx(d, t)], ['quarter-en.pdf', quarterReportPdf(d, translator(i18n, 'en'), 'en')]],
    );
    for (const [name, buffer] of files) {
      const out = path.join(OUT, name);
      writeFileSync(out, buffer);
      if (name.endsWith('.pdf')) execFileSync('pdftoppm', ['-png', '-r', '60', out, out.replace(/\.pdf$/, '')]);
    }
    console.log(`${cls.name}: ${summary.students.length} students, ${summary.subjects.length} subjects, ${journal.lessons.length} lessons, ${letters.letters.length} letters`);
    console.log(timings.join('\n'));
    console.log(`heap used ${Math.round(process.memoryUsage().heapUsed / 1048576)} MB; files in ${OUT}: ${readdirSync(OUT).length}`);
  } finally {
    await conn.dropDatabase().catch(() => undefined);
    await conn.close();
    await local.stop();
  }
}

void main().catch((e) => {
  console.error(e);
  process.exit(1);
});
