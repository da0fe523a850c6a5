import { Composer, InlineKeyboard } from 'grammy';
import { AccessDenied } from '../../../domain/shared/errors.js';
import { getStudentCard, listMyChildren } from '../../../domain/school/people.js';
import { childCb } from '../../callbacks/diary.js';
import type { BotContext } from '../../context.js';
import { teacherStudentCb } from '../../callbacks/messaging.js';

/**
 * A family's view of its children (R4). The button carries the student id; the domain
 * (`getStudentCard` → `canReadStudent`) refuses an id that is not the actor's child, so a forged
 * or replayed button shows nothing of another child.
 */
export async function showChildren(ctx: BotContext): Promise<void> {
  const actor = ctx.actor;
  if (!actor) throw new AccessDenied();
  const children = await listMyChildren(ctx.deps.db, actor);
  if (children.length === 0) {
    await ctx.reply(ctx.t('family.none'));
    return;
  }
  const keyboard = new InlineKeyboard();
  for (const c of children) keyboard.text(c.name, childCb.pack({ s: c.studentId })).row();
  const self = children.length === 1 && children[0]?.studentId === String(actor.personId);
  const lines = [
    ctx.t(self ? 'family.titleSelf' : 'family.title'),
    ...children.map((c) => ctx.t('family.line', { name: c.name, className: c.className ?? '—' })),
  ];
  await ctx.reply(lines.join('\n'), { parse_mode: 'HTML', reply_markup: keyboard });
}

async function showCard(ctx: BotContext, studentId: string): Promise<void> {
  const actor = ctx.actor;
  if (!actor) throw new AccessDenied();
  const card = await getStudentCard(ctx.deps.db, actor, studentId);
  const t = ctx.t;
  const lines = [
    t('family.card.title', { name: card.fullName }),
    t('family.card.class', { className: card.className ?? '—' }),
    t('family.card.classTeacher', { name: card.classTeacherName ?? '—' }),
  ];
  if (card.form && card.form !== 'regular') lines.push(t(`family.card.form.${card.form}`));
  if (card.guardians?.length) {
    lines.push(t('family.card.guardians'));
    for (const g of card.guardians) {
      lines.push(g.phone ? t('family.card.guardianPhone', { name: g.name, phone: g.phone }) : t('family.card.guardian', { name: g.name }));
    }
  }
  // A teacher of the student writes to the parents from the card (issue 6); the messaging card
  // checks again that the teacher teaches the child.
  const teaches =
    actor.roles.has('teacher') &&
    card.classId !== undefined &&
    (actor.classTeacherOf.has(card.classId) || actor.teachesClassIds.has(card.classId));
  const kb = teaches ? new InlineKeyboard().text(t('messaging.teacherWrite.fromCard'), teacherStudentCb.pack({ s: card.studentId })) : undefined;
  await ctx.reply(lines.join('\n'), { parse_mode: 'HTML', reply_markup: kb });
}

export function familyFeature() {
  const composer = new Composer<BotContext>();
  composer.command('children', async (ctx) => {
    if (!ctx.actor) {
      await ctx.reply(ctx.t('family.guest'));
      return;
    }
    // `/children <id>` opens one card directly; the id is checked like a button's.
    const arg = ctx.match.trim();
    if (arg) await showCard(ctx, arg);
    else await showChildren(ctx);
  });
  composer.callbackQuery(childCb.filter, async (ctx) => {
    const data = childCb.unpack(ctx.callbackQuery.data);
    if (!data) {
      await ctx.answerCallbackQuery({ text: ctx.t('common.stale') });
      return;
    }
    // The check runs before the query is answered: a refusal becomes the query's alert.
    await showCard(ctx, data.s);
    await ctx.answerCallbackQuery();
  });
  return composer;
}
