import { Composer, InlineKeyboard } from 'grammy';
import type { Message } from 'grammy/types';
import {
  type MessageContent,
  recallMessage,
  type SentMessage,
  sendMessage,
  sendMessages,
  threadOfDelivered,
} from '../../../domain/messaging/send.js';
import { threadPartner } from '../../../domain/messaging/threads.js';
import type { Translate } from '../../../i18n.js';
import type { BotContext } from '../../context.js';
import { threadReplyCb } from '../../callbacks/notices.js';
import { composeDoneCb, recallCb } from '../../callbacks/messaging.js';
import { labelText, SHORT_TIME, schoolTimeFormat } from './format.js';
import { pendingDraft } from '../../drafts.js';

/**
 * Composing in a thread (R3): the Reply button under a delivered message, Telegram's reply-to on
 * it, and whatever the user sends while composing go to the thread; Recall takes a message back.
 * The composing state lives in MongoDB (`msg:<telegramId>`), so any bot process can take the next
 * update. Without it, messages pass on to the other features unchanged.
 */
interface ComposeState {
  threadId: string;
  /** Several threads at once (a teacher writing to all parents of a student); the first is `threadId`. */
  threadIds?: string[];
  personId: string;
  at: number;
}

const composeDraft = pendingDraft<ComposeState>('message', 30 * 60_000, (v) => Boolean(v.threadId));

/** Whatever the user sends next goes to this thread (or these threads). */
export async function setComposing(ctx: BotContext, threadId: string, threadIds?: string[]): Promise<void> {
  await composeDraft.save(ctx, { threadId, ...(threadIds && threadIds.length > 1 ? { threadIds } : {}) });
}

const composing = (ctx: BotContext) => composeDraft.load(ctx);
const stopComposing = (ctx: BotContext) => composeDraft.drop(ctx);

/** What a message carries, or undefined for what cannot be sent to a teacher (stickers, polls, …). */
export function contentOf(m: Message): MessageContent | undefined {
  if (m.text !== undefined) return { kind: 'text', text: m.text };
  if (m.photo && m.photo.length > 0) {
    const largest = m.photo[m.photo.length - 1];
    return { kind: 'photo', fileId: largest?.file_id, text: m.caption };
  }
  if (m.document) return { kind: 'document', fileId: m.document.file_id, text: m.caption };
  if (m.voice) return { kind: 'voice', fileId: m.voice.file_id, text: m.caption };
  return undefined;
}

export const doneKeyboard = (t: Translate) => new InlineKeyboard().text(t('messaging.done'), composeDoneCb.pack({}));

/** The sender's confirmation: Recall, and Done while composing. */
function sentKeyboard(t: Translate, messageId: string, composing: boolean): InlineKeyboard {
  const kb = new InlineKeyboard().text(t('messaging.recall'), recallCb.pack({ m: messageId }));
  return composing ? kb.text(t('messaging.done'), composeDoneCb.pack({})) : kb;
}

async function sentText(ctx: BotContext, sent: SentMessage): Promise<string> {
  const lines = [ctx.t('messaging.sent')];
  if (sent.mutedNotice) lines.push('', ctx.t('messaging.mutedNotice'));
  if (sent.heldUntil) {
    const at = (await schoolTimeFormat(ctx, { weekday: 'short', ...SHORT_TIME })).format(sent.heldUntil);
    lines.push('', ctx.t('messaging.heldNotice', { at }));
  }
  return lines.join('\n');
}

export function composeFeature() {
  const composer = new Composer<BotContext>();
  const privateChat = composer.chatType('private');

  composer.callbackQuery(recallCb.filter, async (ctx) => {
    const data = recallCb.unpack(ctx.callbackQuery.data);
    if (!data || !ctx.actor) return ctx.answerCallbackQuery({ text: ctx.t('common.stale') });
    // The domain refuses someone else's message and anything older than 10 minutes.
    const result = await recallMessage(ctx.deps.db, ctx.actor, data.m, ctx.deps.now());
    for (const d of result.deletes) {
      await ctx.api.deleteMessage(d.chatId, d.messageId).catch(() => undefined);
    }
    await ctx.answerCallbackQuery({ text: ctx.t('messaging.recallDone') });
    await ctx.editMessageText(ctx.t('messaging.recallDone')).catch(() => undefined);
  });

  composer.callbackQuery(threadReplyCb.filter, async (ctx) => {
    const data = threadReplyCb.unpack(ctx.callbackQuery.data);
    if (!data || !ctx.actor) return ctx.answerCallbackQuery({ text: ctx.t('common.stale') });
    // Refuses anyone who is not in the thread (a forwarded or forged button).
    const partner = await threadPartner(ctx.deps.db, ctx.actor, data.t);
    await setComposing(ctx, data.t);
    await ctx.answerCallbackQuery();
    await ctx.reply(ctx.t('messaging.composeReply', { with: labelText(ctx.t, partner) }), { reply_markup: doneKeyboard(ctx.t) });
  });

  composer.callbackQuery(composeDoneCb.filter, async (ctx) => {
    await stopComposing(ctx);
    await ctx.answerCallbackQuery();
    await ctx.editMessageReplyMarkup().catch(() => undefined);
    await ctx.reply(ctx.t('messaging.stopped'));
  });

  // A reply to a delivered message, or anything sent while composing, goes to the thread;
  // everything else passes on unchanged.
  privateChat.on('message', async (ctx, next) => {
    const actor = ctx.actor;
    if (!actor?.personId) return next();
    const m = ctx.message;
    if (m.text?.startsWith('/')) {
      // A command ends composing and runs as usual.
      await stopComposing(ctx);
      return next();
    }
    const replyTo = m.reply_to_message?.message_id;
    let threadId = replyTo !== undefined ? await threadOfDelivered(ctx.deps.db, actor, ctx.chat.id, replyTo) : undefined;
    const state = threadId ? undefined : await composing(ctx);
    threadId ??= state?.threadId;
    if (!threadId) return next();
    const content = contentOf(m);
    if (!content) {
      await ctx.reply(ctx.t('messaging.unsupported'), { reply_markup: state ? doneKeyboard(ctx.t) : undefined });
      return;
    }
    if (state?.threadIds && state.threadIds.length > 1) {
      // One message to several parents; counted once, recalled together.
      const all = await sendMessages(ctx.deps.db, actor, state.threadIds, content, ctx.deps.now());
      await setComposing(ctx, state.threadId, state.threadIds);
      const firstId = all[0]?.messageId;
      if (!firstId) return;
      await ctx.reply(ctx.t('messaging.teacherWrite.sentAll', { n: all.length }), { reply_markup: sentKeyboard(ctx.t, firstId, true) });
      return;
    }
    const sent = await sendMessage(ctx.deps.db, actor, threadId, content, ctx.deps.now());
    if (state) await setComposing(ctx, threadId);
    await ctx.reply(await sentText(ctx, sent), { reply_markup: sentKeyboard(ctx.t, sent.messageId, Boolean(state)) });
  });

  return composer;
}
