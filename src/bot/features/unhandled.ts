import { Composer } from 'grammy';
import type { BotContext } from '../context.js';

/** Last in the chain: nothing a user sends is met with silence. */
export function unhandledFeature() {
  const composer = new Composer<BotContext>();
  composer.on('callback_query', (ctx) => ctx.answerCallbackQuery({ text: ctx.t('common.stale') }));
  composer.on('message:text', (ctx) => ctx.reply(ctx.t('unknown.text')));
  composer.on('message', (ctx) => ctx.reply(ctx.t('unknown.media')));
  return composer;
}
