import { InputFile } from 'grammy';
import type { Locale } from '../../../config.js';
import { inviteQrPng } from '../../../documents/invite-qr.js';
import type { Actor } from '../../../domain/school/actor.js';
import { AccessDenied } from '../../../domain/shared/errors.js';
import { escapeHtml, translator } from '../../../i18n.js';
import type { BotContext } from '../../context.js';

/** What the /invite screens share (src/bot/features/school/invites.ts, rebind.ts). */

export function requireActor(ctx: BotContext): Actor {
  if (!ctx.actor) throw new AccessDenied();
  return ctx.actor;
}

/** The school's name, time zone and language (printed sheets speak the school's language). */
export async function schoolOf(ctx: BotContext, actor: Actor) {
  const school = await ctx.deps.db.models.School.findById(actor.schoolId, { name: 1, locale: 1, timezone: 1 }).lean();
  const locale = (school?.locale ?? ctx.deps.config.defaultLocale) as Locale;
  return { name: school?.name ?? '', timezone: school?.timezone, locale, t: translator(ctx.deps.i18n, locale) };
}

export const botUsername = (ctx: BotContext) => ctx.me.username;

/** One invite as a QR code with its link under the caption, to forward to its person. */
export async function sendQr(ctx: BotContext, p: { link: string; caption: string }): Promise<void> {
  const png = await inviteQrPng(p.link);
  const chatId = ctx.chat?.id ?? ctx.from?.id ?? 0;
  await ctx.api.sendPhoto(chatId, new InputFile(png, 'invite.png'), {
    caption: `${p.caption}\n\n${escapeHtml(p.link)}`,
    parse_mode: 'HTML',
  });
}
