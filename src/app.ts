import type { Agenda } from 'agenda';
import { Api, type Bot } from 'grammy';
import type { Connection } from 'mongoose';
import { setDefaultCommands } from './bot/commands.js';
import type { BotContext, BotDeps } from './bot/context.js';
import { InFlight } from './bot/in-flight.js';
import { setMiniAppMenuButton } from './bot/webapp.js';
import { type CreateBotOptions, createBot } from './bot/index.js';
import { type Runtime, startPolling, startWebhook } from './bot/runtime.js';
import { startWebServer, type WebServer } from './web/server.js';
import { webhookHandler } from './web/webhook.js';
import { type Config, LOCALES, type Locale } from './config.js';
import { connectMongo } from './db/connection.js';
import { createDb, type Db } from './db/index.js';
import { DatabaseInUseError, startLocalMongo } from './db/local-server.js';
import { findRunningLocalMongo, publishLocalMongo } from './db/local-share.js';
import { createI18n, type Translate, translator } from './i18n.js';
import { defineJobs } from './jobs/index.js';
import { createScheduler, startScheduler, stopScheduler } from './jobs/scheduler.js';
import { createLogger, type Logger } from './logger.js';
import { DeliveryWorker } from './notify/delivery.js';
import { NoticeFanOut } from './notify/fan-out.js';
import type { BotRateLimiter } from './notify/rate-limit.js';

export interface AppOptions extends CreateBotOptions {
  logger?: Logger;
  /** Overrides config.mongoUri (tests pass their throw-away database). */
  mongoUri?: string;
  now?: () => Date;
  /** false: do not take updates (tests drive `bot.handleUpdate` themselves). */
  runtime?: boolean;
  /** Start the Agenda worker in this process (default true). */
  jobs?: boolean;
  /** Run the notification delivery worker in this process (default: as `jobs`). */
  delivery?: boolean;
  /**
   * The web server (webhook + Mini App, src/web/server.ts): started with the runtime by default;
   * `false` never, an address to start it even without the runtime (tests pass port 0).
   */
  web?: boolean | { host: string; port: number };
  /** How often this process sweeps notice intents left behind (default 5 s; 0: never). */
  fanOutSweepMs?: number;
}

export interface App {
  config: Config;
  logger: Logger;
  db: Db;
  deps: BotDeps;
  bot: Bot<BotContext>;
  agenda: Agenda;
  /** Sends the outbox to Telegram (src/notify/delivery.ts); started with the app unless `delivery: false`. */
  delivery: DeliveryWorker;
  /** Turns the journal's notice intents into outbox messages (src/notify/fan-out.ts); always started. */
  fanOut: NoticeFanOut;
  mongo: { uri: string; kind: string };
  /** The web server once started (see AppOptions.web). */
  web?: WebServer;
  start(): Promise<void>;
  /** Graceful: stop updates, let handlers in flight finish, stop jobs, close the database. Safe twice. */
  stop(): Promise<void>;
}

export async function createApp(config: Config, opts: AppOptions = {}): Promise<App> {
  const logger = opts.logger ?? createLogger(config.logLevel);
  const cleanup: Array<() => Promise<void>> = [];

  let uri = opts.mongoUri ?? config.mongoUri;
  let kind = 'external';
  if (!uri) {
    // A bot already running on this DATA_DIR: say so, rather than "the file is locked" (issue 11).
    const running = await findRunningLocalMongo(config.dataDir);
    if (running) throw new DatabaseInUseError(config.dataDir, { holder: running });
    const local = await startLocalMongo({
      persistent: true,
      dataDir: config.dataDir,
      allowDownload: config.mongoAllowDownload,
      logger,
    });
    uri = local.uri;
    kind = local.kind;
    // The CLI finds this server through DATA_DIR/mongo.uri while the bot runs (src/db/local-share.ts).
    const unpublish = await publishLocalMongo(config.dataDir, local).catch(async (e) => {
      await local.stop();
      throw e;
    });
    cleanup.push(async () => {
      await unpublish();
      await local.stop();
    });
  }
  let conn: Connection;
  try {
    conn = await connectMongo(uri);
  } catch (e) {
    await runAll(cleanup);
    throw e;
  }
  cleanup.unshift(() => conn.close());
  const db = await createDb(conn);
  const i18n = await createI18n(config.defaultLocale);
  const deps: BotDeps = { config, logger, i18n, db, now: opts.now ?? (() => new Date()) };
  const inFlight = new InFlight();
  // Filled in once the delivery worker exists (it needs the bot's client options).
  let sharedLimiter: () => BotRateLimiter | undefined = () => undefined;
  const bot = createBot(config, deps, { client: opts.client, botInfo: opts.botInfo, inFlight, sharedLimiter: () => sharedLimiter() });
  const agenda = createScheduler({ mongoUri: uri, processEveryMs: config.jobsProcessEveryMs, logger });
  await defineJobs(agenda, deps, bot.api);
  // Its own Api without auto-retry: the worker handles 429 and 5xx itself (rate limits by design).
  const delivery = new DeliveryWorker({
    db,
    logger,
    i18n,
    defaultLocale: config.defaultLocale,
    bots: { default: new Api(config.botToken, { ...bot.api.options, timeoutSeconds: 30 }) },
    now: deps.now,
  });
  const fanOut = new NoticeFanOut({ db, logger, now: deps.now, sweepEveryMs: opts.fanOutSweepMs });
  // The bot's own answers share the token's 30-a-second budget with the outbox (while this
  // process runs the delivery worker).
  sharedLimiter = () => (delivery.isRunning ? delivery.rateLimiter('default') : undefined);

  let runtime: Runtime | undefined;
  let stopping: Promise<void> | undefined;
  const webWanted = opts.web !== false && (opts.runtime !== false || opts.web !== undefined);
  const startWeb = async () => {
    const { url, secret } = config.webhook;
    const webhook = config.mode === 'webhook' && url && secret ? webhookHandler(bot, { url, secret, db, logger }) : undefined;
    const listen = typeof opts.web === 'object' ? opts.web : undefined;
    try {
      app.web = await startWebServer(deps, { webhook, listen });
    } catch (err) {
      // Webhook mode needs it; in polling mode the bot runs on without the Mini App (a busy port).
      if (webhook) throw err;
      logger.error({ err, port: listen?.port ?? config.web.port }, 'The web server could not start: the Mini App is unavailable');
    }
  };
  const app: App = {
    config,
    logger,
    db,
    deps,
    bot,
    agenda,
    delivery,
    fanOut,
    mongo: { uri, kind },
    async start() {
      await bot.init();
      const translators = Object.fromEntries(LOCALES.map((l) => [l, translator(i18n, l)])) as Record<Locale, Translate>;
      await setDefaultCommands(bot.api, translators, config.defaultLocale);
      await setMiniAppMenuButton(bot.api, config, translators[config.defaultLocale]);
      fanOut.start();
      if (opts.jobs !== false) await startScheduler(agenda);
      if (opts.delivery ?? opts.jobs !== false) delivery.start();
      // The web server listens before the webhook is registered, so Telegram's first post finds it.
      if (webWanted) await startWeb();
      if (opts.runtime === false) return;
      runtime = config.mode === 'webhook' ? await startWebhook(bot, config, logger) : await startPolling(bot, logger);
    },
    stop() {
      stopping ??= (async () => {
        logger.info('Shutting down');
        await runtime?.stop();
        // Stops accepting; the requests and webhook updates in flight finish first.
        await app.web?.stop();
        // Handlers already running finish before jobs and the database go away.
        await inFlight.idle();
        // The events of the last answers reach the outbox (and, below, Telegram) before the end.
        await fanOut.stop();
        await delivery.stop();
        await stopScheduler(agenda);
        await runAll(cleanup);
        logger.info('Stopped');
      })();
      return stopping;
    },
  };
  return app;
}

async function runAll(steps: Array<() => Promise<void>>): Promise<void> {
  for (const step of steps) {
    try {
      await step();
    } catch {
      // keep closing the rest
    }
  }
}
