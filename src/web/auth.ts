import type { MiddlewareHandler } from 'hono';
import { findBoundPersons } from '../bot/middleware/actor.js';
import { loadActor } from '../domain/school/actor.js';
import { localeFromTelegram, translator } from '../i18n.js';
import type { WebDeps, WebEnv } from './context.js';
import { apiError } from './errors.js';
import { userFromAuthorization } from './init-data.js';

/**
 * Every /app/api request: `Authorization: tma <initData>` is checked (the signature with the bot
 * token and its age) → the Telegram user → the person the bot acts as for that account (the same
 * choice as the bot: Account.currentPersonId, else the first) → the same Actor the bot builds.
 * 401 without valid init data (thrown, answered by errors.ts); 403 for an account the school does
 * not know.
 */
export function authMiddleware(deps: WebDeps): MiddlewareHandler<WebEnv> {
  const { config, db, i18n } = deps;
  return async (c, next) => {
    const user = userFromAuthorization(c.req.header('authorization'), config.botToken, config.web.initDataMaxAgeSeconds);
    const [account, persons] = await Promise.all([
      db.models.Account.findOne({ telegramId: user.id }, { locale: 1, currentPersonId: 1 }).lean(),
      findBoundPersons(db, user.id),
    ]);
    const locale = localeFromTelegram(account?.locale ?? undefined) ?? localeFromTelegram(user.languageCode) ?? config.defaultLocale;
    const t = translator(i18n, locale);
    const current =
      persons.find((p) => account?.currentPersonId && String(p._id) === String(account.currentPersonId)) ?? persons[0];
    const actor = current ? await loadActor(db, current._id, user.id, current) : undefined;
    if (!current || !actor) return apiError(c, 403, 'forbidden', t('web.errors.unknownPerson'), 'web.errors.unknownPerson');
    c.set('session', { user, actor, personId: String(current._id), locale, t });
    await next();
  };
}
