import { Composer, InlineKeyboard } from 'grammy';
import { getHomework } from '../../../domain/journal/homework.js';
import { getLessonView } from '../../../domain/journal/lessons.js';
import { escapeHtml } from '../../../i18n.js';
import type { BotContext } from '../../context.js';
import { dueLine } from '../../conversations/homework.js';
import { homeworkCb, homeworkEnterCb, homeworkFilesCb, lessonCb } from '../../callbacks/journal.js';
import { ack, guardedRun, lessonHeader, requireActor, STALE, show } from './ui.js';

/**
 * Homework (R22): the lesson's homework with its files, and the way to set it — for this lesson
 * or for the next lesson of the subject. The collecting is a conversation (conversations/homework).
 */
async function showHomework(ctx: BotContext, lessonId: string): Promise<void> {
  const actor = requireActor(ctx);
  const { db } = ctx.deps;
  const [view, hw] = await Promise.all([getLessonView(db, actor, lessonId, ctx.deps.now()), getHomework(db, actor, lessonId)]);
  const t = ctx.t;
  const lines = [`🏠 ${t('homework.title')}`, lessonHeader(t, view), ''];
  lines.push(hw.text ? escapeHtml(hw.text) : t('homework.none'));
  if (hw.text || hw.attachments.length) lines.push(dueLine(t, hw.dueOn));
  if (hw.attachments.length) lines.push(t('homework.files', { count: hw.attachments.length }));
  const kb = new InlineKeyboard();
  if (view.rights.edit) {
    kb.text(t(hw.text || hw.attachments.length ? 'homework.replaceThis' : 'homework.forThis'), homeworkEnterCb.pack({ l: lessonId, n: false }))
      .row()
      .text(t('homework.forNext'), homeworkEnterCb.pack({ l: lessonId, n: true }))
      .row();
  }
  if (hw.attachments.length) kb.text(t('homework.showFiles'), homeworkFilesCb.pack({ l: lessonId })).row();
  kb.text(t('attendance.backToLesson'), lessonCb.pack({ l: lessonId }));
  await show(ctx, lines.join('\n'), kb);
}

export function homeworkFeature() {
  const composer = new Composer<BotContext>();
  composer.callbackQuery(homeworkCb.filter, (ctx) =>
    guardedRun(ctx, async () => {
      const data = homeworkCb.unpack(ctx.callbackQuery.data);
      if (!data) return STALE(ctx);
      await showHomework(ctx, data.l);
      await ack(ctx);
    }),
  );
  composer.callbackQuery(homeworkEnterCb.filter, (ctx) =>
    guardedRun(ctx, async () => {
      const data = homeworkEnterCb.unpack(ctx.callbackQuery.data);
      if (!data) return STALE(ctx);
      await ack(ctx);
      await ctx.conversation.enter('homework', { locale: ctx.locale, lessonId: data.l, next: data.n });
    }),
  );
  composer.callbackQuery(homeworkFilesCb.filter, (ctx) =>
    guardedRun(ctx, async () => {
      const data = homeworkFilesCb.unpack(ctx.callbackQuery.data);
      if (!data) return STALE(ctx);
      const hw = await getHomework(ctx.deps.db, requireActor(ctx), data.l);
      await ack(ctx);
      for (const a of hw.attachments) {
        if (a.kind === 'photo') await ctx.replyWithPhoto(a.fileId);
        else await ctx.replyWithDocument(a.fileId);
      }
    }),
  );
  return composer;
}
