/**
 * Three real bot processes on one token and one database (issue 12): do they stay within
 * Telegram's limits together, and are people answered while a flood of notices goes out?
 *
 *   npm run bench:processes                      # 3 processes, 1,500 notices, 60 people writing
 *   options: --processes N --notices N --people N --sigkill N (SIGKILL a process N times, restarted)
 *            --people-are-recipients (the people writing are among the notices' recipients: an
 *            answer from one process and a notice from the leader meet in one chat; 1 a second per chat)
 *
 * The fake Telegram Bot API runs here over HTTP on 127.0.0.1 with Telegram's limits on (30 sends a
 * second overall and 1 a second per chat; 429 with retry_after beyond). Each child is `src/main.ts`
 * in polling mode with its own API root (/p1, /p2, …) so each gets its own updates, as a webhook
 * behind a load balancer would; every send of every process reaches the one fake and counts
 * against the one budget. A whole-school announcement (N notices) is written to the outbox,
 * and while it is delivered people (not among its recipients) send /help to random processes.
 * With --sigkill, a random process is killed with SIGKILL at random moments and started again:
 * every notice must still arrive (extra copies must carry the possible-repeat line).
 * The last line printed is a JSON object with the figures.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { Update } from 'grammy/types';
import { Types } from 'mongoose';
import pino from 'pino';
import { connectMongo } from '../src/db/connection.js';
import { createDb } from '../src/db/index.js';
import { startLocalMongo } from '../src/db/local-server.js';
import { publishMessage } from '../src/domain/notices/events.js';
import { FakeBotApi } from '../test/support/fake-bot-api.js';
import { maxInOneSecond, quantile } from './bench-common.js';

const { values } = parseArgs({
  options: {
    processes: { type: 'string', default: '3' },
    notices: { type: 'string', default: '1500' },
    people: { type: 'string', default: '60' },
    sigkill: { type: 'string', default: '0' },
    'people-are-recipients': { type: 'boolean', default: false },
  },
});
const PROCESSES = Math.max(1, Number(values.processes));
const NOTICES = Math.max(1, Number(values.notices));
const PEOPLE = Math.max(0, Number(values.people));
const SIGKILLS = Math.max(0, Number(values.sigkill));
const AMONG = values['people-are-recipients'] === true;
const FLOOD_TEXT = 'Собрание в четверг';
const TOKEN = '123456789:BENCH_TOKEN_abcdefghijklmnopqrstuvwxyz';
const log = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const logger = pino({ level: 'silent' });

/** Per-process update queues: /pN/bot<token>/getUpdates answers from queue N; everything else goes to the fake. */
class Router {
  readonly queues: Update[][] = Array.from({ length: PROCESSES }, () => []);
  private readonly waiters: Array<(() => void) | undefined> = [];
  constructor(private readonly fake: FakeBotApi) {}

  push(n: number, update: Update): void {
    (this.queues[n] as Update[]).push(update);
    this.waiters[n]?.();
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const m = /^\/p(\d+)(\/.*)$/.exec(req.url ?? '');
    if (!m) return this.fake.handleHttp(req, res);
    const n = Number(m[1]);
    req.url = m[2];
    if (!/\/getUpdates$/i.test(m[2] as string)) return this.fake.handleHttp(req, res);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { offset?: number }) : {};
    const q = this.queues[n] as Update[];
    while (q.length > 0 && (q[0] as Update).update_id < (body.offset ?? 0)) q.shift();
    if (q.length === 0) {
      await Promise.race([sleep(1_000), new Promise<void>((r) => { this.waiters[n] = r; })]);
      this.waiters[n] = undefined;
    }
    const result = JSON.stringify({ ok: true, result: q.slice(0, 100) });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(result);
  }
}


async function main(): Promise<void> {
  const local = process.env.MONGODB_URI ? undefined : await startLocalMongo({ persistent: false, dbName: 'bench', logger });
  const base = process.env.MONGODB_URI?.trim() || (local?.uri as string);
  const uri = base.replace(/\/([^/?]*)(\?|$)/, `/bench_processes_${randomBytes(4).toString('hex')}$2`);
  const conn = await connectMongo(uri);
  const db = await createDb(conn);
  const fake = new FakeBotApi({ token: TOKEN });
  fake.enforceRateLimits({ perSecond: 30, perChatPerSecond: 1 });
  const router = new Router(fake);
  const server = createServer((req, res) => {
    router.handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const root = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const children: Array<ChildProcess | undefined> = [];
  const spawnChild = (n: number) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: {
        ...process.env,
        BOT_TOKEN: TOKEN,
        BOT_MODE: 'polling',
        TELEGRAM_API_ROOT: `${root}/p${n}`,
        MONGODB_URI: uri,
        WEB_PORT: '0',
        LOG_LEVEL: 'error',
        NODE_ENV: 'development',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    children[n] = child;
  };
  const result: Record<string, unknown> = {};
  try {
    const school = await db.models.School.create({
      name: 'Школа',
      timezone: 'Europe/Moscow',
      settings: { markGraceMinutes: 0, quietHours: { from: '00:00', to: '00:00' } },
    });
    for (let n = 0; n < PROCESSES; n++) spawnChild(n);
    // Started: every process asked Telegram who it is.
    while (fake.callsOf('getMe').length < PROCESSES) await sleep(200);
    await sleep(2_000);
    log(`${PROCESSES} bot processes (polling, one database, one token) against the fake Telegram at 30/s, 1/s per chat`);

    const calls0 = fake.calls.length;
    const limited0 = fake.stats.tooManyRequests;
    const recipients = Array.from({ length: NOTICES }, (_, i) => ({ personId: new Types.ObjectId(), telegramId: 600_000_000 + i }));
    const noticeChats = new Set(recipients.map((r) => r.telegramId));
    const t0 = performance.now();
    await publishMessage(db, { schoolId: school._id, key: 'flood', recipients, text: FLOOD_TEXT, priority: 'urgent', at: new Date() });
    log(`Wrote ${NOTICES} notices; people write while they go out…`);

    // People (not among the recipients, unless --people-are-recipients) send /help to a random
    // process, one every ~flood/PEOPLE; the answer is the first message to them that is not the notice.
    const latencies: number[] = [];
    const asked = new Map<number, number>();
    const off = fake.on((e) => {
      if (e.type !== 'message' || (e.message.content ?? '').includes(FLOOD_TEXT)) return;
      const at = asked.get(e.chatId);
      if (at !== undefined) {
        latencies.push(performance.now() - at);
        asked.delete(e.chatId);
      }
    });
    const expectedSeconds = NOTICES / 29;
    const people = (async () => {
      for (let i = 0; i < PEOPLE; i++) {
        await sleep((expectedSeconds * 1000 * 0.8) / Math.max(1, PEOPLE));
        const id = AMONG ? 600_000_000 + ((i * 7919) % NOTICES) : 500_000_000 + i;
        const update = {
          update_id: fake.nextUpdateId(),
          message: {
            message_id: 1,
            date: Math.floor(Date.now() / 1000),
            chat: { id, type: 'private', first_name: 'Гость' },
            from: { id, is_bot: false, first_name: 'Гость', language_code: 'ru' },
            text: '/help',
            entities: [{ type: 'bot_command', offset: 0, length: 5 }],
          },
        } as unknown as Update;
        asked.set(id, performance.now());
        router.push(i % PROCESSES, update);
      }
    })();
    const killing = (async () => {
      for (let k = 0; k < SIGKILLS; k++) {
        await sleep(((expectedSeconds * 1000) / (SIGKILLS + 1)) * (0.5 + Math.random()));
        const n = Math.floor(Math.random() * PROCESSES);
        children[n]?.kill('SIGKILL');
        log(`SIGKILL process ${n + 1}; starting it again`);
        await sleep(500);
        spawnChild(n);
      }
    })();
    for (;;) {
      const open = await db.models.OutboxMessage.countDocuments({ status: { $in: ['pending', 'claimed', 'sending'] } });
      if (open === 0) break;
      if (performance.now() - t0 > NOTICES * 300 + 120_000) throw new Error(`not drained: ${open} open`);
      await sleep(500);
    }
    await Promise.all([people, killing]);
    await sleep(2_000);
    off();

    const sends = fake.calls.slice(calls0).filter((c) => /^(send|copy|forward|editmessage)/i.test(c.method) && c.method !== 'sendChatAction');
    const ok = sends.filter((c) => c.response?.ok);
    const isNotice = (c: (typeof sends)[number]) => noticeChats.has(Number(c.params.chat_id)) && String(c.params.text ?? '').includes(FLOOD_TEXT);
    const notices = ok.filter(isNotice);
    const first = Math.min(...notices.map((c) => c.at));
    const last = Math.max(...notices.map((c) => c.at));
    const perChat = new Map<number, { n: number; marked: number }>();
    for (const c of notices) {
      const g = perChat.get(Number(c.params.chat_id)) ?? { n: 0, marked: 0 };
      g.n++;
      if (String(c.params.text ?? '').includes('🔁')) g.marked++;
      perChat.set(Number(c.params.chat_id), g);
    }
    const lost = [...noticeChats].filter((id) => !perChat.has(id)).length;
    const repeats = [...perChat.values()].reduce((a, g) => a + g.marked, 0);
    const silent = [...perChat.values()].reduce((a, g) => a + Math.max(0, g.n - 1 - g.marked), 0);
    const sorted = [...latencies].sort((a, b) => a - b);
    // Which sends Telegram refused, and why (an answer to a person, or a notice).
    const refused = sends
      .filter((c) => c.response && !c.response.ok && c.response.error_code === 429)
      .map((c) => `${c.method}→${isNotice(c) ? 'notice' : 'answer'} ${c.params.chat_id}`);
    if (refused.length > 0) log(`429s: ${[...new Set(refused)].slice(0, 5).join('; ')}`);
    const failed = sends.filter((c) => c.response && !c.response.ok && c.response.error_code !== 429).length;
    // (a 429 counted above; other refusals would be a bug)
    if (failed > 0) log(`other refusals: ${failed}`);
    Object.assign(result, {
      processes: PROCESSES,
      notices: NOTICES,
      peopleAreRecipients: AMONG,
      noticesPerSecond: Math.round(((notices.length - 1) / ((last - first) / 1000)) * 100) / 100,
      maxInOneSecond: maxInOneSecond(ok.map((c) => c.at)),
      tooManyRequests: fake.stats.tooManyRequests - limited0,
      replies: { asked: PEOPLE, answered: latencies.length, p50Ms: Math.round(quantile(sorted, 0.5)), p99Ms: Math.round(quantile(sorted, 0.99)) },
      sigkills: SIGKILLS,
      lost,
      repeats,
      silentDuplicates: silent,
    });
    log(
      `Notices ${notices.length} at ${result.noticesPerSecond}/s; max ${result.maxInOneSecond} sends in any second; 429: ${result.tooManyRequests}; ` +
        `replies p50 ${(result.replies as { p50Ms: number }).p50Ms} ms, p99 ${(result.replies as { p99Ms: number }).p99Ms} ms (${latencies.length}/${PEOPLE}); ` +
        `lost ${lost}, marked repeats ${repeats}, silent duplicates ${silent}`,
    );
  } finally {
    for (const c of children) c?.kill('SIGTERM');
    await sleep(1_500);
    for (const c of children) if (c && c.exitCode === null) c.kill('SIGKILL');
    server.close();
    server.closeAllConnections();
    await conn.dropDatabase().catch(() => undefined);
    await conn.close().catch(() => undefined);
    await local?.stop();
  }
  log(JSON.stringify(result));
}

main().catch((e) => {
  process.stderr.write(`bench-processes failed: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
