import { Composer, InlineKeyboard } from 'grammy';
import { getLessonView } from '../../../domain/journal/lessons.js';
import { assertCanSetTopic, myPlanTargets, planReport, setLessonTopic, suggestTopic } from '../../../domain/journal/plan.js';
import { escapeHtml } from '../../../i18n.js';
import { reportText } from '../../conversations/plan-upload.js';
import type { BotContext } from '../../context.js';
import { lessonCb, planPickCb, planUploadCb, topicAcceptCb, topicCb, topicTextCb } from '../../callbacks/journal.js';
import { askReasonThenRun } from './actions.js';
import { ack, guardedRun, lessonHeader, needsReason, requireActor, STALE, show } from './ui.js';

/**
 * Lesson topics (R10) and the plan (КТП, R8, R9). The topic screen offers the next topic of the
 * plan not yet covered — one tap to accept — or a free text; future lessons too (in advance).
 * /plan lists the teacher's classes and subjects with their plans and loads a plan.
 */
export async function showTopic(ctx: BotContext, lessonId: string, note?: string): Promise<void> {
  const actor = requireActor(ctx);
  const { db } = ctx.deps;
  const [view, suggestion] = await Promise.all([
    getLessonView(db, actor, lessonId, ctx.deps.now()),
    suggestTopic(db, actor, lessonId),
  ]);
  const t = ctx.t;
  const lines = [`📖 ${t('topic.title')}`, lessonHeader(t, view), '', t('today.topicLine', { topic: view.topic ?? '—' })];
  const kb = new InlineKeyboard();
  if (suggestion) {
    const part = suggestion.hours > 1 ? t('topic.hourOf', { n: suggestion.hourNo, hours: suggestion.hours }) : '';
    lines.push('', t('topic.suggestion', { order: suggestion.order, topic: suggestion.topic, part }));
    kb.text(t('topic.accept'), topicAcceptCb.pack({ l: lessonId, p: suggestion.planItemId })).row();
  } else {
    lines.push('', t('topic.noPlan'));
  }
  if (note) lines.push('', note);
  kb.text(t('topic.ownText'), topicTextCb.pack({ l: lessonId })).row();
  kb.text(t('attendance.backToLesson'), lessonCb.pack({ l: lessonId }));
  await show(ctx, lines.join('\n'), kb);
}

async function showPlans(ctx: BotContext): Promise<void> {
  const targets = await myPlanTargets(ctx.deps.db, requireActor(ctx));
  if (targets.length === 0) {
    await ctx.reply(ctx.t('plan.noLoadAtAll'));
    return;
  }
  const kb = new InlineKeyboard();
  targets.forEach((x, i) => {
    kb.text(`${x.label} · ${x.items ? ctx.t('plan.topics', { count: x.items }) : '—'}`, planPickCb.pack({ i })).row();
  });
  await show(ctx, ctx.t('plan.title'), kb);
}

export function topicFeature() {
  const composer = new Composer<BotContext>();
  composer.callbackQuery(topicCb.filter, (ctx) =>
    guardedRun(ctx, async () => {
      const data = topicCb.unpack(ctx.callbackQuery.data);
      if (!data) return STALE(ctx);
      await showTopic(ctx, data.l);
      await ack(ctx);
    }),
  );
  composer.callbackQuery(topicAcceptCb.filter, (ctx) =>
    guardedRun(ctx, async () => {
      const data = topicAcceptCb.unpack(ctx.callbackQuery.data);
      if (!data) return STALE(ctx);
      try {
        const res = await setLessonTopic(ctx.deps.db, requireActor(ctx), data.l, { planItemId: data.p }, ctx.deps.now());
        await showTopic(ctx, data.l, ctx.t('topic.saved', { topic: res.topic }));
        await ack(ctx, ctx.t('topic.savedShort'));
      } catch (e) {
        if (!needsReason(e)) throw e;
        await ack(ctx);
        await askReasonThenRun(ctx, { k: 'topic', lessonId: data.l, planItemId: data.p });
      }
    }),
  );
  composer.callbackQuery(topicTextCb.filter, (ctx) =>
    guardedRun(ctx, async () => {
      const data = topicTextCb.unpack(ctx.callbackQuery.data);
      if (!data) return STALE(ctx);
      // Refuse early (not the teacher's lesson, locked) rather than after the typing.
      await assertCanSetTopic(ctx.deps.db, requireActor(ctx), data.l, ctx.deps.now());
      await ack(ctx);
      await ctx.conversation.enter('journalText', { locale: ctx.locale, purpose: 'topic', lessonId: data.l });
    }),
  );
  composer.command('plan', (ctx) =>
    guardedRun(ctx, async () => {
      if (!ctx.actor) {
        await ctx.reply(ctx.t('help.guest'));
        return;
      }
      await showPlans(ctx);
    }),
  );
  composer.callbackQuery(planPickCb.filter, (ctx) =>
    guardedRun(ctx, async () => {
      const data = planPickCb.unpack(ctx.callbackQuery.data);
      if (!data) return STALE(ctx);
      const actor = requireActor(ctx);
      const target = (await myPlanTargets(ctx.deps.db, actor))[data.i];
      if (!target) return STALE(ctx);
      const report = await planReport(ctx.deps.db, actor, target);
      const kb = new InlineKeyboard().text(ctx.t('plan.upload'), planUploadCb.pack({ i: data.i }));
      await show(ctx, `<b>${escapeHtml(target.label)}</b>\n${reportText(ctx.t, report)}`, kb);
      await ack(ctx);
    }),
  );
  composer.callbackQuery(planUploadCb.filter, (ctx) =>
    guardedRun(ctx, async () => {
      const data = planUploadCb.unpack(ctx.callbackQuery.data);
      if (!data) return STALE(ctx);
      await ack(ctx);
      await ctx.conversation.enter('planUpload', { locale: ctx.locale, index: data.i });
    }),
  );
  return composer;
}
