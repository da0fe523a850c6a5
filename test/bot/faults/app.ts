/**
 * The real app on a database the test controls (./database.ts), with Telegram faked at the HTTP
 * level, for the outage tests and bench:outage. Like test/support/harness.ts's createTestApp, but
 * the database is not the run's shared server, and updates that fail are collected instead of
 * failing the user's `send`/`press` (an outage makes `bot.handleUpdate` reject on purpose:
 * UpdateNotHandledError, so the webhook answers 5xx).
 */
import { type App, type AppOptions, createApp } from '../../../src/app.js';
import { loadConfig } from '../../../src/config.js';
import { createLogger, type Logger } from '../../../src/logger.js';
import { TEST_BOT_INFO, TEST_TOKEN } from '../../support/bot-info.js';
import { FakeBotApi } from '../../support/fake-bot-api.js';
import { TestClock, type TestApp } from '../../support/harness.js';
import { createTelegramWorld } from '../../support/users.js';

export interface FaultApp extends TestApp {
  /** Errors `bot.handleUpdate` rejected with, by update_id. */
  failures: Map<number, unknown>;
}

export async function createFaultApp(opts: {
  mongoUri: string;
  env?: Record<string, string>;
  logger?: Logger;
  fake?: FakeBotApi;
  clock?: TestClock;
  jobs?: boolean;
  /** Run the delivery worker (and so the shared rate budget) in this process. */
  delivery?: boolean;
  runtime?: boolean;
  web?: AppOptions['web'];
}): Promise<FaultApp> {
  const config = loadConfig({ BOT_TOKEN: TEST_TOKEN, LOG_LEVEL: 'silent', NODE_ENV: 'test', ...opts.env });
  const fake = opts.fake ?? new FakeBotApi({ botInfo: TEST_BOT_INFO });
  const clock = opts.clock ?? new TestClock();
  const app: App = await createApp(config, {
    mongoUri: opts.mongoUri,
    logger: opts.logger ?? createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'),
    client: { fetch: fake.fetch, apiRoot: 'http://fake-bot-api.local' },
    botInfo: TEST_BOT_INFO,
    now: clock.now,
    runtime: opts.runtime ?? false,
    jobs: opts.jobs ?? false,
    delivery: opts.delivery,
    web: opts.web ?? false,
  });
  await app.start();
  const failures = new Map<number, unknown>();
  const world = createTelegramWorld(fake, (update) =>
    app.bot.handleUpdate(update).catch((err: unknown) => {
      failures.set(update.update_id, (err as { error?: unknown }).error ?? err);
    }),
  );
  return {
    app,
    fake,
    world,
    clock,
    config,
    failures,
    async close() {
      await app.db.conn.dropDatabase().catch(() => undefined);
      await app.stop();
    },
  };
}
