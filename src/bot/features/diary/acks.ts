import { Composer, InlineKeyboard } from 'grammy';
import { acknowledgeMessage, lessonAcknowledgements, lessonsWithAcks } from '../../../domain/diary/acknowledgements.js';
import { AccessDenied } from '../../../domain/shared/errors.js';
import { zoned } from '../../../domain/shared/calendar.js';
import { ackDoneCb, lessonAcksCb } from '../../callbacks/diary.js';
import { ackCb } from '../../callbacks/notices.js';
import type { BotContext } from '../../context.js';

/**
 * "Acknowledged" under a mark or absence message (the parent's signature, recorded), and the
 * teacher's view of who acknowledged: /acks → a recent lesson → each child's guardians.
 * The ack button (`ackCb`, src/bot/callbacks/notices.ts) is made by src/notify/render at send time.
 */

async function showLessons(ctx: BotContext): Promise<void> {
  const actor = ctx.actor;
  if (!actor) throw new AccessDenied();
  const lessons = await lessonsWithAcks(ctx.deps.db, actor, ctx.deps.now());
  if (lessons.length === 0) {
    await ctx.reply(ctx.t('ack.noLessons'));
    return;
  }
  const kb = new InlineKeyboard();
  for (const l of lessons) {
    kb.text(
      ctx.t('ack.lessonButton', {
        date: `${l.date.slice(8, 10)}.${l.date.slice(5, 7)}`,
        n: l.lessonNo ?? '—',
        className: l.className,
        subject: l.subject,
      }),
      lessonAcksCb.pack({ l: l.lessonId }),
    ).row();
  }
  await ctx.reply(ctx.t('ack.chooseLesson'), { reply_markup: kb });
}

async function showLesson(ctx: BotContext, lessonId: string): Promise<void> {
  const actor = ctx.actor;
  if (!actor) throw new AccessDenied();
  const v = await lessonAcknowledgements(ctx.deps.db, actor, lessonId);
  const school = await ctx.deps.db.models.School.findById(actor.schoolId, { timezone: 1 }).lean();
  const tz = school?.timezone ?? 'UTC';
  const t = ctx.t;
  const lines = [
    t('ack.lessonTitle', {
      date: `${v.date.slice(8, 10)}.${v.date.slice(5, 7)}`,
      n: v.lessonNo ?? '—',
      className: v.className,
      subject: v.subject,
    }),
    '',
  ];
  if (v.rows.length === 0) lines.push(t('ack.nothing'));
  for (const row of v.rows) {
    lines.push(t('ack.row', { student: row.student, items: row.items.join(', ') }));
    if (row.guardians.length === 0) lines.push(`   ${t('ack.noGuardians')}`);
    for (const g of row.guardians) {
      if (g.acknowledgedAt) {
        const z = zoned(g.acknowledgedAt, tz);
        lines.push(`   ${t('ack.signed', { name: g.name, time: `${z.time} ${z.date.slice(8, 10)}.${z.date.slice(5, 7)}` })}`);
      } else if (g.reachable) lines.push(`   ${t('ack.waiting', { name: g.name })}`);
      else lines.push(`   ${t('ack.unreachable', { name: g.name })}`);
    }
  }
  const text = lines.join('\n');
  await ctx.reply(text.length > 4000 ? `${text.slice(0, 3999)}…` : text, { parse_mode: 'HTML' });
}

export function acksFeature() {
  const composer = new Composer<BotContext>();
  composer.callbackQuery(ackCb.filter, async (ctx) => {
    const data = ackCb.unpack(ctx.callbackQuery.data);
    if (!data) return ctx.answerCallbackQuery({ text: ctx.t('common.stale') });
    const { recorded } = await acknowledgeMessage(ctx.deps.db, {
      telegramId: ctx.from.id,
      token: data.t,
      now: ctx.deps.now(),
    });
    // Ids only in the log: what was acknowledged is the family's business.
    ctx.deps.logger.info({ personId: ctx.actor ? String(ctx.actor.personId) : undefined, recorded }, 'Acknowledged');
    await ctx.answerCallbackQuery({ text: ctx.t(recorded > 0 ? 'ack.thanks' : 'ack.already') });
    await ctx
      .editMessageReplyMarkup({
        reply_markup: new InlineKeyboard().text(ctx.t('ack.done'), ackDoneCb.pack({})),
      })
      .catch(() => undefined);
  });
  composer.callbackQuery(ackDoneCb.filter, (ctx) => ctx.answerCallbackQuery({ text: ctx.t('ack.already') }));
  composer.command('acks', async (ctx) => {
    const actor = ctx.actor;
    if (!actor || (!actor.roles.has('teacher') && actor.classTeacherOf.size === 0 && !actor.roles.has('admin') && !actor.roles.has('deputy'))) {
      await ctx.reply(ctx.t('ack.staffOnly'));
      return;
    }
    await showLessons(ctx);
  });
  composer.callbackQuery(lessonAcksCb.filter, async (ctx) => {
    const data = lessonAcksCb.unpack(ctx.callbackQuery.data);
    if (!data || !ctx.actor) return ctx.answerCallbackQuery({ text: ctx.t('common.stale') });
    await showLesson(ctx, data.l);
    await ctx.answerCallbackQuery();
  });
  return composer;
}
