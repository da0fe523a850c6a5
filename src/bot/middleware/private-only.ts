import { InlineKeyboard, type MiddlewareFn } from 'grammy';
import { localeFromTelegram, translator } from '../../i18n.js';
import type { BotContext, BotDeps } from '../context.js';

/**
 * Personal data (children, marks, diary, settings, names) is only ever shown in the person's own
 * private chat with the bot (R3, R32: 152-FZ). Updates from groups, supergroups and channels never
 * reach a feature: the first one in a chat gets a single notice (remembered in MongoDB, so a restart
 * does not repeat it) with a button that opens the private chat; every later one is ignored. A button
 * pressed under a message in a group gets the same notice as a callback answer and nothing else.
 * This runs before the account, actor and conversations middleware, so nothing is read or written
 * for a group member either. The operator should also turn off "Allow Groups" in BotFather (README).
 */
export function privateChatsOnly(deps: BotDeps): MiddlewareFn<BotContext> {
  return async (ctx, next) => {
    const chat = ctx.chat;
    // Updates without a chat (inline queries, polls) carry no chat to leak into; private chats go on.
    if (!chat || chat.type === 'private') return next();
    const locale = localeFromTelegram(ctx.from?.language_code) ?? deps.config.defaultLocale;
    const t = translator(deps.i18n, locale);
    if (ctx.callbackQuery) {
      await ctx.answerCallbackQuery({ text: t('common.privateOnly.callback'), show_alert: true }).catch(() => undefined);
      return;
    }
    // Only when the bot can speak there: a message, a post or being added (not being removed).
    const added = ctx.myChatMember?.new_chat_member.status;
    const canSpeak = ctx.msg !== undefined || added === 'member' || added === 'administrator';
    if (!canSpeak || !(await firstTimeIn(deps, chat.id))) return;
    const username = ctx.me?.username;
    const keyboard = username ? new InlineKeyboard().url(t('common.privateOnly.open'), `https://t.me/${username}`) : undefined;
    try {
      await ctx.api.sendMessage(chat.id, t('common.privateOnly.notice'), keyboard ? { reply_markup: keyboard } : {});
    } catch (err) {
      // A channel where the bot may not post, a group that removed it: nothing to tell, nothing to retry.
      deps.logger.info({ chatType: chat.type, err: (err as Error).message }, 'Could not post the private-chats notice');
    }
  };
}

/** True once per chat: the notice's record is created here (conversation_state holds small per-chat state). */
async function firstTimeIn(deps: BotDeps, chatId: number): Promise<boolean> {
  const result = await deps.db.models.ConversationState.updateOne(
    { _id: `private-only-notice:${chatId}` },
    { $setOnInsert: { value: { noticeAt: deps.now() }, updatedAt: deps.now() } },
    { upsert: true },
  );
  return result.upsertedCount === 1;
}
