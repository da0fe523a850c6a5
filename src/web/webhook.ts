import type { Bot } from 'grammy';
import type { Update } from 'grammy/types';
import type { Context } from 'hono';
import type { Db } from '../db/index.js';
import type { Logger } from '../logger.js';
import type { BotContext } from '../bot/context.js';
import { UpdateNotHandledError } from '../bot/middleware/outage.js';

/** How long the de-duplication check may take before the update is handled anyway. */
const DEDUP_CHECK_MS = 500;

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
 * considers unanswered; the record is written after success), an update that could not be
 * handled (the database is down: UpdateNotHandledError) is answered 503 so Telegram re-sends it,
 * and slow handlers do not hold the answer longer than `answerWithinMs`
 * (the update keeps running and counts as in flight).
 */
export function webhookHandler(
  bot: Bot<BotContext>,
  opts: { url: string; secret: string; db: Db; logger: Logger; answerWithinMs?: number },
): WebhookHandler {
  const { db, logger, secret } = opts;
  const answerWithinMs = opts.answerWithinMs ?? 5_000;
  const inFlight = new Set<Promise<unknown>>();

  // Update ids being handled in this process: a re-send arriving meanwhile is not run twice.
  const running = new Set<number>();

  /**
   * Handled before? Asked with a short bound: when the database does not answer, the update goes
   * on to the bot, whose outage guard answers the person and fails it (not recorded, so 5xx).
   */
  const handledBefore = async (id: number): Promise<boolean> => {
    const asked = db.models.ProcessedUpdate.exists({ _id: id }).then(
      (found) => found !== null,
      () => false,
    );
    return Promise.race([asked, new Promise<boolean>((r) => setTimeout(() => r(false), DEDUP_CHECK_MS).unref())]);
  };

  /** Resolves when handled (or a duplicate); rejects when the update was not handled (issue 12). */
  const run = async (update: Update): Promise<void> => {
    const id = update.update_id;
    if (running.has(id) || (await handledBefore(id))) {
      logger.debug({ updateId: id }, 'Duplicate update skipped');
      return;
    }
    running.add(id);
    try {
      await bot.handleUpdate(update);
    } finally {
      running.delete(id);
    }
    // Recorded only after success: an update that failed is handled when Telegram sends it again.
    db.models.ProcessedUpdate.create({ _id: id, at: new Date() }).catch((e: unknown) => {
      if ((e as { code?: number }).code !== 11000) logger.warn({ updateId: id, err: (e as Error).message }, 'Could not record a handled update');
    });
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
      const task = run(update).then(
        () => 'handled' as const,
        (err: unknown) => {
          const cause = (err as { error?: unknown }).error ?? err;
          // An outage: the person has been told, the guard logged it; otherwise a bug.
          if (cause instanceof UpdateNotHandledError) logger.debug({ updateId: update.update_id }, 'Webhook update not handled: 503');
          else logger.error({ updateId: update.update_id, err }, 'Webhook update failed');
          return 'failed' as const;
        },
      );
      inFlight.add(task);
      void task.finally(() => inFlight.delete(task));
      const outcome = await Promise.race([task, new Promise((r) => setTimeout(r, answerWithinMs).unref())]);
      // Not acknowledged as handled: Telegram sends the update again later (issue 12).
      if (outcome === 'failed') return c.body(null, 503);
      return c.json({});
    },
    async idle() {
      await Promise.allSettled([...inFlight]);
    },
  };
}
