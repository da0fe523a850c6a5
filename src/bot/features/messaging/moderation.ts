import { Composer, InlineKeyboard } from 'grammy';
import { readReportedThread, reportThread, setThreadMuted } from '../../../domain/messaging/moderation.js';
import { AccessDenied } from '../../../domain/shared/errors.js';
import type { BotContext } from '../../context.js';
import { reportViewCb } from '../../callbacks/notices.js';
import { muteCb, reportCb } from '../../callbacks/messaging.js';
import { labelText, SHORT_TIME, schoolTimeFormat } from './format.js';
import { showThread } from './inbox.js';

/**
 * Safety in threads (R3, R31): the teacher mutes a thread, either side reports it, and the admin
 * opens a reported conversation from the report notice.
 */
async function showReportedThread(ctx: BotContext, threadId: string, page: number): Promise<void> {
  const actor = ctx.actor;
  if (!actor) throw new AccessDenied();
  // Refuses anyone but the admin, and a conversation nobody reported.
  const view = await readReportedThread(ctx.deps.db, actor, threadId, page, ctx.deps.now());
  const fmt = await schoolTimeFormat(ctx, SHORT_TIME);
  const lines = [
    ctx.t('messaging.reported.title', {
      family: labelText(ctx.t, view.family),
      teacher: labelText(ctx.t, view.teacher),
      page: view.page + 1,
      pages: view.pages,
    }),
    '',
  ];
  for (const m of view.messages) {
    const who = ctx.t(m.side === 'teacher' ? 'messaging.reported.teacher' : 'messaging.reported.family');
    const media = m.kind === 'text' ? '' : `${ctx.t(`messaging.media.${m.kind}`)} `;
    const body = `${media}${(m.text ?? '').slice(0, 300)}`;
    lines.push(`${fmt.format(m.sentAt)} ${who}: ${m.recalled ? `${ctx.t('messaging.reported.recalled')} ` : ''}${body}`);
  }
  const kb = new InlineKeyboard();
  if (view.page + 1 < view.pages) kb.text(ctx.t('messaging.older'), reportViewCb.pack({ t: threadId, p: view.page + 1 }));
  if (view.page > 0) kb.text(ctx.t('messaging.newer'), reportViewCb.pack({ t: threadId, p: view.page - 1 }));
  await ctx.reply(lines.join('\n').slice(0, 4096), { reply_markup: kb });
}

export function moderationFeature() {
  const composer = new Composer<BotContext>();

  composer.callbackQuery(muteCb.filter, async (ctx) => {
    const data = muteCb.unpack(ctx.callbackQuery.data);
    if (!data || !ctx.actor) return ctx.answerCallbackQuery({ text: ctx.t('common.stale') });
    await setThreadMuted(ctx.deps.db, ctx.actor, data.t, data.on === 1);
    await ctx.answerCallbackQuery({ text: ctx.t(data.on === 1 ? 'messaging.mutedOk' : 'messaging.unmutedOk') });
    await showThread(ctx, data.t, 0, true);
  });

  composer.callbackQuery(reportCb.filter, async (ctx) => {
    const data = reportCb.unpack(ctx.callbackQuery.data);
    if (!data || !ctx.actor) return ctx.answerCallbackQuery({ text: ctx.t('common.stale') });
    await reportThread(ctx.deps.db, ctx.actor, data.t, ctx.deps.now());
    await ctx.answerCallbackQuery();
    await ctx.reply(ctx.t('messaging.reportDone'));
  });

  composer.callbackQuery(reportViewCb.filter, async (ctx) => {
    const data = reportViewCb.unpack(ctx.callbackQuery.data);
    if (!data || !ctx.actor) return ctx.answerCallbackQuery({ text: ctx.t('common.stale') });
    await showReportedThread(ctx, data.t, data.p);
    await ctx.answerCallbackQuery();
  });

  return composer;
}
