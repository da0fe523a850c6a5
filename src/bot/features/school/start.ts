import { Composer } from 'grammy';
import { setChatCommands } from '../../commands.js';
import type { BotContext } from '../../context.js';
import { joinByCode, showRoleMenu } from './join.js';

/**
 * /start: with a payload it is an invite deep link (`t.me/<bot>?start=<code>`, or the code typed
 * as `/start CODE`); without one, a known person gets their role menu and a guest the welcome.
 */
export function startFeature() {
  const composer = new Composer<BotContext>();
  composer.command('start', async (ctx) => {
    const code = ctx.match.trim();
    if (code) {
      await joinByCode(ctx, code);
      return;
    }
    if (ctx.actor) {
      // Keeps the chat's menu in step with the person's roles (they change with school data).
      await setChatCommands(ctx);
      await showRoleMenu(ctx);
      return;
    }
    const name = ctx.from?.first_name ?? '';
    await ctx.reply(ctx.t('start.unknown', { name }), { parse_mode: 'HTML' });
  });
  return composer;
}
