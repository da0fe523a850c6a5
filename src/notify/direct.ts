import { autoRetry } from '@grammyjs/auto-retry';
import { Api, type ApiClientOptions, GrammyError } from 'grammy';
import type { InlineKeyboardMarkup } from 'grammy/types';
import type { Types } from 'mongoose';
import type { Db } from '../db/index.js';
import type { Logger } from '../logger.js';
import { markChatBlocked } from './blocked.js';

/**
 * Direct messages to staff from jobs (the journal's reminders), outside the families' outbox:
 * one message to one person's chat, now. Built from the app's HTTP client options, so tests reach
 * the fake Bot API and a self-hosted API root is honoured. Nothing of the message reaches the log.
 */
export interface SendOptions {
  replyMarkup?: InlineKeyboardMarkup;
}

export type SendToPerson = (personId: Types.ObjectId | string, text: string, opts?: SendOptions) => Promise<boolean>;

export function createDirectSender(deps: {
  botToken: string;
  client?: ApiClientOptions;
  db: Db;
  logger: Logger;
  now: () => Date;
}): SendToPerson {
  const api = new Api(deps.botToken, deps.client);
  api.config.use(autoRetry({ maxRetryAttempts: 2, maxDelaySeconds: 30, rethrowHttpErrors: false }));
  return async (personId, text, opts = {}) => {
    const person = await deps.db.models.Person.findById(personId, { telegramId: 1, active: 1 }).lean();
    if (!person?.telegramId || person.active === false) return false;
    const account = await deps.db.models.Account.findOne({ telegramId: person.telegramId }, { chatStatus: 1 }).lean();
    if (account?.chatStatus === 'blocked') return false;
    try {
      await api.sendMessage(person.telegramId, text, {
        parse_mode: 'HTML',
        link_preview_options: { is_disabled: true },
        reply_markup: opts.replyMarkup,
      });
      return true;
    } catch (e) {
      if (e instanceof GrammyError && e.error_code === 403) {
        await markChatBlocked(deps.db, person.telegramId, deps.now());
        deps.logger.info({ personId: String(personId) }, 'Direct message: the chat is blocked');
        return false;
      }
      throw e;
    }
  };
}
