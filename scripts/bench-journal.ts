/**
 * Benchmark of the teacher's journal through the real bot pipeline (bot.handleUpdate → grammY →
 * features → domain → MongoDB), Telegram faked at the HTTP level (the fake Bot API's `fetch`):
 * the bot-side time to handle an attendance toggle, a Save, and a mark entry, p50 and p99, and how
 * much of it is spent in the database (MongoDB command monitoring: the driver's own durations).
 *
 *   npx tsx scripts/bench-journal.ts [--students 500] [--iterations 200] [--schools 1] [--no-families]
 *
 * --schools N seeds N demo schools of --students each into one database (a region's shape: the
 * presses go to the last one); one big school would only make classes longer than a keyboard holds.
 *
 * The first presses of each kind (JIT warm-up) are left out of the figures.
 *
 * Uses MONGODB_URI when set (a real MongoDB gives realistic index-backed timings); otherwise the
 * local stand-in, which ignores non-unique indexes (full scans): its figures are pessimistic.
 * The demo school (~500 students) is built with `seedDemoSchool`; the last line is JSON.
 *
 * Database round trips per operation (issue 12) are machine-independent: on a real replica set
 * each is a network round trip. The run fails (exit code 1) when an operation needs more than its
 * budget in ROUND_TRIP_BUDGET. Every family of the pressed school is bound to Telegram (as in a
 * school where the bot is in use; --no-families leaves the demo's families unbound): a tap is
 * counted up to its answer, and the families' notices it caused — fanned out after the answer
 * (src/notify/fan-out.ts) — are counted apart, as "fan-out after the answer".
 */
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { startLocalMongo } from '../src/db/local-server.js';
import { seedDemoSchool } from '../src/domain/demo/seed.js';
import { CONSENT_VERSION } from '../src/domain/school/people.js';
import { createLogger } from '../src/logger.js';
import { TEST_BOT_INFO, TEST_TOKEN } from '../test/support/bot-info.js';
import { FakeBotApi } from '../test/support/fake-bot-api.js';
import { createTelegramWorld, type TestUser } from '../test/support/users.js';
import { arg, quantile } from './bench-common.js';

const STUDENTS = arg('students', 500);
const ITERATIONS = arg('iterations', 200);
const SCHOOLS = arg('schools', 1);
/** The first presses of each kind warm up the JIT and the caches; they are not counted. */
const WARMUP = 10;
const NOW = new Date('2026-11-23T09:00:00Z');
/** Issue 12's targets (docs/scaling.md, "Round trips per tap"). */
const ROUND_TRIP_BUDGET = { toggle: 3, save: 6, mark: 5, today: 5 } as const;
const FAMILIES = !process.argv.includes('--no-families'); // Monday 12:00 in Moscow: the morning's lessons are over

interface Sample {
  ms: number;
  dbMs: number;
  dbCommands: number;
  /** Commands of the fan-out the tap caused, after its answer (not in `dbCommands`). */
  fanOutCommands: number;
  /** School cache refreshes among them (db/school-cache.ts: a TTL, amortized over many taps). */
  schoolReads: number;
}

function summary(samples: Sample[]) {
  const ms = samples.map((s) => s.ms).sort((a, b) => a - b);
  const db = samples.map((s) => s.dbMs).sort((a, b) => a - b);
  const round = (n: number) => Math.round(n * 100) / 100;
  const total = samples.reduce((s, x) => s + x.ms, 0);
  const dbTotal = samples.reduce((s, x) => s + x.dbMs, 0);
  return {
    n: samples.length,
    p50: round(quantile(ms, 0.5)),
    p99: round(quantile(ms, 0.99)),
    dbP50: round(quantile(db, 0.5)),
    dbP99: round(quantile(db, 0.99)),
    dbShare: round(total > 0 ? dbTotal / total : 0),
    dbCommandsPerOp: round(samples.reduce((s, x) => s + x.dbCommands, 0) / Math.max(1, samples.length)),
    /** Round trips a tap needs: its commands less the school cache's refreshes (checked against the budget). */
    roundTripsPerOp: round(samples.reduce((s, x) => s + x.dbCommands - x.schoolReads, 0) / Math.max(1, samples.length)),
    /** The most any one tap needed ("at most": the budget is checked against this). */
    roundTripsMax: Math.max(0, ...samples.map((x) => x.dbCommands - x.schoolReads)),
    fanOutCommandsPerOp: round(samples.reduce((s, x) => s + x.fanOutCommands, 0) / Math.max(1, samples.length)),
  };
}

async function main(): Promise<void> {
  const quiet = pino({ level: 'warn' });
  let uri = process.env.MONGODB_URI;
  let stopMongo: (() => Promise<void>) | undefined;
  let kind = 'external';
  if (!uri) {
    const local = await startLocalMongo({ persistent: false, offline: true, dbName: 'bench_journal', logger: quiet });
    uri = local.uri;
    kind = local.kind;
    stopMongo = () => local.stop();
  }
  const dbName = `bench_journal_${Date.now().toString(36)}`;
  const monitored = `${uri.replace(/\/[^/?]*(\?|$)/, `/${dbName}$1`)}${uri.includes('?') ? '&' : '?'}monitorCommands=true`;
  const config = loadConfig({ BOT_TOKEN: TEST_TOKEN, LOG_LEVEL: 'silent', NODE_ENV: 'test' });
  const fake = new FakeBotApi({ botInfo: TEST_BOT_INFO });
  let now = NOW.getTime();
  const app = await createApp(config, {
    mongoUri: monitored,
    logger: createLogger('silent'),
    client: { fetch: fake.fetch, apiRoot: 'http://fake-bot-api.local' },
    botInfo: TEST_BOT_INFO,
    now: () => new Date(now),
    runtime: false,
    jobs: false,
    fanOutSweepMs: 0,
  });
  await app.start();
  const { db } = app;

  // Database time: the wall time during which at least one command is in flight (commands a
  // handler runs in parallel count once), from the driver's command monitoring events.
  let dbMs = 0;
  let dbCommands = 0;
  /** Reads of the school document: the school cache's refresh (every 5 s per process, not per tap). */
  let schoolReads = 0;
  let inFlight = 0;
  let busySince = 0;
  const client = db.conn.getClient();
  // BENCH_TRACE=1: prints each command (name and collection, no values) of the sampled presses.
  const trace = process.env.BENCH_TRACE === '1';
  let traced: string[] = [];
  client.on('commandStarted', (e) => {
    if (inFlight++ === 0) busySince = performance.now();
    const target = (e.command as Record<string, unknown>)[e.commandName];
    if (e.commandName === 'find' && target === 'schools') schoolReads++;
    if (trace) traced.push(`${e.commandName} ${typeof target === 'string' ? target : ''}`);
  });
  const finished = () => {
    dbCommands++;
    if (--inFlight === 0) dbMs += performance.now() - busySince;
  };
  client.on('commandSucceeded', finished);
  client.on('commandFailed', finished);
  // BENCH_TRACE=1: the slowest kinds of command (name + collection), from the driver's durations.
  const byCommand = new Map<string, number[]>();
  const names = new Map<number, string>();
  if (trace) {
    client.on('commandStarted', (e) => {
      const target = (e.command as Record<string, unknown>)[e.commandName];
      names.set(e.requestId, `${e.commandName} ${typeof target === 'string' ? target : ''}`);
    });
    client.on('commandSucceeded', (e) => {
      const name = names.get(e.requestId) ?? e.commandName;
      names.delete(e.requestId);
      const list = byCommand.get(name) ?? [];
      list.push(e.duration);
      byCommand.set(name, list);
    });
  }

  let last: Sample = { ms: 0, dbMs: 0, dbCommands: 0, fanOutCommands: 0, schoolReads: 0 };
  let lastTrace: string[] = [];
  const world = createTelegramWorld(fake, async (update) => {
    const db0 = dbMs;
    const c0 = dbCommands;
    const s0 = schoolReads;
    const t0 = performance.now();
    traced = [];
    await app.bot.handleUpdate(update);
    last = { ms: performance.now() - t0, dbMs: dbMs - db0, dbCommands: dbCommands - c0, fanOutCommands: 0, schoolReads: schoolReads - s0 };
    if (trace) lastTrace = [...traced];
    // The families' notices of this tap (after its answer): counted apart, done before the next tap.
    const f0 = dbCommands;
    await app.fanOut.idle();
    last.fanOutCommands = dbCommands - f0;
    if (trace && last.fanOutCommands > 0) lastTrace = [...lastTrace, '— after the answer (fan-out):', ...traced.slice(lastTrace.length)];
  });

  const seedStarted = performance.now();
  let seeded = await seedDemoSchool(db, { students: STUDENTS, now: NOW });
  for (let i = 1; i < SCHOOLS; i++) seeded = await seedDemoSchool(db, { students: STUDENTS, now: NOW, name: `Демо-школа ${i + 1}` });
  const seedMs = performance.now() - seedStarted;
  byCommand.clear(); // the figures are of the presses, not of seeding
  const schoolId = seeded.schoolId;
  const studentCount = await db.models.Person.countDocuments({ schoolId, roles: 'student' });
  const allStudents = await db.models.Person.countDocuments({ roles: 'student' });

  // A whole-class lesson on Monday before noon, in the biggest class: its teacher takes part.
  const slots = await db.models.TimetableSlot.find({ schoolId, weekday: 1, groupId: null, lessonNo: { $lte: 3 } }).lean();
  const sizes = new Map<string, number>();
  for (const s of slots) {
    const key = String(s.classId);
    if (!sizes.has(key)) sizes.set(key, await db.models.Person.countDocuments({ schoolId, roles: 'student', 'student.classId': s.classId }));
  }
  const slot = [...slots].sort((a, b) => (sizes.get(String(b.classId)) ?? 0) - (sizes.get(String(a.classId)) ?? 0))[0];
  if (!slot) throw new Error('the demo timetable has no Monday morning lesson');
  const classSize = sizes.get(String(slot.classId)) ?? 0;
  // Every family of the school in Telegram (2 parents a student in the demo), consenting (R32).
  let boundParents = 0;
  if (FAMILIES) {
    const parents = await db.models.Person.find({ schoolId, roles: 'parent' }, { _id: 1 }).lean();
    const boundAt = new Date(NOW.getTime() - 30 * 86_400_000);
    await db.models.Person.bulkWrite(
      parents.map((p, i) => ({
        updateOne: {
          filter: { _id: p._id },
          update: { $set: { telegramId: 800_000_000 + i, boundAt, consent: { version: CONSENT_VERSION, acceptedAt: boundAt } } },
        },
      })),
    );
    boundParents = parents.length;
  }
  const teacher = world.user({ firstName: 'Bench', languageCode: 'ru' });
  await db.models.Person.updateOne({ _id: slot.teacherId }, { $set: { telegramId: teacher.id } });

  const cls = await db.models.SchoolClass.findById(slot.classId, { name: 1 }).lean();
  const subject = await db.models.Subject.findById(slot.subjectId, { name: 1 }).lean();
  // Subject names may hold regex characters ("Труд (технология)"): matched literally.
  const literal = (x: string) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const lessonLabel = new RegExp(`^${literal(`${slot.lessonNo} · ${cls?.name} ${subject?.name}`)}`);

  const openLesson = async (u: TestUser) => {
    await u.send('/today');
    await u.press(lessonLabel);
  };

  const toggles: Sample[] = [];
  const saves: Sample[] = [];
  const marks: Sample[] = [];
  const today: Sample[] = [];

  // Attendance: toggles on one sheet, and Save after each pair of toggles.
  await openLesson(teacher);
  today.push(last);
  await teacher.press('📋 Посещаемость');
  const studentButtons = () => teacher.buttons().filter((b) => b.startsWith('✅ ') || b.startsWith('❌ '));
  for (let i = 0; i < ITERATIONS; i++) {
    const buttons = studentButtons();
    const label = buttons[(i * 7) % buttons.length];
    if (!label) throw new Error('no roster buttons');
    await teacher.press(label);
    toggles.push(last);
    if (trace && i === WARMUP) console.log(`toggle commands:\n  ${lastTrace.join('\n  ')}`);
    if (i % 2 === 1) {
      await teacher.press('💾 Сохранить');
      saves.push(last);
      if (trace && i === WARMUP + 1) console.log(`save commands:\n  ${lastTrace.join('\n  ')}`);
      await teacher.press('✏️ Изменить');
    }
  }

  // Marks: quick entry — a student, then a value (the value press is what is measured).
  await openLesson(teacher);
  await teacher.press('✏️ Оценки');
  for (let i = 0; i < ITERATIONS; i++) {
    const students = teacher.buttons().filter((b) => / [А-ЯЁA-Z]\.( [\d,]+)?$/.test(b));
    const label = students[(i * 5) % students.length];
    if (!label) throw new Error('no students on the marks screen');
    await teacher.press(label);
    await teacher.press(String(2 + (i % 4)));
    marks.push(last);
    if (trace && i === WARMUP) console.log(`mark commands:\n  ${lastTrace.join('\n  ')}`);
    now += 1000;
  }
  for (let i = 0; i < 20; i++) {
    await teacher.send('/today');
    today.push(last);
    if (trace && i === 1) console.log(`/today commands:\n  ${lastTrace.join('\n  ')}`);
  }

  const savedMarks = await db.models.Mark.countDocuments({ schoolId });
  const result = {
    mongo: kind,
    students: studentCount,
    schools: SCHOOLS,
    studentsInDatabase: allStudents,
    classSize,
    boundParents,
    seedMs: Math.round(seedMs),
    iterations: ITERATIONS,
    toggle: summary(toggles.slice(WARMUP)),
    save: summary(saves.slice(WARMUP / 2)),
    mark: summary(marks.slice(WARMUP)),
    today: summary(today.slice(1)),
    marksSaved: savedMarks,
  };
  const line = (name: string, s: ReturnType<typeof summary>) =>
    `${name.padEnd(18)} n=${String(s.n).padStart(4)}  p50 ${s.p50.toFixed(1).padStart(7)} ms  p99 ${s.p99.toFixed(1).padStart(7)} ms  | db p50 ${s.dbP50.toFixed(1).padStart(6)} ms  p99 ${s.dbP99.toFixed(1).padStart(6)} ms  share ${(s.dbShare * 100).toFixed(0).padStart(3)}%  ${s.dbCommandsPerOp} cmds/op, then ${s.fanOutCommandsPerOp} in the fan-out`;
  console.log(`Journal benchmark — MongoDB: ${kind}; ${SCHOOLS} demo school(s), ${allStudents} students in the database, ${studentCount} in the one pressed (seeded in ${result.seedMs} ms); class of ${classSize}; ${boundParents} parents in Telegram`);
  console.log(line('attendance toggle', result.toggle));
  console.log(line('attendance save', result.save));
  console.log(line('mark entry', result.mark));
  console.log(line('/today', result.today));
  if (trace) {
    const rows = [...byCommand.entries()]
      .map(([name, list]) => {
        const sorted = [...list].sort((a, b) => a - b);
        return { name, n: sorted.length, p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), max: sorted[sorted.length - 1] ?? 0 };
      })
      .sort((a, b) => b.p99 - a.p99)
      .slice(0, 12);
    console.log('slowest commands (ms):');
    for (const r of rows) console.log(`  ${r.name.padEnd(32)} n=${String(r.n).padStart(5)}  p50 ${r.p50.toFixed(1).padStart(6)}  p99 ${r.p99.toFixed(1).padStart(6)}  max ${r.max.toFixed(1).padStart(6)}`);
  }
  const over = (Object.keys(ROUND_TRIP_BUDGET) as Array<keyof typeof ROUND_TRIP_BUDGET>).filter(
    (op) => result[op].roundTripsMax > ROUND_TRIP_BUDGET[op],
  );
  console.log(
    `round trips per tap, mean / most (commands less school-cache refreshes): ${(Object.keys(ROUND_TRIP_BUDGET) as Array<keyof typeof ROUND_TRIP_BUDGET>)
      .map((op) => `${op} ${result[op].roundTripsPerOp} / ${result[op].roundTripsMax} (budget ${ROUND_TRIP_BUDGET[op]})`)
      .join(', ')}`,
  );
  console.log(JSON.stringify(result));
  if (over.length) {
    console.error(`Over the round-trip budget: ${over.join(', ')}`);
    process.exitCode = 1;
  }

  await db.conn.dropDatabase().catch(() => undefined);
  await app.stop();
  await stopMongo?.();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
