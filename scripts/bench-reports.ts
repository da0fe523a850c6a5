/**
 * The report figures (issue 14), measured on the demo school:
 *   npx tsx scripts/bench-reports.ts [--students 550] [--marks 2] [--runs 30]
 *
 * Builds the demo school (`seedDemoSchool`, --students; 550 is `npm run seed:demo`'s school), then
 * its first quarter of journal in bulk: a lesson for every timetable slot on every school day of
 * q1 with a topic, saved attendance and homework, --marks marks and one absence per lesson, and a
 * q1 period mark per student × subject of the load. Then times a class's q1 report (every class in
 * turn, --runs times: p50/p99), a class's report for a date range (current marks), and the whole
 * school's q1 report, with the heap and RSS growth across the school's report. Targets: a class
 * under 300 ms, the school under 5 s. The last line is JSON.
 * MONGODB_URI, else a throw-away local server (the stand-in where mongod cannot be downloaded).
 */
import { seedDemoSchool } from '../src/domain/demo/seed.js';
import { buildReport } from '../src/domain/reports/index.js';
import { systemActor } from '../src/domain/school/actor.js';
import { arg, quantile, seedJournal, withBenchDb } from './bench-common.js';

const STUDENTS = arg('students', 550);
const MARKS = arg('marks', 2);
const RUNS = arg('runs', 30);
const SEEDED_AT = new Date('2026-08-25T09:00:00Z');
const NOW = new Date('2026-11-02T09:00:00Z');

const mb = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10;

async function main(): Promise<void> {
  await withBenchDb('bench_reports', async (db, kind) => {
    const seeded = await seedDemoSchool(db, { students: STUDENTS, now: SEEDED_AT });
    const schoolId = (await db.models.School.findById(seeded.schoolId, { _id: 1 }).lean())!._id;
    const t0 = performance.now();
    const q1 = (await db.models.AcademicYear.findOne({ schoolId }).lean())?.periods.find((p) => p.code === 'q1');
    if (!q1) throw new Error('no q1');
    const journal = await seedJournal(db, schoolId, {
      from: q1.startsOn,
      to: q1.endsOn,
      marks: MARKS,
      seed: 11,
      takenAt: (date) => new Date(`${date}T10:00:00Z`),
      homework: true,
      absenceCodes: ['Н', 'Б', 'У'],
      period: { code: 'q1', values: ['2', '3', '3', '4', '4', '4', '5', '5', 'Н'] },
    });
    const buildMs = performance.now() - t0;
    const admin = systemActor(schoolId);
    const classes = await db.models.SchoolClass.find({ schoolId }, { _id: 1 }).lean();
    // Warm-up: the school cache, the connection pool, the JIT.
    await buildReport(db, admin, { kind: 'class', classId: String(classes[0]?._id), periodCode: 'q1' }, NOW);
    const classMs: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const c0 = performance.now();
      await buildReport(db, admin, { kind: 'class', classId: String(classes[i % classes.length]?._id), periodCode: 'q1' }, NOW);
      classMs.push(performance.now() - c0);
    }
    classMs.sort((a, b) => a - b);
    const r0 = performance.now();
    await buildReport(db, admin, { kind: 'class', classId: String(classes[0]?._id), from: '2026-09-01', to: '2026-10-26' }, NOW);
    const rangeMs = performance.now() - r0;
    (globalThis as { gc?: () => void }).gc?.();
    const before = process.memoryUsage();
    const s0 = performance.now();
    const school = await buildReport(db, admin, { kind: 'school', periodCode: 'q1' }, NOW);
    const schoolMs = performance.now() - s0;
    const after = process.memoryUsage();
    const heapMb = mb(after.heapUsed - before.heapUsed);
    const rssMb = mb(after.rss - before.rss);
    const jsonKb = Math.round(JSON.stringify(school).length / 1024);
    const p50 = quantile(classMs, 0.5);
    const p99 = quantile(classMs, 0.99);
    const students = await db.models.Person.countDocuments({ schoolId, roles: 'student' });
    console.log(`Reports benchmark — MongoDB: ${kind}; ${students} students, ${classes.length} classes; q1 journal built in ${(buildMs / 1000).toFixed(1)} s`);
    console.log(`  journal: ${journal.lessons} lessons, ${journal.marks} marks, ${journal.absences} absences, ${journal.periodMarks} period marks`);
    console.log(`  a class's q1 report (${RUNS} runs): p50 ${p50.toFixed(0)} ms, p99 ${p99.toFixed(0)} ms (target < 300 ms)`);
    console.log(`  a class's report for a date range (current marks): ${rangeMs.toFixed(0)} ms`);
    console.log(`  the school's q1 report: ${schoolMs.toFixed(0)} ms (target < 5000 ms), ${jsonKb} KB as JSON; heap +${heapMb} MB, RSS +${rssMb} MB`);
    console.log(`  school figures: success ${school.progress.overall.successPct} %, quality ${school.progress.overall.qualityPct} %, СОУ ${school.progress.overall.sou}, ${school.filling.total.held} lessons held`);
    console.log(
      JSON.stringify({ kind, students, classes: classes.length, ...journal, classP50Ms: Math.round(p50), classP99Ms: Math.round(p99), rangeMs: Math.round(rangeMs), schoolMs: Math.round(schoolMs), heapMb, rssMb }),
    );
  });
}

void main().catch((e) => {
  console.error(e);
  process.exit(1);
});
