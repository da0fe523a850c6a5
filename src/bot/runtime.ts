import { createServer, type IncomingMessage, type Server } from 'node:http';
import { run } from '@grammyjs/runner';
import type { Bot } from 'grammy';
import type { Update } from 'grammy/types';
import type { Config } from '../config.js';
import type { Db } from '../db/index.js';
import type { Logger } from '../logger.js';
import type { BotContext } from './context.js';

export interface Runtime {
  /** Stop taking updates and wait for the handlers in flight. Safe to call twice. */
  stop(): Promise<void>;
}

const ALLOWED_UPDATES = ['message', 'edited_message', 'callback_query', 'my_chat_member'] as const;

/** Long polling with @grammyjs/runner: concurrent across chats, sequential inside one (see createBot). */
export async function startPolling(bot: Bot<BotContext>, logger: Logger): Promise<Runtime> {
  await bot.api.deleteWebhook();
  const handle = run(bot, { runner: { fetch: { allowed_updates: [...ALLOWED_UPDATES] } } });
  logger.info({ username: bot.botInfo.username }, 'Polling for updates');
  let stopping: Promise<void> | undefined;
  return {
    stop() {
      stopping ??= (async () => {
        if (handle.isRunning()) await handle.stop();
      })();
      return stopping;
    },
  };
}

/**
 * Webhook mode: Telegram posts updates here. The secret header is checked, each update_id is
 * handled once (Telegram re-sends an update it considers unanswered), and slow handlers do not
 * hold the answer longer than `answerWithinMs` (the update keeps running and counts as in flight).
 */
export async function startWebhook(
  bot: Bot<BotContext>,
  config: Config,
  db: Db,
  logger: Logger,
  opts: { answerWithinMs?: number; listen?: { host: string; port: number } } = {},
): Promise<Runtime & { server: Server; url: string }> {
  const { url, secret } = config.webhook;
  if (!url || !secret) throw new Error('webhook mode needs WEBHOOK_URL and WEBHOOK_SECRET');
  const path = new URL(url).pathname || '/';
  const answerWithinMs = opts.answerWithinMs ?? 5_000;
  const inFlight = new Set<Promise<void>>();

  const handle = async (update: Update) => {
    try {
      await db.models.ProcessedUpdate.create({ _id: update.update_id, at: new Date() });
    } catch (e) {
      if ((e as { code?: number }).code === 11000) {
        logger.debug({ updateId: update.update_id }, 'Duplicate update skipped');
        return;
      }
      throw e;
    }
    await bot.handleUpdate(update);
  };

  const server = createServer(async (req, res) => {
    if (req.method !== 'POST' || req.url?.split('?')[0] !== path) {
      res.writeHead(404).end();
      return;
    }
    if (req.headers['x-telegram-bot-api-secret-token'] !== secret) {
      res.writeHead(401).end();
      return;
    }
    let update: Update;
    try {
      update = JSON.parse(await readBody(req)) as Update;
      if (typeof update.update_id !== 'number') throw new Error('no update_id');
    } catch {
      res.writeHead(400).end();
      return;
    }
    const task = handle(update).catch((err) => logger.error({ updateId: update.update_id, err }, 'Webhook update failed'));
    inFlight.add(task);
    void task.finally(() => inFlight.delete(task));
    await Promise.race([task, new Promise((r) => setTimeout(r, answerWithinMs).unref())]);
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });

  const listen = opts.listen ?? { host: config.webhook.host, port: config.webhook.port };
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => resolve());
  });
  await bot.api.setWebhook(url, { secret_token: secret, allowed_updates: [...ALLOWED_UPDATES] });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : listen.port;
  logger.info({ port, path }, 'Webhook server listening');

  let stopping: Promise<void> | undefined;
  return {
    server,
    url: `http://${listen.host === '0.0.0.0' ? '127.0.0.1' : listen.host}:${port}${path}`,
    stop() {
      stopping ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await closed;
        await Promise.allSettled([...inFlight]);
      })();
      return stopping;
    },
  };
}

async function readBody(req: IncomingMessage, limit = 1_000_000): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new Error('body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
