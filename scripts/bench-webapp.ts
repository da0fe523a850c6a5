/**
 * Benchmark of the Mini App's grid (issue 15): GET /app/api/grid for a class of 30 × a whole
 * quarter over real HTTP against the app's web server (init data checked, actor loaded, grid built),
 * p50 and p99 over 50 requests, and the database commands per request (MongoDB command monitoring).
 *
 *   npm run bench:webapp [-- --requests 50 --students 30]
 *
 * The class: 7Б of the journal fixture (test/support/journal-fixtures.ts), math every day Mon–Sat,
 * q1 = 1 Sep – 26 Oct 2026 (48 lessons), the clock on its last day; a mark for every student in
 * about every other lesson (written work among them) and some absences. The first request also
 * makes the quarter's lessons from the timetable (one bulk write): reported apart as `cold`.
 * Uses MONGODB_URI when set, else the local stand-in (pessimistic: it ignores non-unique indexes).
 * The last line is JSON.
 */
import { performance } from 'node:perf_hooks';
import type { GridResponse } from '../src/web/api-types.js';
import { signInitData } from '../src/web/init-data.js';
import { TEST_TOKEN } from '../test/support/bot-info.js';
import { addSchoolYear, bindTelegram, buildJournalSchool } from '../test/support/journal-fixtures.js';
import { arg, quantile, startBenchApp } from './bench-common.js';

const REQUESTS = arg('requests', 50);
const STUDENTS = arg('students', 30);
const WARMUP = 5;
const NOW = new Date('2026-10-26T12:00:00Z');
const TEACHER_TG = 4_242;

async function main(): Promise<void> {
  const { app, kind, stop } = await startBenchApp('bench_webapp', {
    now: () => NOW,
    monitor: true,
    app: { web: { host: '127.0.0.1', port: 0 } },
  });
  const { db } = app;
  let commands = 0;
  const client = db.conn.getClient();
  client.on('commandStarted', () => {
    commands++;
  });
  // BENCH_TRACE=1: each command of the last request (name, collection, the driver's duration).
  const trace: string[] = [];
  const names = new Map<number, string>();
  if (process.env.BENCH_TRACE === '1') {
    client.on('commandStarted', (e) => {
      const target = (e.command as Record<string, unknown>)[e.commandName];
      names.set(e.requestId, `${e.commandName} ${typeof target === 'string' ? target : ''}`);
    });
    client.on('commandSucceeded', (e) => {
      trace.push(`${names.get(e.requestId) ?? e.commandName} ${e.duration.toFixed(1)} ms`);
      names.delete(e.requestId);
    });
  }

  try {
    const f = await buildJournalSchool(db, { students7: STUDENTS, students8: 5 });
    await addSchoolYear(db, f);
    await bindTelegram(db, f.teacherId, TEACHER_TG);
    const authorization = `tma ${signInitData(TEST_TOKEN, { id: TEACHER_TG, first_name: 'Bench', language_code: 'ru' })}`;
    const url = `${app.web?.url}/app/api/grid?classId=${f.class7.id}&subjectId=${f.mathId}&period=q1`;
    const get = async () => {
      trace.length = 0;
      const c0 = commands;
      const t0 = performance.now();
      const res = await fetch(url, { headers: { authorization } });
      const body = (await res.json()) as GridResponse;
      if (res.status !== 200) throw new Error(`grid answered ${res.status}: ${JSON.stringify(body)}`);
      return { ms: performance.now() - t0, commands: commands - c0, body };
    };

    const cold = await get();
    // The quarter's marks and absences, straight into the collections (the fixture, not the measure).
    const lessons = cold.body.lessons;
    const kinds = [
      { code: 'classwork', weight: 1 },
      { code: 'oral', weight: 1 },
      { code: 'test', weight: 1.5 },
      { code: 'control', weight: 2 },
    ];
    const marks = [];
    const absences = [];
    for (const [li, lesson] of lessons.entries()) {
      for (const [si, studentId] of f.class7.studentIds.entries()) {
        if ((li + si) % 11 === 0) {
          absences.push({ schoolId: f.schoolId, lessonId: lesson.id, studentId, classId: f.class7.id, date: lesson.date, code: 'Н' });
        } else if ((li + si) % 2 === 0) {
          const kind = kinds[(li * 7 + si) % kinds.length] as (typeof kinds)[number];
          marks.push({
            schoolId: f.schoolId,
            lessonId: lesson.id,
            studentId,
            subjectId: f.mathId,
            classId: f.class7.id,
            date: lesson.date,
            value: 2 + ((li * 3 + si) % 4),
            workKind: kind.code,
            weight: kind.weight,
            teacherId: f.teacherId,
            clientKey: `bench-${li}-${si}`,
          });
        }
      }
    }
    await db.models.Mark.insertMany(marks);
    await db.models.Absence.insertMany(absences);

    const samples: Array<{ ms: number; commands: number }> = [];
    let shape = { students: 0, lessons: 0, marks: 0 };
    for (let i = 0; i < WARMUP + REQUESTS; i++) {
      const r = await get();
      if (i >= WARMUP) samples.push({ ms: r.ms, commands: r.commands });
      shape = {
        students: r.body.students.length,
        lessons: r.body.lessons.length,
        marks: Object.values(r.body.cells).reduce((n, row) => n + Object.values(row).reduce((m, c) => m + c.marks.length, 0), 0),
      };
    }
    if (trace.length) console.log(`commands of the last request:\n  ${trace.join('\n  ')}`);
    const ms = samples.map((s) => s.ms).sort((a, b) => a - b);
    const round = (n: number) => Math.round(n * 10) / 10;
    const result = {
      database: kind,
      ...shape,
      requests: samples.length,
      p50: round(quantile(ms, 0.5)),
      p99: round(quantile(ms, 0.99)),
      coldMs: round(cold.ms),
      coldCommands: cold.commands,
      commandsPerRequest: round(samples.reduce((n, s) => n + s.commands, 0) / samples.length),
    };
    console.log(
      `Grid of ${shape.students} students × ${shape.lessons} lessons (${shape.marks} marks), ${samples.length} requests over HTTP: ` +
        `p50 ${result.p50} ms, p99 ${result.p99} ms, ${result.commandsPerRequest} database commands each; ` +
        `first request (makes the quarter's lessons) ${result.coldMs} ms, ${result.coldCommands} commands. Database: ${kind}.`,
    );
    console.log(JSON.stringify(result));
  } finally {
    await stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
