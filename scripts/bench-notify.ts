/**
 * Benchmark of notification delivery (src/notify) against the fake Telegram Bot API with
 * Telegram's limits switched on (429 past 30 messages a second overall or 1 a second per chat).
 * Nothing leaves this machine: the fake is called in-process through grammY's `fetch`.
 *
 *   npm run bench:notify                       # 10,000 notifications to 3,000 parents (~7–8 min)
 *   npm run bench:notify -- --count 2000       # smaller
 *   options: --count N --parents N --schools N --samples N
 *            --kill-count N (notifications of the crash run; 0: none) --kills N (default 5)
 *
 * Runs, on one throw-away database (MONGODB_URI if set, else a local server):
 *   A. throughput: N mark notifications published at once (the grace window off), then delivered;
 *      every notification is its own message here (joining off) so the count is N messages;
 *   B. latency: with the queue idle, a mark is saved and published; the time until the parent's
 *      chat has the message;
 *   C. crashes: while N notifications (default 3,000) are delivered, the worker is killed --kills
 *      times (as a dead process: no further writes), each time at another point — right after
 *      Telegram accepted a message and before the worker recorded it; between the `sending` write
 *      and the HTTP request; at a random moment — and a new worker takes over after the leadership
 *      lease. From the fake's log: lost (a chat got fewer than it should), repeats (extra copies
 *      carrying the possible-repeat line) and silent duplicates (extra copies without it; must be 0).
 * The last line printed is a JSON object with the figures.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Api } from 'grammy';
import { Types } from 'mongoose';
import pino from 'pino';
import { connectMongo } from '../src/db/connection.js';
import { createDb, type Db } from '../src/db/index.js';
import { startLocalMongo } from '../src/db/local-server.js';
import { CONSENT_VERSION } from '../src/domain/school/people.js';
import { createI18n } from '../src/i18n.js';
import { type DeliveryOptions, DeliveryWorker } from '../src/notify/delivery.js';
import { publishEvent } from '../src/domain/notices/events.js';
import { localDate } from '../src/domain/shared/calendar.js';
import { FakeBotApi } from '../test/support/fake-bot-api.js';
import { quantile } from './bench-common.js';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '10000' },
    parents: { type: 'string', default: '3000' },
    schools: { type: 'string', default: '10' },
    'kill-count': { type: 'string' },
    samples: { type: 'string', default: '60' },
    kills: { type: 'string', default: '5' },
  },
});
const COUNT = Math.max(2, Number(values.count));
const PARENTS = Math.max(2, Math.min(Number(values.parents), COUNT));
const SCHOOLS = Math.max(1, Number(values.schools));
const KILL_COUNT = values['kill-count'] !== undefined ? Number(values['kill-count']) : Math.min(3000, Math.ceil(COUNT / 3));
const KILLS = Math.max(0, Number(values.kills));
const SAMPLES = Math.max(5, Number(values.samples));
const TOKEN = '123456789:BENCH_TOKEN_abcdefghijklmnopqrstuvwxyz';

const log = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const logger = pino({ level: process.env.LOG_LEVEL ?? 'silent' });

interface Family {
  schoolId: Types.ObjectId;
  studentId: Types.ObjectId;
  chats: number[];
  lessonId: Types.ObjectId;
  subjectId: Types.ObjectId;
  classId: Types.ObjectId;
  teacherId: Types.ObjectId;
  date: string;
}

/** Schools with one class each; every student has two bound parents (PARENTS / 2 students). */
async function seed(db: Db, now: Date): Promise<Family[]> {
  const { School, SchoolClass, Subject, Person, Guardianship, Account, Lesson } = db.models;
  const families: Family[] = [];
  const students = Math.ceil(PARENTS / 2);
  let chat = 700_000_000;
  const boundAt = new Date(now.getTime() - 86_400_000);
  for (let si = 0; si < SCHOOLS; si++) {
    const school = await School.create({
      name: `Школа №${si + 1}`,
      timezone: 'Europe/Moscow',
      // No quiet hours and no grace window: the benchmark measures delivery, at any hour.
      settings: { markGraceMinutes: 0, quietHours: { from: '00:00', to: '00:00' } },
    });
    const teacher = await Person.create({ schoolId: school._id, externalId: 't', lastName: 'Учитель', firstName: 'Иван', roles: ['teacher'] });
    const cls = await SchoolClass.create({ schoolId: school._id, externalId: '5A', grade: 5, letter: 'А', name: '5А', classTeacherId: teacher._id });
    const subject = await Subject.create({ schoolId: school._id, externalId: 'math', name: 'Математика' });
    const date = localDate(now, 'Europe/Moscow');
    const lesson = await Lesson.create({ schoolId: school._id, date, slotId: new Types.ObjectId(), classId: cls._id, subjectId: subject._id, teacherId: teacher._id, lessonNo: 1 });
    const mine = Math.floor(students / SCHOOLS) + (si < students % SCHOOLS ? 1 : 0);
    const persons: Array<Record<string, unknown>> = [];
    const links: Array<Record<string, unknown>> = [];
    const accounts: Array<Record<string, unknown>> = [];
    for (let k = 0; k < mine; k++) {
      const student = { _id: new Types.ObjectId(), schoolId: school._id, externalId: `s${k}`, lastName: `Ученик${k}`, firstName: 'Пётр', roles: ['student'], student: { classId: cls._id, status: 'studying' } };
      persons.push(student);
      const chats: number[] = [];
      for (const p of [0, 1]) {
        const telegramId = chat++;
        const parent = {
          _id: new Types.ObjectId(),
          schoolId: school._id,
          externalId: `p${k}-${p}`,
          lastName: `Родитель${k}`,
          firstName: p === 0 ? 'Анна' : 'Олег',
          roles: ['parent'],
          telegramId,
          boundAt,
          consent: { acceptedAt: boundAt, version: CONSENT_VERSION },
        };
        persons.push(parent);
        links.push({ schoolId: school._id, parentId: parent._id, studentId: student._id });
        accounts.push({ telegramId, chatStatus: 'active' });
        chats.push(telegramId);
      }
      families.push({ schoolId: school._id, studentId: student._id as Types.ObjectId, chats, lessonId: lesson._id, subjectId: subject._id, classId: cls._id, teacherId: teacher._id, date });
    }
    await Person.insertMany(persons);
    await Guardianship.insertMany(links);
    await Account.insertMany(accounts);
  }
  return families;
}

let markSeq = 0;
async function saveMark(db: Db, f: Family, at: Date): Promise<void> {
  const mark = await db.models.Mark.create({
    schoolId: f.schoolId,
    lessonId: f.lessonId,
    studentId: f.studentId,
    subjectId: f.subjectId,
    classId: f.classId,
    date: f.date,
    value: ([2, 3, 4, 5] as const)[markSeq % 4],
    workKind: 'classwork',
    weight: 1,
    teacherId: f.teacherId,
    clientKey: `bench-${markSeq++}`,
  });
  await publishEvent(db, { kind: 'mark.created', schoolId: f.schoolId, studentId: f.studentId, markId: mark._id, lessonId: f.lessonId, at });
}

/** Publishes marks so that there are `notifications` notifications (2 per mark), a few at a time. */
async function publishMany(db: Db, families: Family[], notifications: number): Promise<Map<number, number>> {
  const expected = new Map<number, number>();
  const marks = Math.ceil(notifications / 2);
  let next = 0;
  const worker = async () => {
    while (next < marks) {
      const f = families[next++ % families.length] as Family;
      for (const c of f.chats) expected.set(c, (expected.get(c) ?? 0) + 1);
      await saveMark(db, f, new Date());
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return expected;
}

const REPEAT_MARK = '🔁';
type KillPoint = 'answer' | 'sending' | 'random';
const KILL_POINTS: KillPoint[] = ['answer', 'sending', 'random'];

/** Delivers KILL_COUNT notifications while killing the worker KILLS times; counts from the fake's log. */
async function killPhase(
  db: Db,
  fake: FakeBotApi,
  families: Family[],
  makeWorker: (id: string, observer: DeliveryOptions['observer']) => DeliveryWorker,
): Promise<Record<string, unknown>> {
  const callsC = fake.callsOf('sendMessage').length;
  const limitedC = fake.stats.tooManyRequests;
  const expected = await publishMany(db, families, KILL_COUNT);
  const total = [...expected.values()].reduce((a, b) => a + b, 0);
  let sent = 0;
  const kills: Array<{ at: KillPoint; after: number; left: Record<string, number> }> = [];
  const started = performance.now();
  for (let k = 0; k <= KILLS; k++) {
    let killed = false;
    const point = KILL_POINTS[k % KILL_POINTS.length] as KillPoint;
    const due = k < KILLS ? (total * (k + 1)) / (KILLS + 1) : Number.POSITIVE_INFINITY;
    const w: DeliveryWorker = makeWorker(`bench-C${k}`, (e) => {
      if (e.type === 'sent') sent++;
      if (point === 'sending' && e.type === 'sending' && !killed && sent >= due) {
        killed = true;
        w.kill();
      }
    });
    const off = fake.on((e) => {
      if (point === 'answer' && !killed && sent >= due && e.type === 'call' && e.call.method === 'sendMessage' && e.call.response?.ok) {
        killed = true;
        w.kill();
      }
    });
    w.start();
    if (k === KILLS) {
      await waitDrained(db, total * 200 + 60_000);
      off();
      await w.stop();
      break;
    }
    while (!killed && sent < due) await sleep(10);
    if (point === 'random') {
      await sleep(Math.random() * 300);
      killed = true;
      w.kill();
    }
    while (!killed) await sleep(5);
    off();
    await w.stop(); // a dead worker releases nothing
    const open = await db.models.OutboxMessage.aggregate<{ _id: string; n: number }>([
      { $match: { status: { $in: ['claimed', 'sending'] } } },
      { $group: { _id: '$status', n: { $sum: 1 } } },
    ]);
    kills.push({ at: point, after: sent, left: Object.fromEntries(open.map((o) => [o._id, o.n])) });
    log(`C. kill ${k + 1}/${KILLS} (${point}) after ${sent}/${total} messages; left behind: ${JSON.stringify(kills.at(-1)?.left)}`);
  }
  const t = tally(fake, callsC, expected);
  const out = {
    notifications: total,
    kills,
    lost: t.lost,
    repeats: t.repeats,
    silentDuplicates: t.silent,
    seconds: Math.round((performance.now() - started) / 100) / 10,
    tooManyRequests: fake.stats.tooManyRequests - limitedC,
  };
  log(`C. after ${KILLS} kills: lost ${t.lost}, marked repeats ${t.repeats}, silent duplicates ${t.silent} (${total} notifications)`);
  return out;
}

function tally(fake: FakeBotApi, since: number, expected: Map<number, number>) {
  const got = new Map<number, { n: number; marked: number }>();
  for (const call of fake.callsOf('sendMessage').slice(since)) {
    if (!call.response?.ok) continue;
    const chat = Number(call.params.chat_id);
    const g = got.get(chat) ?? { n: 0, marked: 0 };
    g.n++;
    if (String(call.params.text ?? '').includes(REPEAT_MARK)) g.marked++;
    got.set(chat, g);
  }
  let lost = 0;
  let duplicated = 0;
  let repeats = 0;
  let silent = 0;
  for (const [chat, n] of expected) {
    const g = got.get(chat) ?? { n: 0, marked: 0 };
    if (g.n < n) lost += n - g.n;
    if (g.n > n) duplicated += g.n - n;
    repeats += g.marked;
    // An extra copy is silent unless the chat got as many marked ones.
    silent += Math.max(0, g.n - n - g.marked);
  }
  for (const [chat, g] of got) if (!expected.has(chat)) duplicated += g.n;
  return { lost, duplicated, repeats, silent, received: [...got.values()].reduce((a, b) => a + b.n, 0) };
}

async function waitDrained(db: Db, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const open = await db.models.OutboxMessage.countDocuments({ status: { $in: ['pending', 'claimed', 'sending'] } });
    if (open === 0) return;
    if (Date.now() > until) throw new Error(`not drained: ${open} messages still open`);
    await sleep(500);
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  const external = process.env.MONGODB_URI?.trim();
  const local = external ? undefined : await startLocalMongo({ persistent: false, dbName: 'bench', logger });
  const base = external ?? (local?.uri as string);
  const uri = base.replace(/\/([^/?]*)(\?|$)/, `/bench_notify_${randomBytes(4).toString('hex')}$2`);
  const conn = await connectMongo(uri);
  const db = await createDb(conn);
  const i18n = await createI18n('ru');
  const fake = new FakeBotApi({ token: TOKEN });
  fake.enforceRateLimits({ perSecond: 30, perChatPerSecond: 1 });
  const api = () => new Api(TOKEN, { fetch: fake.fetch, apiRoot: 'http://fake-telegram.local' });
  const makeWorker = (id: string, observer?: DeliveryOptions['observer']) =>
    new DeliveryWorker({
      db,
      logger,
      i18n,
      defaultLocale: 'ru',
      bots: { default: api() },
      workerId: id,
      // Each notification its own message, so N notifications are N Telegram messages.
      maxBatchItems: 1,
      pollMs: 200,
      leaderLeaseMs: 3_000,
      observer,
    });
  let result: Record<string, unknown> = {};
  try {
    log(`MongoDB: ${external ? 'MONGODB_URI' : local?.kind}; fake Telegram with limits 30/s overall, 1/s per chat`);
    const families = await seed(db, new Date());
    log(`Seeded ${SCHOOLS} schools, ${families.length} students, ${families.length * 2} parents`);

    // ── A. throughput ──
    let t0 = performance.now();
    const expectedA = await publishMany(db, families, COUNT);
    const notificationsA = [...expectedA.values()].reduce((a, b) => a + b, 0);
    log(`A. published ${notificationsA} notifications in ${((performance.now() - t0) / 1000).toFixed(1)} s; delivering…`);
    const callsA = fake.callsOf('sendMessage').length;
    const limitedA = fake.stats.tooManyRequests;
    const sendTimes: number[] = [];
    const off = fake.on((e) => {
      if (e.type === 'call' && e.call.method === 'sendMessage' && e.call.response?.ok) sendTimes.push(performance.now());
    });
    const workerA = makeWorker('bench-A');
    t0 = performance.now();
    workerA.start();
    let lastReport = 0;
    while ((await db.models.OutboxMessage.countDocuments({ status: { $in: ['pending', 'claimed', 'sending'] } })) > 0) {
      await sleep(1000);
      if (performance.now() - lastReport > 15_000) {
        lastReport = performance.now();
        const n = sendTimes.length;
        log(`   ${n} sent, ${(n / ((performance.now() - t0) / 1000)).toFixed(1)}/s, 429s: ${fake.stats.tooManyRequests - limitedA}`);
      }
      if (performance.now() - t0 > COUNT * 200 + 120_000) throw new Error('throughput run timed out');
    }
    const tookA = (performance.now() - t0) / 1000;
    off();
    const first = sendTimes[0] ?? 0;
    const last = sendTimes[sendTimes.length - 1] ?? 0;
    const sustained = sendTimes.length > 1 ? (sendTimes.length - 1) / ((last - first) / 1000) : 0;
    const tallyA = tally(fake, callsA, expectedA);
    const tooManyA = fake.stats.tooManyRequests - limitedA;
    log(
      `A. ${tallyA.received} messages in ${tookA.toFixed(1)} s: sustained ${sustained.toFixed(2)} msg/s; 429 received: ${tooManyA}; lost ${tallyA.lost}, duplicated ${tallyA.duplicated}`,
    );

    // ── B. latency, queue idle ──
    await sleep(1_200);
    const latencies: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const f = families[(i * 7919) % families.length] as Family;
      const chat = f.chats[0] as number;
      const arrived = new Promise<number>((resolve) => {
        const stop = fake.on((e) => {
          if (e.type === 'message' && e.chatId === chat) {
            stop();
            resolve(performance.now());
          }
        });
      });
      const saved = performance.now();
      await saveMark(db, f, new Date());
      const at = await Promise.race([arrived, sleep(10_000).then(() => Number.NaN)]);
      latencies.push(at - saved);
      await sleep(150);
    }
    await waitDrained(db, 30_000);
    const sortedLat = latencies.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
    const latency = {
      p50: Math.round(quantile(sortedLat, 0.5)),
      p95: Math.round(quantile(sortedLat, 0.95)),
      max: Math.round(sortedLat[sortedLat.length - 1] ?? Number.NaN),
      samples: latencies.length,
      missing: latencies.length - sortedLat.length,
    };
    log(`B. saved mark → message, idle queue: p50 ${latency.p50} ms, p95 ${latency.p95} ms, max ${latency.max} ms (${latency.samples} samples)`);
    await workerA.stop();

    // ── C. crashes and restarts ──
    let crash: Record<string, unknown> | undefined;
    if (KILL_COUNT > 0 && KILLS > 0) {
      await sleep(1_200);
      crash = await killPhase(db, fake, families, (id, observer) => makeWorker(id, observer));
    }

    result = {
      notifications: notificationsA,
      parents: families.length * 2,
      schools: SCHOOLS,
      messagesPerSecond: Math.round(sustained * 100) / 100,
      tooManyRequests: tooManyA,
      latencyMs: latency,
      lost: tallyA.lost,
      duplicated: tallyA.duplicated,
      killRestart: crash ?? null,
      seconds: Math.round((performance.now() - started) / 1000),
    };
  } finally {
    await conn.dropDatabase().catch(() => undefined);
    await conn.close().catch(() => undefined);
    await local?.stop();
  }
  log(JSON.stringify(result));
}

main().catch((e) => {
  process.stderr.write(`bench-notify failed: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
