import type { MiddlewareFn } from 'grammy';
import { z } from 'zod';
import { localeFromTelegram, translator } from '../../i18n.js';
import type { BotContext, BotDeps } from '../context.js';

/**
 * One schema for every update kind the bot subscribes to (ALLOWED_UPDATES in runtime.ts: message,
 * edited_message, callback_query, my_chat_member), checked first in the chain (issue 12). Telegram
 * sends well-formed updates, but the webhook is an open port and a fuzzer found handlers that
 * trusted the shape (`text.match is not a function`, replies to updates without a chat). Anything
 * malformed is dropped here with a debug log and, where there is a person to answer, a short
 * localized answer; every handler after this step may rely on what the schema says. Fields the
 * schema does not name pass through unchecked (objects are loose), so Telegram adding a field
 * changes nothing.
 */
const int = z.number().int();
const str = z.string();

const user = z.looseObject({
  id: int,
  is_bot: z.boolean(),
  first_name: str,
  last_name: str.optional(),
  username: str.optional(),
  language_code: str.optional(),
});

const chat = z.looseObject({
  id: int,
  type: z.enum(['private', 'group', 'supergroup', 'channel']),
  title: str.optional(),
  username: str.optional(),
  first_name: str.optional(),
});

const entity = z.looseObject({ type: str, offset: int.nonnegative(), length: int.nonnegative() });

const file = z.looseObject({
  file_id: str,
  file_unique_id: str.optional(),
  file_size: z.number().optional(),
  file_name: str.optional(),
  mime_type: str.optional(),
});

/** What handlers read from a message: strings are strings, files have ids, a chat is there. */
const messageFields = {
  message_id: int,
  date: int,
  chat,
  from: user.optional(),
  text: str.optional(),
  caption: str.optional(),
  entities: z.array(entity).optional(),
  caption_entities: z.array(entity).optional(),
  document: file.optional(),
  photo: z.array(file).optional(),
  voice: file.optional(),
  audio: file.optional(),
  video: file.optional(),
  sticker: file.optional(),
};

const repliedTo = z.looseObject(messageFields);
const message = z.looseObject({ ...messageFields, reply_to_message: repliedTo.optional() });

/** An inaccessible message (date 0) still has its chat and id. */
const callbackMessage = z.looseObject({ message_id: int, date: int, chat, text: str.optional(), caption: str.optional() });

const memberStatus = z.looseObject({ status: str, user });

const updateSchema = z.union([
  z.looseObject({ update_id: int, message }),
  z.looseObject({ update_id: int, edited_message: message }),
  z.looseObject({
    update_id: int,
    callback_query: z.looseObject({
      id: str,
      from: user,
      chat_instance: str.optional(),
      // The bot's buttons all sit under its own messages in a chat (no inline mode).
      message: callbackMessage,
      data: str.max(256).optional(),
    }),
  }),
  z.looseObject({
    update_id: int,
    my_chat_member: z.looseObject({
      chat,
      from: user,
      date: int,
      old_chat_member: memberStatus,
      new_chat_member: memberStatus,
    }),
  }),
]);

export type ParsedUpdate = z.infer<typeof updateSchema>;

/** True when the update has the shape the handlers rely on. */
export function isWellFormed(update: unknown): boolean {
  return updateSchema.safeParse(update).success;
}

export function updateSchemaMiddleware(deps: BotDeps): MiddlewareFn<BotContext> {
  return async (ctx, next) => {
    const parsed = updateSchema.safeParse(ctx.update);
    if (parsed.success) return next();
    const raw = ctx.update as unknown as Record<string, unknown>;
    const kinds = Object.keys(raw).filter((k) => k !== 'update_id');
    // Paths only: the values may be personal data.
    const paths = parsed.error.issues.slice(0, 5).map((i) => i.path.join('.'));
    deps.logger.debug({ updateId: raw.update_id, kinds, paths }, 'Malformed update dropped');
    await answerMalformed(ctx, deps, raw);
  };
}

/** Someone to answer: a callback query with an id (answered in place), or a private chat with an id. */
async function answerMalformed(ctx: BotContext, deps: BotDeps, raw: Record<string, unknown>): Promise<void> {
  const part = pick(raw.message) ?? pick(raw.edited_message) ?? pick(raw.callback_query);
  const from = pick(part?.from);
  const code = typeof from?.language_code === 'string' ? from.language_code : undefined;
  const t = translator(deps.i18n, localeFromTelegram(code) ?? deps.config.defaultLocale);
  try {
    const query = pick(raw.callback_query);
    if (query && typeof query.id === 'string') {
      await ctx.api.answerCallbackQuery(query.id, { text: t('common.stale') });
      return;
    }
    const chatOf = pick(part?.chat);
    if (chatOf && Number.isInteger(chatOf.id) && chatOf.type === 'private' && !raw.edited_message) {
      await ctx.api.sendMessage(chatOf.id as number, t('common.malformed'));
    }
  } catch (err) {
    deps.logger.debug({ err: (err as Error).message }, 'Could not answer a malformed update');
  }
}

function pick(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
}
