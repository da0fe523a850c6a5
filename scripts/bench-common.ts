/** Small helpers shared by the benchmark scripts. */
import type { Types } from 'mongoose';
import pino from 'pino';
import { connectMongo } from '../src/db/connection.js';
import { createDb, type Db } from '../src/db/index.js';
import { type AppOptions, createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { startLocalMongo } from '../src/db/local-server.js';
import { createLogger } from '../src/logger.js';
import { isSchoolDay } from '../src/domain/school/academic-year.js';
import { addDays, isoWeekday } from '../src/domain/shared/calendar.js';
import { TEST_BOT_INFO, TEST_TOKEN } from '../test/support/bot-info.js';
import { FakeBotApi } from '../test/support/fake-bot-api.js';

/** `--name N` from the command line: a positive number, else `def`. */
export function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : Number.NaN;
  return Number.isFinite(v) && v > 0 ? v : def;
}

/** The q-quantile (0–1) of an ascending list, nearest rank. */
export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[idx] ?? Number.NaN;
}

/** The most of these times (ms) that fall within any one second: Telegram's 30-a-second window. */
export function maxInOneSecond(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while ((sorted[i] as number) - (sorted[j] as number) >= 1000) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

/**
 * A deterministic random integer in [0, n) per call (an LCG). Uses the high bits: an LCG modulo a
 * power of two repeats its low bits with a short period (`seed % 4` cycles through four values).
 */
export function seededInts(seed: number): (n: number) => number {
  let s = seed;
  return (n: number) => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return Math.floor(s / 65536) % n;
  };
}

/**
 * The real app for a benchmark, Telegram faked at the HTTP level: on MONGODB_URI when set (a real
 * MongoDB gives index-backed timings), else a throw-away local stand-in (pessimistic: it ignores
 * non-unique indexes), in a fresh database `<name>_<time>`. `monitor`: MongoDB command monitoring
 * on (count commands with `app.db.conn.getClient().on('commandStarted', …)`). `stop` drops the
 * database and stops everything.
 */
export async function startBenchApp(name: string, opts: { now: () => Date; monitor?: boolean; app?: AppOptions }) {
  let uri = process.env.MONGODB_URI;
  let stopMongo: (() => Promise<void>) | undefined;
  let kind = 'external';
  if (!uri) {
    const local = await startLocalMongo({ persistent: false, offline: true, dbName: name, logger: pino({ level: 'warn' }) });
    uri = local.uri;
    kind = local.kind;
    stopMongo = () => local.stop();
  }
  const target = uri.replace(/\/[^/?]*(\?|$)/, `/${name}_${Date.now().toString(36)}$1`);
  const fake = new FakeBotApi({ botInfo: TEST_BOT_INFO });
  const app = await createApp(loadConfig({ BOT_TOKEN: TEST_TOKEN, LOG_LEVEL: 'silent', NODE_ENV: 'test' }), {
    mongoUri: opts.monitor ? `${target}${target.includes('?') ? '&' : '?'}monitorCommands=true` : target,
    logger: createLogger('silent'),
    client: { fetch: fake.fetch, apiRoot: 'http://fake-bot-api.local' },
    botInfo: TEST_BOT_INFO,
    now: opts.now,
    runtime: false,
    jobs: false,
    ...opts.app,
  });
  await app.start();
  const stop = async () => {
    await app.db.conn.dropDatabase().catch(() => undefined);
    await app.stop();
    await stopMongo?.();
  };
  return { app, fake, kind, stop };
}

/**
 * A throw-away database for a benchmark: MONGODB_URI, else a local server (the stand-in where
 * mongod cannot be downloaded); dropped, closed and stopped after `run`. `kind` names the server.
 */
export async function withBenchDb<T>(name: string, run: (db: Db, kind: string) => Promise<T>): Promise<T> {
  let uri = process.env.MONGODB_URI;
  let stop: (() => Promise<void>) | undefined;
  let kind = 'external';
  if (!uri) {
    const local = await startLocalMongo({ persistent: false, offline: true, dbName: name, logger: pino({ level: 'warn' }) });
    uri = local.uri;
    kind = local.kind;
    stop = () => local.stop();
  }
  const conn = await connectMongo(uri.replace(/\/[^/?]*(\?|$)/, `/${name}_${Date.now().toString(36)}$1`));
  try {
    return await run(await createDb(conn), kind);
  } finally {
    await conn.dropDatabase().catch(() => undefined);
    await conn.close();
    await stop?.();
  }
}

/**
 * A span of journal in bulk for a seeded school (the report and year-end benchmarks): a lesson for
 * every timetable slot on every school day from `from` to `to` (a topic, attendance taken at
 * `takenAt(date)`, homework when asked), `marks` marks and one absence per lesson, and a period
 * mark per student × subject of the load (`period`). Random choices come from `seededInts`.
 */
export async function seedJournal(
  db: Db,
  schoolId: Types.ObjectId,
  opts: {
    from: string;
    to: string;
    marks: number;
    seed: number;
    takenAt: (date: string) => Date;
    homework?: boolean;
    absenceCodes?: ReadonlyArray<'Н' | 'Б' | 'У'>;
    period: { code: string; values: readonly string[] };
  },
): Promise<{ lessons: number; marks: number; absences: number; periodMarks: number }> {
  const { TimetableSlot, Person, Lesson, Mark, Absence, PeriodMark, AcademicYear, TeachingLoad } = db.models;
  const year = await AcademicYear.findOne({ schoolId }).lean();
  if (!year) throw new Error('the school has no academic year');
  const slots = await TimetableSlot.find({ schoolId }).lean();
  const students = await Person.find({ schoolId, roles: 'student' }, { student: 1 }).lean();
  const byClass = new Map<string, Types.ObjectId[]>();
  for (const st of students) byClass.set(String(st.student?.classId), [...(byClass.get(String(st.student?.classId)) ?? []), st._id]);
  const rand = seededInts(opts.seed);
  const codes = opts.absenceCodes ?? ['Н'];
  const counts = { lessons: 0, marks: 0, absences: 0, periodMarks: 0 };
  for (let date = opts.from; date <= opts.to && date <= year.endsOn; date = addDays(date, 1)) {
    if (!(await isSchoolDay(db, schoolId, date))) continue;
    const today = slots.filter((sl) => sl.weekday === isoWeekday(date));
    if (today.length === 0) continue;
    const lessons = await Lesson.insertMany(
      today.map((sl) => ({
        schoolId,
        date,
        slotId: sl._id,
        classId: sl.classId,
        groupId: sl.groupId,
        subjectId: sl.subjectId,
        teacherId: sl.teacherId,
        lessonNo: sl.lessonNo,
        topic: 'Тема урока',
        ...(opts.homework ? { homework: { text: '§ 1' } } : {}),
        attendanceTakenAt: opts.takenAt(date),
      })),
    );
    const marks = [];
    const absences = [];
    for (const l of lessons) {
      const roster = byClass.get(String(l.classId)) ?? [];
      if (roster.length === 0) continue;
      for (let i = 0; i < opts.marks; i++) {
        const studentId = roster[rand(roster.length)];
        marks.push({ schoolId, lessonId: l._id, studentId, subjectId: l.subjectId, classId: l.classId, date, value: 2 + rand(4), workKind: 'classwork', weight: 1, teacherId: l.teacherId });
      }
      absences.push({ schoolId, lessonId: l._id, studentId: roster[rand(roster.length)], classId: l.classId, date, code: codes[rand(codes.length)] });
    }
    await Mark.insertMany(marks, { ordered: false });
    await Absence.insertMany(absences, { ordered: false }).catch(() => undefined);
    counts.lessons += lessons.length;
    counts.marks += marks.length;
    counts.absences += absences.length;
  }
  const load = await TeachingLoad.find({ schoolId }, { classId: 1, subjectId: 1 }).lean();
  const { code, values } = opts.period;
  const periodMarks = load.flatMap((l) =>
    (byClass.get(String(l.classId)) ?? []).map((studentId) => ({ schoolId, yearId: year._id, periodCode: code, studentId, subjectId: l.subjectId, value: values[rand(values.length)] })),
  );
  for (let i = 0; i < periodMarks.length; i += 5000) await PeriodMark.insertMany(periodMarks.slice(i, i + 5000), { ordered: false }).catch(() => undefined);
  counts.periodMarks = await PeriodMark.countDocuments({ schoolId });
  return counts;
}

