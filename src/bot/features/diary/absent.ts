import { Composer, InlineKeyboard } from 'grammy';
import { decideAbsenceReport, reportAbsence } from '../../../domain/diary/absence-reports.js';
import { AccessDenied } from '../../../domain/shared/errors.js';
import { listMyChildren } from '../../../domain/school/people.js';
import { addDays, dayMonth, localDate } from '../../../domain/shared/calendar.js';
import {
  ABSENCE_DAY_CHOICES as DAY_CHOICES,
  type ABSENCE_REASONS as REASONS,
  reportCancelCb,
  reportChildCb,
  reportDaysCb,
  reportReasonCb,
  reportSendCb,
} from '../../callbacks/diary.js';
import { reportDecisionCb } from '../../callbacks/notices.js';
import type { BotContext } from '../../context.js';
import { type DraftStamp, pendingDraft } from '../../drafts.js';

/**
 * /absent: a parent reports that the child will be absent — which days, why, and optionally a
 * photo of a note. Button steps carry everything chosen so far; only the last step (waiting for a
 * photo) keeps a small state in MongoDB (`abr:<telegramId>`), so a restart loses nothing.
 * The class teacher gets the report with buttons: Б (ill), У (excused), reject (R20).
 */
const reasonOf = (r: (typeof REASONS)[number]) => (r === 'i' ? 'illness' : 'family');

interface PendingReport {
  s: string;
  d: number;
  r: (typeof REASONS)[number];
}

const reportDraft = pendingDraft<PendingReport & DraftStamp>('absenceReport', 30 * 60_000, (v) => typeof v.s === 'string');

async function schoolToday(ctx: BotContext): Promise<string> {
  const school = ctx.actor ? await ctx.deps.db.models.School.findById(ctx.actor.schoolId, { timezone: 1 }).lean() : null;
  return localDate(ctx.deps.now(), school?.timezone ?? 'UTC');
}

function datesOf(today: string, d: number): { from: string; to: string } {
  const choice = DAY_CHOICES[d] ?? DAY_CHOICES[0];
  const from = addDays(today, choice.from);
  return { from, to: addDays(from, choice.days - 1) };
}

async function askDays(ctx: BotContext, s: string, childName: string): Promise<void> {
  const t = ctx.t;
  const kb = new InlineKeyboard();
  DAY_CHOICES.forEach((_, d) => {
    kb.text(t(`absenceReport.days.${d}`), reportDaysCb.pack({ s, d }));
    if (d % 2 === 1) kb.row();
  });
  kb.row().text(t('common.cancel'), reportCancelCb.pack({}));
  await ctx.reply(t('absenceReport.askDays', { name: childName }), { reply_markup: kb, parse_mode: 'HTML' });
}

async function submit(ctx: BotContext, p: PendingReport, photoFileId?: string, note?: string): Promise<void> {
  const actor = ctx.actor;
  if (!actor) throw new AccessDenied();
  const { from, to } = datesOf(await schoolToday(ctx), p.d);
  const result = await reportAbsence(ctx.deps.db, actor, {
    studentId: p.s,
    from,
    to,
    reason: reasonOf(p.r),
    photoFileId,
    note,
    now: ctx.deps.now(),
  });
  ctx.deps.logger.info({ reportId: result.reportId, teacherNotified: result.teacherNotified }, 'Absence reported');
  const dates = from === to ? dayMonth(from) : `${dayMonth(from)}–${dayMonth(to)}`;
  await ctx.reply(ctx.t(result.teacherNotified ? 'absenceReport.sent' : 'absenceReport.sentNoTeacher', { dates }));
}

export function absenceReportFeature() {
  const composer = new Composer<BotContext>();
  composer.command('absent', async (ctx) => {
    const actor = ctx.actor;
    if (!actor || actor.childIds.size === 0) {
      await ctx.reply(ctx.t('absenceReport.parentsOnly'));
      return;
    }
    const children = (await listMyChildren(ctx.deps.db, actor)).filter((c) => actor.childIds.has(c.studentId));
    if (children.length === 1 && children[0]) {
      await askDays(ctx, children[0].studentId, children[0].name);
      return;
    }
    const kb = new InlineKeyboard();
    for (const c of children) kb.text(c.name, reportChildCb.pack({ s: c.studentId })).row();
    await ctx.reply(ctx.t('absenceReport.chooseChild'), { reply_markup: kb });
  });
  composer.callbackQuery(reportChildCb.filter, async (ctx) => {
    const data = reportChildCb.unpack(ctx.callbackQuery.data);
    const actor = ctx.actor;
    if (!data || !actor) return ctx.answerCallbackQuery({ text: ctx.t('common.stale') });
    const child = (await listMyChildren(ctx.deps.db, actor)).find((c) => c.studentId === data.s && actor.childIds.has(c.studentId));
    if (!child) throw new AccessDenied();
    await ctx.answerCallbackQuery();
    await askDays(ctx, child.studentId, child.name);
  });
  composer.callbackQuery(reportDaysCb.filter, async (ctx) => {
    const data = reportDaysCb.unpack(ctx.callbackQuery.data);
    if (!data || !ctx.actor) return ctx.answerCallbackQuery({ text: ctx.t('common.stale') });
    const kb = new InlineKeyboard()
      .text(ctx.t('absenceReport.reasons.illness'), reportReasonCb.pack({ ...data, r: 'i' }))
      .text(ctx.t('absenceReport.reasons.family'), reportReasonCb.pack({ ...data, r: 'f' }))
      .row()
      .text(ctx.t('common.cancel'), reportCancelCb.pack({}));
    await ctx.answerCallbackQuery();
    await ctx.editMessageText(ctx.t('absenceReport.askReason'), { reply_markup: kb });
  });
  composer.callbackQuery(reportReasonCb.filter, async (ctx) => {
    const data = reportReasonCb.unpack(ctx.callbackQuery.data);
    if (!data || !ctx.actor) return ctx.answerCallbackQuery({ text: ctx.t('common.stale') });
    await reportDraft.save(ctx, data);
    const kb = new InlineKeyboard()
      .text(ctx.t('absenceReport.sendWithoutPhoto'), reportSendCb.pack(data))
      .row()
      .text(ctx.t('common.cancel'), reportCancelCb.pack({}));
    await ctx.answerCallbackQuery();
    await ctx.editMessageText(ctx.t('absenceReport.askPhoto'), { reply_markup: kb });
  });
  composer.callbackQuery(reportSendCb.filter, async (ctx) => {
    const data = reportSendCb.unpack(ctx.callbackQuery.data);
    if (!data || !ctx.actor) return ctx.answerCallbackQuery({ text: ctx.t('common.stale') });
    await reportDraft.drop(ctx);
    await submit(ctx, data);
    await ctx.answerCallbackQuery();
    await ctx.editMessageReplyMarkup().catch(() => undefined);
  });
  composer.callbackQuery(reportCancelCb.filter, async (ctx) => {
    await reportDraft.drop(ctx);
    await ctx.answerCallbackQuery({ text: ctx.t('common.cancelled') });
    await ctx.editMessageReplyMarkup().catch(() => undefined);
  });
  // The photo of a note, while a report waits for one; any other photo passes on.
  composer.on('message:photo', async (ctx, next) => {
    if (!ctx.actor) return next();
    const value = await reportDraft.load(ctx);
    if (!value) return next();
    const photo = ctx.message.photo[ctx.message.photo.length - 1];
    await submit(ctx, { s: value.s, d: value.d, r: value.r }, photo?.file_id, ctx.message.caption);
    await reportDraft.drop(ctx);
  });
  // A note typed instead of the photo is the parent's note, not "I did not understand" (issue 11).
  composer.on('message:text', async (ctx, next) => {
    if (!ctx.actor || ctx.message.text.startsWith('/')) return next();
    const value = await reportDraft.load(ctx);
    if (!value) return next();
    await submit(ctx, { s: value.s, d: value.d, r: value.r }, undefined, ctx.message.text);
    await reportDraft.drop(ctx);
  });
  composer.callbackQuery(reportDecisionCb.filter, async (ctx) => {
    const data = reportDecisionCb.unpack(ctx.callbackQuery.data);
    if (!data || !ctx.actor) return ctx.answerCallbackQuery({ text: ctx.t('common.stale') });
    const decision = data.d === 'b' ? 'Б' : data.d === 'u' ? 'У' : 'reject';
    const result = await decideAbsenceReport(ctx.deps.db, ctx.actor, data.r, decision, ctx.deps.now());
    await ctx.answerCallbackQuery({ text: ctx.t('common.done') });
    await ctx.editMessageReplyMarkup().catch(() => undefined);
    await ctx.reply(
      result.status === 'rejected'
        ? ctx.t('absenceReport.decidedRejected')
        : ctx.t('absenceReport.decidedConfirmed', { code: decision, applied: result.applied, locked: result.locked }),
    );
  });
  return composer;
}
