import type { Transformer } from 'grammy';

/**
 * Every keyboard the bot sends, tidied in one place: grammY's `.row()` after the last button (the
 * usual way of building a menu line by line) leaves an empty row at the end, and a row can end up
 * empty when its buttons are conditional. Empty rows are dropped from any `reply_markup` on the way
 * out (issue 11) — installed on bot.api and on the Api each conversation step builds.
 */
type Markup = { inline_keyboard?: unknown[][]; keyboard?: unknown[][] };

export function tidyKeyboards(): Transformer {
  return (prev, method, payload, signal) => {
    const markup = (payload as { reply_markup?: Markup } | undefined)?.reply_markup;
    if (markup && typeof markup === 'object') {
      const tidy = (rows: unknown[][] | undefined) => rows?.filter((r) => Array.isArray(r) && r.length > 0);
      const next: Markup = { ...markup };
      if (markup.inline_keyboard) next.inline_keyboard = tidy(markup.inline_keyboard);
      if (markup.keyboard) next.keyboard = tidy(markup.keyboard);
      return prev(method, { ...payload, reply_markup: next } as typeof payload, signal);
    }
    return prev(method, payload, signal);
  };
}
