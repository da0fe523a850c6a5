import type { MiddlewareFn } from 'grammy';
import { localeFromTelegram, translator } from '../../i18n.js';
import { findBoundPersons } from './actor.js';
import type { BotContext, BotDeps } from '../context.js';

/**
 * Sets `ctx.locale` and `ctx.t`: the language the user chose with /language, else the one
 * Telegram reports, else the deployment default. Also records that the account is alive
 * (a user who writes again after blocking us is reachable again).
 */
export function localeMiddleware(deps: BotDeps): MiddlewareFn<BotContext> {
  return async (ctx, next) => {
    ctx.deps = deps;
    const from = ctx.from;
    let chosen: string | undefined;
    if (from && !from.is_bot) {
      // Read-mostly: a write only for a new account or one that had blocked us.
      const Account = deps.db.models.Account;
      ctx.boundPersons = findBoundPersons(deps.db, from.id);
      // Avoid an unhandled rejection if the account read fails first; the actor middleware awaits it.
      ctx.boundPersons.catch(() => undefined);
      const projection = { locale: 1, telegramLocale: 1, chatStatus: 1, currentPersonId: 1 };
      let account = await Account.findOne({ telegramId: from.id }, projection).lean();
      // Notices are rendered by the delivery worker, which has no `from`: it reads Telegram's
      // language from the account (issue 11 item 4), so keep it current.
      const telegramLocale = localeFromTelegram(from.language_code);
      if (!account || account.chatStatus === 'blocked' || (telegramLocale && account.telegramLocale !== telegramLocale)) {
        account = await Account.findOneAndUpdate(
          { telegramId: from.id },
          {
            $set: { chatStatus: 'active', lastSeenAt: deps.now(), ...(telegramLocale ? { telegramLocale } : {}) },
            $setOnInsert: { telegramId: from.id },
          },
          { upsert: true, returnDocument: 'after', projection },
        ).lean();
      }
      chosen = account?.locale ?? undefined;
      ctx.currentPersonId = account?.currentPersonId ? String(account.currentPersonId) : undefined;
    }
    ctx.locale = localeFromTelegram(chosen) ?? localeFromTelegram(from?.language_code) ?? deps.config.defaultLocale;
    ctx.t = translator(deps.i18n, ctx.locale);
    await next();
  };
}
