import type { Bot } from 'grammy';
import type { Update } from 'grammy/types';
import type { Context } from 'hono';
import type { Db } from '../db/index.js';
import type { Logger } from '../logger.js';
import type { BotContext } from '../bot/context.js';

/** Telegram's update body is small; anything bigger is not an update. */
const BODY_LIMIT = 1_000_000;

export interface WebhookHandler {
  /** The path of WEBHOOK_URL, where Telegram posts updates. */
  path: string;
  handle(c: Context): Promise<Response>;
  /** Resolves when every update taken so far has finished (used by a graceful stop). */
  idle(): Promise<void>;
}

/**
 * Webhook mode: Telegram posts updates here (mounted on the web server, src/web/server.ts).
 * The secret header is checked, each update_id is handled once (Telegram re-sends an update it
 * considers unanswered), and slow handlers do not hold the answer longer than `answerWithinMs`
 * (the update keeps running and counts as in flight).
 */
export function webhookHandler(
  bot: Bot<BotContext>,
  opts: { url: string; secret: string; db: Db; logger: Logger; answerWithinMs?: number },
): WebhookHandler {
  const { db, logger, secret } = opts;
  const answerWithinMs = opts.answerWithinMs ?? 5_000;
  const inFlight = new Set<Promise<void>>();

  const run = async (update: Update) => {
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

  return {
    path: new URL(opts.url).pathname || '/',
    async handle(c) {
      if (c.req.header('x-telegram-bot-api-secret-token') !== secret) return c.body(null, 401);
      let update: Update;
      try {
        const text = await c.req.text();
        if (text.length > BODY_LIMIT) throw new Error('body too large');
        update = JSON.parse(text) as Update;
        if (typeof update?.update_id !== 'number') throw new Error('no update_id');
      } catch {
        return c.body(null, 400);
      }
      const task = run(update).catch((err) => logger.error({ updateId: update.update_id, err }, 'Webhook update failed'));
      inFlight.add(task);
      void task.finally(() => inFlight.delete(task));
      await Promise.race([task, new Promise((r) => setTimeout(r, answerWithinMs).unref())]);
      return c.json({});
    },
    async idle() {
      await Promise.allSettled([...inFlight]);
    },
  };
}
