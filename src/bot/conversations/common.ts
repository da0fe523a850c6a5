import type { Conversation } from '@grammyjs/conversations';
import { type Context, InlineKeyboard } from 'grammy';
import type { Locale } from '../../config.js';
import type { Actor } from '../../domain/school/actor.js';
import { AccessDenied, DomainError } from '../../domain/shared/errors.js';
import { type Translate, translator } from '../../i18n.js';
import type { AppFlavor, BotDeps } from '../context.js';
import { promptCancelCb } from '../callbacks/journal.js';

/**
 * Shared pieces of the journal's conversations. Conversations replay from the start on every
 * update (conversations v2): database work, clocks and randomness run inside
 * `conversation.external`, which returns plain JSON data — outcomes, never documents or errors.
 * The outside context (`OuterCtx`) carries the actor and deps for that update.
 */
export type OuterCtx = Context & AppFlavor;
export type JournalConversation = Conversation<OuterCtx, Context>;

/** How long a prompt waits for an answer before the conversation quietly ends. */
export const PROMPT_TIMEOUT_MS = 30 * 60_000;

export type Outcome<T> = { ok: true; value: T } | { ok: false; key: string; vars: Record<string, string | number> };

/** Runs domain work; a user's mistake or a refusal comes back as data (the key to say), not as a throw. */
export async function attempt<T>(fn: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (e) {
    if (e instanceof DomainError) {
      const vars: Record<string, string | number> = {};
      for (const [k, v] of Object.entries(e.vars)) vars[k] = typeof v === 'number' ? v : String(v);
      return { ok: false, key: e.key, vars };
    }
    throw e;
  }
}

export function actorOf(o: OuterCtx): Actor {
  if (!o.actor) throw new AccessDenied();
  return o.actor;
}

export const translate = (deps: BotDeps, locale: Locale | string): Translate =>
  translator(deps.i18n, locale === 'en' ? 'en' : 'ru');

export const cancelKeyboard = (t: Translate) => new InlineKeyboard().text(t('common.cancel'), promptCancelCb.pack({}));

export const isCancel = (u: Context) => u.callbackQuery?.data === promptCancelCb.pack({});

/** The text of a plain message (not a command), or undefined. */
export function plainText(u: Context): string | undefined {
  const text = u.message?.text;
  return text !== undefined && !text.startsWith('/') ? text : undefined;
}

/**
 * The next update of the prompt (30 minutes at most), or undefined when the user pressed Cancel —
 * then the button is answered and "Cancelled" said, so callers just stop.
 */
export async function waitOrCancel(conversation: JournalConversation, t: Translate): Promise<Context | undefined> {
  const u = await conversation.wait({ maxMilliseconds: PROMPT_TIMEOUT_MS });
  if (!isCancel(u)) return u;
  await answer(u);
  await u.reply(t('common.cancelled'));
  return undefined;
}

export async function answer(u: Context, text?: string, alert = false): Promise<void> {
  if (!u.callbackQuery) return;
  await u.answerCallbackQuery(text ? { text: text.slice(0, 200), show_alert: alert } : undefined);
}
