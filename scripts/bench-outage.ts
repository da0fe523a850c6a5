/**
 * npm run bench:outage [-- --seconds 30]
 *
 * The database frozen (SIGSTOP) and stopped for `seconds` each, in polling and webhook mode
 * (issue 12), against the real app with the stand-in on its own port (test/bot/faults/database.ts)
 * and the fake Bot API. Before each outage a teacher gives a mark (acknowledged: its family notice
 * must arrive after recovery). During it: the teacher taps a mark, a Russian newcomer sends /start,
 * an English one /start, a parent /diary. Webhook mode re-posts an update answered 5xx every 5 s,
 * as Telegram does. Printed per person: time to the first answer and its text, what was stored;
 * then the family notices delivered after recovery and the job scheduler's log lines during the outage.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import type { Update } from 'grammy/types';
import { familyWorld, received } from '../test/notify/world.js';
import { createFaultApp, type FaultApp } from '../test/bot/faults/app.js';
import { ControlledDatabase } from '../test/bot/faults/database.js';
import type { TestUser } from '../test/support/users.js';
import { arg } from './bench-common.js';

const SECRET = 'bench-secret-0123456789abcdef';
type Mode = 'polling' | 'webhook';
type Fault = 'freeze' | 'stop';

interface LogLine {
  level: number;
  msg: string;
  component?: string;
  time: number;
}

async function scenario(db: ControlledDatabase, mode: Mode, fault: Fault, seconds: number): Promise<void> {
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l) as LogLine);
      done();
    },
  });
  const env: Record<string, string> = { BOT_MODE: mode, JOBS_PROCESS_EVERY_MS: '1000' };
  if (mode === 'webhook') Object.assign(env, { WEBHOOK_URL: 'https://bot.example.org/tg/hook', WEBHOOK_SECRET: SECRET });
  const t = await createFaultApp({
    mongoUri: db.uri(`bench_outage_${mode}_${fault}`),
    env,
    logger: pino({ level: 'info' }, sink),
    jobs: true,
    runtime: true,
    web: mode === 'webhook' ? { host: '127.0.0.1', port: 0 } : false,
  });
  try {
    const w = await familyWorld(t);
    // Acknowledged before the outage: the family's notice may still be queued when it starts.
    await openMarkValues(w.mathTeacher);
    await w.mathTeacher.press('4');
    await openMarkValues(w.mathTeacher);
    const marksBefore = await t.app.db.models.Mark.countDocuments({});
    const noticesBefore = received(w.motherA).length;
    const ru = t.world.user({ firstName: 'Новичок', languageCode: 'ru' });
    const en = t.world.user({ firstName: 'Newcomer', languageCode: 'en' });

    const send = makeSender(t, mode);
    const outageStart = Date.now();
    if (fault === 'freeze') db.freeze();
    else await db.down();
    const actions = [
      { who: 'teacher taps a mark', user: w.mathTeacher, update: tap(t, w.mathTeacher, '5') },
      { who: 'newcomer (ru) /start', user: ru, update: text(t, ru, '/start') },
      { who: 'newcomer (en) /start', user: en, update: text(t, en, '/start') },
      { who: 'parent /diary', user: w.motherA, update: text(t, w.motherA, '/diary') },
    ];
    const firstAnswers = actions.map((a) => firstAnswer(t, a.user, a.update));
    const deliveries = actions.map((a) => send(a.update));
    await new Promise((r) => setTimeout(r, seconds * 1000 - (Date.now() - outageStart)));
    if (fault === 'freeze') db.thaw();
    else await db.up();
    const outageEnd = Date.now();
    const answers = await Promise.all(firstAnswers);
    await Promise.all(deliveries);
    // Recovered: the queued notices go out.
    await waitUntil(async () => (await t.app.db.models.Mark.countDocuments({}).catch(() => -1)) >= 0, 60_000);
    await t.app.fanOut.idle();
    await t.app.delivery.runUntilIdle(30_000).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 2_000));

    console.log(`\n== ${mode}, database ${fault === 'freeze' ? 'frozen (SIGSTOP)' : 'stopped'} for ${seconds} s ==`);
    actions.forEach((a, i) => {
      const ans = answers[i];
      console.log(
        `  ${a.who.padEnd(22)} first answer after ${ans ? `${(ans.ms / 1000).toFixed(2)} s` : 'never'}: ${ans?.text.slice(0, 90) ?? ''}`,
      );
    });
    const marksAfter = await t.app.db.models.Mark.countDocuments({});
    console.log(`  stored: marks ${marksBefore} → ${marksAfter} (the tap during the outage ${marksAfter > marksBefore ? 'was saved after recovery (re-sent by Telegram)' : 'was not saved, as the teacher was told'})`);
    console.log(`  family notices delivered after recovery: ${received(w.motherA).length - noticesBefore} (mother of the marked student)`);
    const during = lines.filter((l) => l.time >= outageStart && l.time <= outageEnd + 15_000);
    const sched = during.filter((l) => l.component === 'scheduler' && l.level >= 30);
    console.log(`  job scheduler log lines (info and above) during the outage and after: ${sched.length}`);
    for (const l of sched) console.log(`    ${pino.levels.labels[l.level]}: ${l.msg}`);
    const others = during.filter((l) => l.component !== 'scheduler' && l.level >= 50);
    console.log(`  other error lines: ${others.length}${others.length ? ` (${[...new Set(others.map((l) => l.msg))].join('; ')})` : ''}`);
  } finally {
    db.thaw();
    await db.up();
    await t.close();
  }
}

async function openMarkValues(teacher: TestUser): Promise<void> {
  await teacher.send('/today');
  await teacher.press(/^2 · 5А/);
  await teacher.press('✏️ Оценки');
  await teacher.press(/Иванов/);
}

function text(t: FaultApp, user: TestUser, body: string): Update {
  return { update_id: t.fake.nextUpdateId(), message: t.fake.userSends(user.info, { text: body }) } as Update;
}

/** A callback query for the button `label` under the user's latest bot message that has it. */
function tap(t: FaultApp, user: TestUser, label: string): Update {
  const msg = [...t.fake.botMessages(user.chatId)].reverse().find((m) => m.buttons.some((row) => row.includes(label)));
  const button = msg?.replyMarkup?.inline_keyboard.flat().find((b) => b.text === label) as { callback_data?: string } | undefined;
  if (!msg || !button?.callback_data) throw new Error(`no button ${label}`);
  const id = `bench${Date.now()}`;
  t.fake.registerCallbackQuery(id, user.chatId, msg.messageId);
  const message = t.fake.message(user.chatId, msg.messageId)?.message;
  return { update_id: t.fake.nextUpdateId(), callback_query: { id, from: user.info, message, chat_instance: '-1', data: button.callback_data } } as Update;
}

/** Polling: queued for getUpdates. Webhook: posted, and re-posted every 5 s while answered 5xx. */
function makeSender(t: FaultApp, mode: Mode): (u: Update) => Promise<void> {
  if (mode === 'polling') {
    return async (u) => {
      t.fake.pushUpdate(u);
    };
  }
  const url = `${t.app.web?.url}/tg/hook`;
  return async (u) => {
    for (let attempt = 0; attempt < 40; attempt++) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET },
        body: JSON.stringify(u),
      }).catch(() => undefined);
      if (res?.ok) return;
      await new Promise((r) => setTimeout(r, 5_000));
    }
  };
}

/** The first bot message in the user's chat, or the callback answer, after `update` was made. */
async function firstAnswer(t: FaultApp, user: TestUser, update: Update): Promise<{ ms: number; text: string } | undefined> {
  const started = Date.now();
  const seen = t.fake.botMessages(user.chatId).length;
  const queryId = update.callback_query?.id;
  for (;;) {
    if (queryId && t.fake.isCallbackAnswered(queryId)) return { ms: Date.now() - started, text: t.fake.callbackAnswer(queryId)?.text ?? '' };
    const fresh = t.fake.botMessages(user.chatId).slice(seen)[0];
    if (!queryId && fresh) return { ms: Date.now() - started, text: fresh.content };
    if (Date.now() - started > 120_000) return undefined;
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check()) && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
}

async function main(): Promise<void> {
  const seconds = arg('seconds', 30);
  const db = await ControlledDatabase.start();
  try {
    for (const mode of ['polling', 'webhook'] as const) {
      for (const fault of ['freeze', 'stop'] as const) await scenario(db, mode, fault, seconds);
    }
  } finally {
    await db.destroy();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
