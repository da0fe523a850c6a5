import { Composer } from 'grammy';
import { commandList, GUEST_COMMANDS } from '../commands.js';
import type { BotContext } from '../context.js';

export function helpFeature() {
  const composer = new Composer<BotContext>();
  composer.command('help', async (ctx) => {
    const lines = commandList(ctx.t, GUEST_COMMANDS).map((c) => `/${c.command} — ${c.description}`);
    await ctx.reply([ctx.t('help.title'), ...lines, '', ctx.t('help.guest')].join('\n'), { parse_mode: 'HTML' });
  });
  return composer;
}
