/**
 * Benchmark of a whole-school announcement through the real bot pipeline: the deputy presses
 * /announce → "Всей школе" → text → "Отправить" in the demo school (~550 students, ~900 parents,
 * every parent in the bot), Telegram faked at the HTTP level with its real limits enforced
 * (30 messages a second per bot, 1 a second per chat; past them the fake answers 429).
 *
 * Prints: how long the Send press took (the receipts and the outbox copies are written before the
 * answer), how long until every family had its copy, the sustained rate, 429s received, copies
 * lost or duplicated per chat, and the status screen's counts afterwards.
 *
 *   npx tsx scripts/bench-announce.ts [--students 550]
 *
 * Uses MONGODB_URI when set; otherwise the local stand-in (no network). The last line is JSON.
 */
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { startLocalMongo } from '../src/db/local-server.js';
import { loadActor } from '../src/domain/school/actor.js';
import { announcementStatus } from '../src/domain/messaging/announcement-receipts.js';
import { seedDemoSchool } from '../src/domain/demo/seed.js';
import { CONSENT_VERSION } from '../src/domain/school/people.js';
import { createLogger } from '../src/logger.js';
import { TEST_BOT_INFO, TEST_TOKEN } from '../test/support/bot-info.js';
import { FakeBotApi } from '../test/support/fake-bot-api.js';
import { createTelegramWorld } from '../test/support/users.js';
import { arg } from './bench-common.js';

const STUDENTS = arg('students', 550);
const NOW = new Date('2026-11-23T09:00:00Z'); // Monday 12:00 in Moscow: not quiet hours
const TEXT = 'Уважаемые родители! В пятницу, 27 ноября, занятия заканчиваются в 12:00.';

async function main(): Promise<void> {
  const quiet = pino({ level: 'warn' });
  let uri = process.env.MONGODB_URI;
  let stopMongo: (() => Promise<void>) | undefined;
  let kind = 'external';
  if (!uri) {
    const local = await startLocalMongo({ persistent: false, offline: true, dbName: 'bench_announce', logger: quiet });
    uri = local.uri;
    kind = local.kind;
    stopMongo = () => local.stop();
  }
  const dbName = `bench_announce_${Date.now().toString(36)}`;
  const target = uri.replace(/\/[^/?]*(\?|$)/, `/${dbName}$1`);
  const config = loadConfig({ BOT_TOKEN: TEST_TOKEN, LOG_LEVEL: 'silent', NODE_ENV: 'test' });
  const fake = new FakeBotApi({ botInfo: TEST_BOT_INFO });
  const app = await createApp(config, {
    mongoUri: target,
    logger: createLogger('silent'),
    client: { fetch: fake.fetch, apiRoot: 'http://fake-bot-api.local' },
    botInfo: TEST_BOT_INFO,
    now: () => NOW,
    runtime: false,
    jobs: false,
    delivery: true,
  });
  await app.start();
  const { db } = app;
  const world = createTelegramWorld(fake, (update) => app.bot.handleUpdate(update));

  const seeded = await seedDemoSchool(db, { students: STUDENTS, now: NOW });
  const schoolId = seeded.schoolId;
  // Every parent joins (bound, notice accepted); the deputy too.
  const boundAt = new Date(NOW.getTime() - 86_400_000);
  const parents = await db.models.Person.find({ schoolId, roles: 'parent' }, { _id: 1 }).lean();
  const chats: number[] = [];
  let nextChat = 10_000_000;
  const ops = parents.map((p) => {
    const telegramId = nextChat++;
    chats.push(telegramId);
    return {
      updateOne: {
        filter: { _id: p._id },
        update: { $set: { telegramId, boundAt, consent: { acceptedAt: boundAt, version: CONSENT_VERSION } } },
      },
    };
  });
  await db.models.Person.bulkWrite(ops, { ordered: false });
  await db.models.Account.insertMany(chats.map((telegramId) => ({ telegramId, chatStatus: 'active' })));
  const deputyPerson = await db.models.Person.findOne({ schoolId, roles: { $in: ['deputy', 'admin'] } }, { _id: 1, roles: 1 }).lean();
  if (!deputyPerson) throw new Error('the demo school has no deputy or admin');
  const deputy = world.user({ firstName: 'Завуч', languageCode: 'ru' });
  await db.models.Person.updateOne({ _id: deputyPerson._id }, { $set: { telegramId: deputy.id, boundAt } });

  await deputy.send('/announce');
  await deputy.press('Всей школе');
  await deputy.send(TEXT);
  // Telegram's limits from the Send press on; a person reads the preview for a moment first. (The
  // fake counts 1 message a second per chat strictly, edits included, so the script's instant
  // taps before it would get the deputy's own screens 429s that Telegram tolerates in a private chat.)
  await new Promise((r) => setTimeout(r, 1100));
  fake.enforceRateLimits({ perSecond: 30, perChatPerSecond: 1 });
  const before = fake.callsOf('sendMessage').length;
  const t0 = performance.now();
  await deputy.press('Отправить');
  const pressMs = performance.now() - t0;

  // Until every parent's chat has the copy (or 10 minutes pass).
  const expected = new Set(chats);
  const got = new Map<number, number>();
  const deadline = Date.now() + 10 * 60_000;
  let lastReport = 0;
  for (;;) {
    got.clear();
    for (const call of fake.callsOf('sendMessage').slice(before)) {
      if (!call.response?.ok || !String(call.params.text ?? '').includes('занятия заканчиваются')) continue;
      const chat = Number(call.params.chat_id);
      got.set(chat, (got.get(chat) ?? 0) + 1);
    }
    if ([...expected].every((c) => got.has(c)) || Date.now() > deadline) break;
    if (Date.now() - lastReport > 5000) {
      lastReport = Date.now();
      console.log(`   ${got.size}/${expected.size} delivered, ${(got.size / ((performance.now() - t0) / 1000)).toFixed(1)}/s`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const allMs = performance.now() - t0;
  let lost = 0;
  let duplicated = 0;
  for (const c of expected) {
    const n = got.get(c) ?? 0;
    if (n === 0) lost++;
    if (n > 1) duplicated += n - 1;
  }
  const announcement = await db.models.Announcement.findOne({ schoolId, text: TEXT }, { _id: 1 }).lean();
  const status = announcement
    ? await announcementStatus(db, (await loadActor(db, deputyPerson._id)) as NonNullable<Awaited<ReturnType<typeof loadActor>>>, String(announcement._id))
    : undefined;
  const result = {
    mongo: kind,
    students: STUDENTS,
    families: expected.size,
    sendPressMs: Math.round(pressMs),
    deliveredAllSeconds: Math.round(allMs / 100) / 10,
    messagesPerSecond: Math.round((got.size / (allMs / 1000)) * 10) / 10,
    tooManyRequests: fake.stats.tooManyRequests,
    tooManyRequestsBy: fake.calls
      .filter((c) => c.response && !c.response.ok && c.response.error_code === 429)
      .map((c) => `${c.method}${Number(c.params.chat_id) === deputy.id ? ' (deputy)' : ''}`),
    lost,
    duplicated,
    status: status && { total: status.total, delivered: status.delivered, notDelivered: status.notDelivered, pending: status.pending },
  };
  console.log(`Whole-school announcement — MongoDB: ${kind}; ${expected.size} families in the bot`);
  console.log(`  Send press answered in ${result.sendPressMs} ms (receipts and outbox copies written)`);
  console.log(`  all delivered in ${result.deliveredAllSeconds} s: ${result.messagesPerSecond} msg/s; 429 received: ${result.tooManyRequests}; lost ${lost}, duplicated ${duplicated}`);
  if (result.status) console.log(`  status screen: ${JSON.stringify(result.status)}`);
  console.log(JSON.stringify(result));

  await db.conn.dropDatabase().catch(() => undefined);
  await app.stop();
  await stopMongo?.();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
