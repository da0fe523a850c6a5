import type { MiddlewareFn } from 'grammy';
import { type ActorFacts, boundPersonsLookup } from '../../domain/school/actor.js';
import { localeFromTelegram, translator } from '../../i18n.js';
import { CONVERSATION_PREFIX, prefetchConversation } from '../conversation-storage.js';
import { type BoundPerson, findBoundPersons } from './actor.js';
import type { BotContext, BotDeps } from '../context.js';

/**
 * Sets `ctx.locale` and `ctx.t`: the language the user chose with /language, else the one
 * Telegram reports, else the deployment default. Also records that the account is alive
 * (a user who writes again after blocking us is reachable again).
 *
 * Issue 12 (round trips): what every handler needs is read here in ONE aggregation over the
 * account — its language and current person, the bound persons with the facts their actor is
 * derived from (domain/school/actor.ts), and the chat's conversation state (bot/conversation-
 * storage.ts). The school itself comes from the school cache. Nothing is cached across updates,
 * so a role, a class or a binding changed in any process counts from the next update on.
 */
const ACCOUNT_FIELDS = { telegramId: 1, locale: 1, telegramLocale: 1, chatStatus: 1, currentPersonId: 1 };

interface AccountContext {
  locale?: string | null;
  telegramLocale?: string | null;
  chatStatus?: string | null;
  currentPersonId?: unknown;
  persons: Array<BoundPerson & Partial<ActorFacts>>;
  conversation: Array<{ value?: unknown }>;
}

function readAccountContext(deps: BotDeps, telegramId: number, chatId: number | undefined) {
  const conversationKey = chatId === undefined ? '' : `${CONVERSATION_PREFIX}${chatId}`;
  return deps.db.models.Account.aggregate<AccountContext>([
    { $match: { telegramId } },
    { $limit: 1 },
    { $project: ACCOUNT_FIELDS },
    boundPersonsLookup(telegramId, 'persons'),
    {
      $lookup: {
        from: 'conversation_state',
        pipeline: [{ $match: { _id: conversationKey } }, { $project: { value: 1 } }],
        as: 'conversation',
      },
    },
  ]);
}

export function localeMiddleware(deps: BotDeps): MiddlewareFn<BotContext> {
  return async (ctx, next) => {
    ctx.deps = deps;
    const from = ctx.from;
    let chosen: string | undefined;
    let dropConversation: (() => void) | undefined;
    if (from && !from.is_bot) {
      const [found] = await readAccountContext(deps, from.id, ctx.chatId);
      // Notices are rendered by the delivery worker, which has no `from`: it reads Telegram's
      // language from the account (issue 11 item 4), so keep it current.
      const telegramLocale = localeFromTelegram(from.language_code);
      let account: { locale?: string | null; currentPersonId?: unknown } | null = found ?? null;
      if (found) {
        // Persons bound to a Telegram account and active (a deactivated one acts no more).
        ctx.boundPersons = Promise.resolve(
          found.persons.filter((p) => p.active !== false).map((p) => ({ ...p, facts: { led: p.led ?? [], children: p.children ?? [], load: p.load ?? [] } })),
        );
        if (ctx.chatId !== undefined) {
          dropConversation = prefetchConversation(deps.db.models, `${CONVERSATION_PREFIX}${ctx.chatId}`, found.conversation[0]?.value);
        }
      } else {
        // A first contact: no account yet (the persons are read the usual way).
        ctx.boundPersons = findBoundPersons(deps.db, from.id);
        ctx.boundPersons.catch(() => undefined);
      }
      // Read-mostly: a write only for a new account or one that had blocked us.
      if (!found || found.chatStatus === 'blocked' || (telegramLocale && found.telegramLocale !== telegramLocale)) {
        account = await deps.db.models.Account.findOneAndUpdate(
          { telegramId: from.id },
          {
            $set: { chatStatus: 'active', lastSeenAt: deps.now(), ...(telegramLocale ? { telegramLocale } : {}) },
            $setOnInsert: { telegramId: from.id },
          },
          { upsert: true, returnDocument: 'after', projection: ACCOUNT_FIELDS },
        ).lean();
      }
      chosen = account?.locale ?? undefined;
      ctx.currentPersonId = account?.currentPersonId ? String(account.currentPersonId) : undefined;
    }
    ctx.locale = localeFromTelegram(chosen) ?? localeFromTelegram(from?.language_code) ?? deps.config.defaultLocale;
    ctx.t = translator(deps.i18n, ctx.locale);
    try {
      await next();
    } finally {
      dropConversation?.();
    }
  };
}
