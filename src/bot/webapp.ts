import type { Api, InlineKeyboard, RawApi } from 'grammy';
import type { Config } from '../config.js';
import type { Translate } from '../i18n.js';
import type { BotContext } from './context.js';

/**
 * The Mini App from the chat (issue 15), when WEBAPP_URL (the public https URL of /app/) is set:
 * the chat's menu button opens it, and screens where a table helps (a teacher's /today, a family's
 * /diary) get a "📊 Journal" button. Telegram refuses web_app buttons outside private chats.
 */
export async function setMiniAppMenuButton(api: Api<RawApi>, config: Config, t: Translate): Promise<void> {
  const url = config.web.appUrl;
  if (!url) return;
  await api.setChatMenuButton({ menu_button: { type: 'web_app', text: t('webapp.menuButton'), web_app: { url } } });
}

/** Adds the Mini App's button on its own row (private chats only; nothing without WEBAPP_URL). */
export function withWebAppButton(ctx: BotContext, kb: InlineKeyboard): InlineKeyboard {
  const url = ctx.deps.config.web.appUrl;
  if (!url || ctx.chat?.type !== 'private') return kb;
  return kb.row().webApp(ctx.t('webapp.openGrid'), url);
}
