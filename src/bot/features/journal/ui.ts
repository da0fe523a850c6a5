import type { Actor } from '../../../domain/school/actor.js';
import { dayMonth, isoWeekday, type LocalDate } from '../../../domain/shared/calendar.js';
import { AccessDenied, DomainError } from '../../../domain/shared/errors.js';
import type { LessonBrief, LessonSummary } from '../../../domain/journal/lessons.js';
import { escapeHtml, type Translate } from '../../../i18n.js';
import type { BotContext } from '../../context.js';
import { sayRefusal, showScreen } from '../../ui.js';

/** Shared pieces of the journal's screens (the teacher's phone is the main device: short, tappable). */

export function requireActor(ctx: BotContext): Actor {
  if (!ctx.actor) throw new AccessDenied();
  return ctx.actor;
}

/** Shows a screen (see src/bot/ui.ts): the journal's name for it. */
export const show = showScreen;

/** Answers the button press (once); a no-op for messages. */
export async function ack(ctx: BotContext, text?: string): Promise<void> {
  if (!ctx.callbackQuery) return;
  try {
    await ctx.answerCallbackQuery(text ? { text: text.slice(0, 200) } : undefined);
  } catch {
    // already answered or too old: nothing the user is waiting for
  }
}

export const refuse = sayRefusal;

/** Runs a handler; refusals the user caused become a clear answer, everything else goes to the boundary. */
export async function guardedRun(ctx: BotContext, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof DomainError) {
      ctx.deps.logger.info({ updateId: ctx.update.update_id, key: e.key }, 'Journal: refused');
      await refuse(ctx, e);
      return;
    }
    throw e;
  }
}

export const needsReason = (e: unknown): boolean => e instanceof DomainError && e.key === 'lock.reasonRequired';

export function weekdayShort(t: Translate, date: LocalDate): string {
  return t(`today.weekdays.${isoWeekday(date)}`);
}

/** "Пн, 23.11" */
export function dayLabel(t: Translate, date: LocalDate): string {
  return `${weekdayShort(t, date)}, ${dayMonth(date)}`;
}

/** "7Б · Математика (Группа 1)" */
export function lessonName(l: Pick<LessonBrief, 'className' | 'subjectName' | 'groupName'>): string {
  return `${l.className} · ${l.subjectName}${l.groupName ? ` (${l.groupName})` : ''}`;
}

/** Bold title and the when/where line of a lesson, HTML-escaped. */
export function lessonHeader(t: Translate, l: LessonBrief): string {
  const when = [dayLabel(t, l.date)];
  if (l.lessonNo !== undefined) when.push(t('today.lessonNo', { no: l.lessonNo }));
  if (l.start && l.end) when.push(`${l.start}–${l.end}`);
  if (l.room) when.push(t('today.room', { room: l.room }));
  return `<b>${escapeHtml(lessonName(l))}</b>\n${escapeHtml(when.join(' · '))}`;
}

export function missingText(t: Translate, l: LessonSummary): string {
  return l.missing.map((m) => t(`today.missing.${m}`)).join(', ');
}

export const STALE = (ctx: BotContext) => ack(ctx, ctx.t('common.stale'));
