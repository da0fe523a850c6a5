import { Composer } from 'grammy';
import { commandList, commandsOf } from '../../commands.js';
import type { BotContext } from '../../context.js';

/** /help lists exactly the commands of the chat's menu: the person's roles decide (commandsFor). */
export function helpFeature() {
  const composer = new Composer<BotContext>();
  composer.command('help', async (ctx) => {
    const lines = commandList(ctx.t, commandsOf(ctx), ctx.actor?.roles).map((c) => `/${c.command} — ${c.description}`);
    const footer = ctx.actor ? [] : ['', ctx.t('help.guest')];
    await ctx.reply([ctx.t('help.title'), ...lines, ...footer].join('\n'), { parse_mode: 'HTML' });
  });
  return composer;
}
