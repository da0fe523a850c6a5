import { Composer } from 'grammy';
import { consentPending } from '../../domain/school/people.js';
import type { BotContext } from '../context.js';

/** Last in the chain: nothing a user sends is met with silence. */
export function unhandledFeature() {
  const composer = new Composer<BotContext>();
  composer.on('callback_query', (ctx) => ctx.answerCallbackQuery({ text: ctx.t('common.stale') }));
  composer.on('message:text', async (ctx) => {
    // A family member who has not accepted the privacy notice yet: say what the bot waits for.
    if (ctx.actor && (await consentPending(ctx.deps.db, ctx.actor))) {
      return ctx.reply(ctx.t('privacy.typedHint'));
    }
    return ctx.reply(ctx.t('unknown.text'));
  });
  composer.on('message', (ctx) => ctx.reply(ctx.t('unknown.media')));
  return composer;
}
