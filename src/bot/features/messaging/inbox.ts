import { Composer, InlineKeyboard } from 'grammy';
import { listInbox, readThread } from '../../../domain/messaging/inbox.js';
import { AccessDenied } from '../../../domain/shared/errors.js';
import type { BotContext } from '../../context.js';
import { threadReplyCb } from '../../callbacks/notices.js';
import { muteCb, reportCb, threadOpenCb } from '../../callbacks/messaging.js';
import { labelText, SHORT_TIME, schoolTimeFormat } from './format.js';

/** /inbox (R3, R24): the actor's threads with unread counts, and a thread's history by pages. */
export async function showThread(ctx: BotContext, threadId: string, page: number, edit: boolean): Promise<void> {
  const actor = ctx.actor;
  if (!actor) throw new AccessDenied();
  const view = await readThread(ctx.deps.db, actor, threadId, page);
  const fmt = await schoolTimeFormat(ctx, SHORT_TIME);
  const lines = [
    ctx.t('messaging.threadTitle', { with: labelText(ctx.t, view.with), page: view.page + 1, pages: view.pages }),
    '',
  ];
  if (view.messages.length === 0) lines.push(ctx.t('messaging.threadEmpty'));
  for (const m of view.messages) {
    const who = m.mine ? ctx.t('messaging.me') : ctx.t('messaging.them');
    const media = m.kind === 'text' ? '' : `${ctx.t(`messaging.media.${m.kind}`)} `;
    const body = m.recalled ? ctx.t('messaging.recalled') : `${media}${(m.text ?? '').slice(0, 300)}`;
    lines.push(`${fmt.format(m.sentAt)} ${who}: ${body}`);
  }
  const kb = new InlineKeyboard();
  if (view.page + 1 < view.pages) kb.text(ctx.t('messaging.older'), threadOpenCb.pack({ t: threadId, p: view.page + 1 }));
  if (view.page > 0) kb.text(ctx.t('messaging.newer'), threadOpenCb.pack({ t: threadId, p: view.page - 1 }));
  kb.row().text(ctx.t('messaging.replyButton'), threadReplyCb.pack({ t: threadId }));
  if (view.side === 'teacher') {
    kb.row().text(
      view.muted ? ctx.t('messaging.unmute') : ctx.t('messaging.mute'),
      muteCb.pack({ t: threadId, on: view.muted ? 0 : 1 }),
    );
  }
  kb.text(ctx.t('messaging.report'), reportCb.pack({ t: threadId }));
  if (view.muted) lines.push('', ctx.t('messaging.mutedState'));
  const text = lines.join('\n').slice(0, 4096);
  if (edit) await ctx.editMessageText(text, { reply_markup: kb });
  else await ctx.reply(text, { reply_markup: kb });
}

export function inboxFeature() {
  const composer = new Composer<BotContext>();

  composer.chatType('private').command('inbox', async (ctx) => {
    const actor = ctx.actor;
    if (!actor) throw new AccessDenied();
    const entries = await listInbox(ctx.deps.db, actor);
    if (entries.length === 0) return ctx.reply(ctx.t('messaging.inboxEmpty'));
    const kb = new InlineKeyboard();
    const lines = [ctx.t('messaging.inboxTitle'), ''];
    for (const e of entries) {
      const who = labelText(ctx.t, e.with);
      lines.push(ctx.t('messaging.inboxLine', { with: who, n: e.unread }));
      kb.text(`${e.unread > 0 ? `(${e.unread}) ` : ''}${who}`.slice(0, 60), threadOpenCb.pack({ t: e.threadId, p: 0 })).row();
    }
    await ctx.reply(lines.join('\n').slice(0, 4096), { reply_markup: kb });
  });

  composer.callbackQuery(threadOpenCb.filter, async (ctx) => {
    const data = threadOpenCb.unpack(ctx.callbackQuery.data);
    if (!data || !ctx.actor) return ctx.answerCallbackQuery({ text: ctx.t('common.stale') });
    await showThread(ctx, data.t, data.p, true);
    await ctx.answerCallbackQuery();
  });

  return composer;
}
