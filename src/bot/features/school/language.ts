import { Composer, InlineKeyboard } from 'grammy';
import { LOCALES } from '../../../config.js';
import { translator } from '../../../i18n.js';
import { languageCb } from '../../callbacks/school.js';
import type { BotContext } from '../../context.js';

export function languageFeature() {
  const composer = new Composer<BotContext>();
  composer.command('language', async (ctx) => {
    const kb = new InlineKeyboard();
    for (const l of LOCALES) kb.text(ctx.t(`language.names.${l}`), languageCb.pack({ l }));
    await ctx.reply(ctx.t('language.choose'), { reply_markup: kb });
  });
  composer.callbackQuery(languageCb.filter, async (ctx) => {
    const data = languageCb.unpack(ctx.callbackQuery.data);
    if (!data) return ctx.answerCallbackQuery({ text: ctx.t('common.stale') });
    await ctx.deps.db.models.Account.updateOne({ telegramId: ctx.from.id }, { $set: { locale: data.l } });
    ctx.locale = data.l;
    ctx.t = translator(ctx.deps.i18n, data.l);
    await ctx.answerCallbackQuery();
    await ctx.editMessageText(ctx.t('language.set'));
  });
  return composer;
}
