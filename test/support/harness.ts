import { type App, createApp } from '../../src/app.js';
import { type Config, loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { testMongoUri } from './db.js';
import { FakeBotApi } from './fake-bot-api.js';
import { createTelegramWorld } from './users.js';

export { TEST_BOT_INFO, TEST_TOKEN } from './bot-info.js';
import { TEST_BOT_INFO, TEST_TOKEN } from './bot-info.js';

/** A controllable clock: tests move time instead of waiting for it. */
export class TestClock {
  constructor(private current = new Date('2026-11-23T09:00:00Z')) {}
  now = () => new Date(this.current);
  set(at: Date | string) {
    this.current = new Date(at);
  }
  advance(ms: number) {
    this.current = new Date(this.current.getTime() + ms);
  }
}

export interface TestApp {
  app: App;
  fake: FakeBotApi;
  world: ReturnType<typeof createTelegramWorld>;
  clock: TestClock;
  config: Config;
  close(): Promise<void>;
}

/**
 * The real app (real bot pipeline, real MongoDB wire server) with Telegram faked at the HTTP level.
 * Each call gets a fresh database. Jobs are not started unless asked (tests run them explicitly).
 */
export async function createTestApp(
  opts: {
    env?: Record<string, string>;
    jobs?: boolean;
    clock?: TestClock;
    /** Take updates as in production (webhook mode: registers the webhook on the web server). */
    runtime?: boolean;
    /** Start the web server (webhook + Mini App) on a free loopback port: app.web.url. */
    web?: boolean;
    /** Sweep notice intents left behind every so often (default: never; tests call app.fanOut.sweep()). */
    fanOutSweepMs?: number;
  } = {},
): Promise<TestApp> {
  const config = loadConfig({ BOT_TOKEN: TEST_TOKEN, LOG_LEVEL: 'silent', NODE_ENV: 'test', ...opts.env });
  const fake = new FakeBotApi({ botInfo: TEST_BOT_INFO });
  const clock = opts.clock ?? new TestClock();
  const app = await createApp(config, {
    mongoUri: testMongoUri(),
    logger: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'),
    client: { fetch: fake.fetch, apiRoot: 'http://fake-bot-api.local' },
    botInfo: TEST_BOT_INFO,
    now: clock.now,
    runtime: opts.runtime ?? false,
    web: opts.web ? { host: '127.0.0.1', port: 0 } : false,
    jobs: opts.jobs ?? false,
    fanOutSweepMs: opts.fanOutSweepMs ?? 0,
  });
  await app.start();
  // An update is done when its answer is sent and its families' notices are in the outbox (the
  // fan-out runs after the answer: src/notify/fan-out.ts), so a test reads a settled state.
  const world = createTelegramWorld(fake, async (update) => {
    await app.bot.handleUpdate(update);
    await app.fanOut.idle();
  });
  return {
    app,
    fake,
    world,
    clock,
    config,
    async close() {
      await app.db.conn.dropDatabase().catch(() => undefined);
      await app.stop();
    },
  };
}
