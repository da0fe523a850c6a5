import { Composer } from 'grammy';
import type { BotContext } from '../context.js';

export function startFeature() {
  const composer = new Composer<BotContext>();
  composer.command('start', async (ctx) => {
    const name = ctx.from?.first_name ?? '';
    await ctx.reply(ctx.t('start.unknown', { name }), { parse_mode: 'HTML' });
  });
  return composer;
}
