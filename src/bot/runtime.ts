import { run } from '@grammyjs/runner';
import type { Bot } from 'grammy';
import type { Config } from '../config.js';
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
 * Webhook mode: Telegram posts updates to the web server (src/web/server.ts, the route in
 * src/web/webhook.ts); this registers WEBHOOK_URL with its secret. Stopping is the web server's.
 */
export async function startWebhook(bot: Bot<BotContext>, config: Config, logger: Logger): Promise<Runtime> {
  const { url, secret } = config.webhook;
  if (!url || !secret) throw new Error('webhook mode needs WEBHOOK_URL and WEBHOOK_SECRET');
  await bot.api.setWebhook(url, { secret_token: secret, allowed_updates: [...ALLOWED_UPDATES] });
  logger.info({ path: new URL(url).pathname }, 'Webhook registered');
  return { stop: async () => undefined };
}
