import { GrammyError, type InlineKeyboard } from 'grammy';
import type { BotContext } from './context.js';
import type { DomainError } from '../domain/shared/errors.js';

/** Shared screen helpers for every feature: one way to show a screen and one way to say "no". */

const isNotModified = (e: unknown) => e instanceof GrammyError && /message is not modified/i.test(e.description);

/**
 * Shows a screen: a button press edits the message it came from (one message per flow), a command
 * sends a new one. If the old message cannot be edited (too old, not text), a new one is sent.
 */
export async function showScreen(ctx: BotContext, text: string, kb?: InlineKeyboard): Promise<void> {
  const opts = { parse_mode: 'HTML' as const, reply_markup: kb, link_preview_options: { is_disabled: true } };
  const message = ctx.callbackQuery?.message;
  if (message && 'text' in message && message.text !== undefined) {
    try {
      await ctx.editMessageText(text, opts);
      return;
    } catch (e) {
      if (isNotModified(e)) return;
      if (!(e instanceof GrammyError)) throw e;
    }
  }
  await ctx.reply(text, opts);
}

/**
 * A refusal from the domain, said in full: a button's alert holds 200 characters, so a longer
 * text (who can help, the rule) also goes to the chat.
 */
export async function sayRefusal(ctx: BotContext, e: DomainError): Promise<void> {
  const text = ctx.t(e.key, e.vars);
  const plain = text.replace(/<[^>]+>/g, '').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  if (ctx.callbackQuery) {
    try {
      await ctx.answerCallbackQuery({ text: plain.length <= 200 ? plain : `${plain.slice(0, 197)}…`, show_alert: true });
    } catch {
      // answered already
    }
    if (plain.length > 200) await ctx.reply(text, { parse_mode: 'HTML' });
    return;
  }
  if (ctx.chat) await ctx.reply(text, { parse_mode: 'HTML' });
}
