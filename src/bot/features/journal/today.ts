import { Composer, InlineKeyboard } from 'grammy';
import { addDays, compactDate, fromCompactDate, isLocalDate, isoWeekday, type LocalDate } from '../../../domain/shared/calendar.js';
import {
  type DayLessons,
  getLessonView,
  type LessonSummary,
  type LessonView,
  lessonsForClass,
  lessonsForTeacher,
  recentDates,
  schoolToday,
} from '../../../domain/journal/lessons.js';
import { lessonMarksSheet } from '../../../domain/journal/marks.js';
import { escapeHtml, type Translate } from '../../../i18n.js';
import type { BotContext } from '../../context.js';
import { withWebAppButton } from '../../webapp.js';
import {
  attOpenCb,
  cancelLessonCb,
  classDayCb,
  dayCb,
  homeworkCb,
  lessonCb,
  lessonHistoryCb,
  marksCb,
  pickDateCb,
  topicCb,
} from '../../callbacks/journal.js';
import { ack, dayLabel, guardedRun, lessonHeader, missingText, requireActor, show, STALE } from './ui.js';

/**
 * /today: the teacher's lessons of a day with what is still missing (attendance, topic, homework,
 * marks), a step to yesterday and tomorrow, and a date picker over the last weeks; then the lesson
 * screen with its actions. The class view (/journal) reuses the day list and the lesson screen.
 */
const PICKER_WEEKS = 4;

/** `/today 2026-11-20` or `/today 20.11` opens another day (the current year assumed). */
function parseDayArg(arg: string, today: LocalDate): LocalDate | undefined {
  const a = arg.trim();
  if (!a) return today;
  if (isLocalDate(a)) return a;
  const m = /^(\d{1,2})\.(\d{1,2})$/.exec(a);
  if (!m) return undefined;
  const d = `${today.slice(0, 4)}-${m[2]?.padStart(2, '0')}-${m[1]?.padStart(2, '0')}`;
  return isLocalDate(d) ? d : undefined;
}

function lessonLine(t: Translate, l: LessonSummary): string {
  const head = [l.lessonNo !== undefined ? `${l.lessonNo}.` : '•', l.start ?? '', `${l.className} · ${l.subjectName}`]
    .filter(Boolean)
    .join(' ');
  const group = l.groupName ? ` (${l.groupName})` : '';
  let state: string;
  if (l.status === 'cancelled') state = t('today.cancelled');
  else if (l.missing.length) state = `⚠️ ${missingText(t, l)}`;
  else state = '✅';
  const sub = l.substitution === 'me' ? ` ${t('today.substituting')}` : l.substitution === 'other' ? ` ${t('today.substituted')}` : '';
  const lock = l.locked ? ' 🔒' : '';
  return escapeHtml(`${head}${group}${sub}${lock} — ${state}`);
}

function lessonButton(l: LessonSummary): string {
  const mark = l.status === 'cancelled' ? '🚫' : l.missing.length ? '⚠️' : '✅';
  return `${l.lessonNo ?? '•'} · ${l.className} ${l.subjectName} ${mark}`;
}

function dayKeyboard(t: Translate, day: DayLessons, scope: { classId?: string }): InlineKeyboard {
  const kb = new InlineKeyboard();
  for (const l of day.lessons) kb.text(lessonButton(l), lessonCb.pack({ l: l.id })).row();
  const go = (d: LocalDate) =>
    scope.classId ? classDayCb.pack({ c: scope.classId, d: compactDate(d) }) : dayCb.pack({ d: compactDate(d) });
  const prev = addDays(day.date, isoWeekday(day.date) === 1 ? -2 : -1);
  const next = addDays(day.date, isoWeekday(day.date) === 6 ? 2 : 1);
  kb.text(`« ${dayLabel(t, prev)}`, go(prev))
    .text('📅', pickDateCb.pack({ c: scope.classId ?? '-' }))
    .text(`${dayLabel(t, next)} »`, go(next));
  if (day.date !== day.today) kb.row().text(t('today.backToToday'), go(day.today));
  return kb;
}

function dayText(t: Translate, day: DayLessons, title: string): string {
  const when = `${dayLabel(t, day.date)}${day.date === day.today ? ` (${t('today.todayWord')})` : ''}`;
  const lines = [`<b>${escapeHtml(title)}</b> · ${escapeHtml(when)}`, ''];
  if (day.lessons.length === 0) lines.push(t('today.none'));
  else lines.push(...day.lessons.map((l) => lessonLine(t, l)));
  return lines.join('\n');
}

export async function showTeacherDay(ctx: BotContext, date: LocalDate): Promise<void> {
  const actor = requireActor(ctx);
  const day = await lessonsForTeacher(ctx.deps.db, actor, date, ctx.deps.now());
  // The whole class's quarter is a table: the Mini App's grid (issue 15), when it is configured.
  await show(ctx, dayText(ctx.t, day, ctx.t('today.title')), withWebAppButton(ctx, dayKeyboard(ctx.t, day, {})));
}

export async function showClassDay(ctx: BotContext, classId: string, date: LocalDate): Promise<void> {
  const actor = requireActor(ctx);
  const day = await lessonsForClass(ctx.deps.db, actor, classId, date, ctx.deps.now());
  await show(ctx, dayText(ctx.t, day, ctx.t('journal.classTitle', { className: day.className })), dayKeyboard(ctx.t, day, { classId }));
}

async function showDatePicker(ctx: BotContext, scope: string): Promise<void> {
  const actor = requireActor(ctx);
  const today = await schoolToday(ctx.deps.db, actor, ctx.deps.now());
  const dates = recentDates(today, PICKER_WEEKS);
  const kb = new InlineKeyboard();
  // One row per week, Monday to Saturday, newest week first.
  const weeks = new Map<string, LocalDate[]>();
  for (const d of dates) {
    const monday = addDays(d, 1 - isoWeekday(d));
    const list = weeks.get(monday) ?? [];
    list.push(d);
    weeks.set(monday, list);
  }
  for (const week of weeks.values()) {
    for (const d of week.sort()) {
      const label = `${d === today ? '• ' : ''}${d.slice(8, 10)}.${d.slice(5, 7)}`;
      kb.text(label, scope === '-' ? dayCb.pack({ d: compactDate(d) }) : classDayCb.pack({ c: scope, d: compactDate(d) }));
    }
    kb.row();
  }
  await show(ctx, ctx.t('today.pickDate'), kb);
}

function lessonText(t: Translate, v: LessonView, marksLine?: string): string {
  const lines = [lessonHeader(t, v)];
  lines.push(t('today.teacher', { name: v.teacherName }));
  if (v.substituteName) lines.push(t('today.substitute', { name: v.substituteName }));
  if (v.status === 'cancelled') {
    lines.push('', t('today.cancelledWhy', { reason: v.cancelReason ?? '—' }));
    return lines.join('\n');
  }
  lines.push('');
  lines.push(t('today.topicLine', { topic: v.topic ?? '—' }));
  const hw = v.homeworkText ?? (v.homeworkFiles ? '' : '—');
  lines.push(t('today.homeworkLine', { text: hw }) + (v.homeworkFiles ? ` 📎${v.homeworkFiles}` : ''));
  lines.push(
    v.attendanceTaken
      ? t('today.attendanceTaken', { absent: v.absentCount })
      : t('today.attendanceMissing'),
  );
  lines.push(t('today.marksCount', { count: v.marksCount }));
  if (marksLine) lines.push(marksLine);
  if (v.missing.length) lines.push('', `⚠️ ${t('today.missingLine', { what: missingText(t, v) })}`);
  if (v.locked) lines.push('', t('lock.badge'));
  return lines.join('\n');
}

export async function showLesson(ctx: BotContext, lessonId: string): Promise<void> {
  const actor = requireActor(ctx);
  const { db } = ctx.deps;
  const v = await getLessonView(db, actor, lessonId, ctx.deps.now());
  const t = ctx.t;
  let marksLine: string | undefined;
  if (!v.rights.edit && v.marksCount > 0) {
    // R26: the class teacher (and other readers) see the marks of the lesson, read-only.
    const sheet = await lessonMarksSheet(db, actor, lessonId, ctx.deps.now());
    const parts = sheet.students
      .filter((s) => s.marks.length)
      .map((s) => `${s.label} ${s.marks.map((m) => m.value).join(',')}`);
    marksLine = escapeHtml(parts.join('; ')).slice(0, 3000);
  }
  const kb = new InlineKeyboard();
  if (v.rights.edit && v.status !== 'cancelled') {
    kb.text(t('today.actions.attendance'), attOpenCb.pack({ l: v.id }))
      .text(t('today.actions.marks'), marksCb.pack({ l: v.id, k: 0 }))
      .row();
  }
  if (v.rights.edit) {
    kb.text(t('today.actions.topic'), topicCb.pack({ l: v.id })).text(t('today.actions.homework'), homeworkCb.pack({ l: v.id })).row();
  } else if (v.status !== 'cancelled' && actor.classTeacherOf.has(v.classId)) {
    // R18: the class teacher marks the class's students taught at home, in any subject (the domain
    // refuses the other students).
    kb.text(t('today.actions.marks'), marksCb.pack({ l: v.id, k: 0 })).row();
  }
  if (v.rights.cancel && v.status !== 'cancelled') kb.text(t('today.actions.cancel'), cancelLessonCb.pack({ l: v.id })).row();
  if (v.rights.history) kb.text(t('today.actions.history'), lessonHistoryCb.pack({ l: v.id, p: 0 })).row();
  const ownDay = v.rights.edit && actor.roles.has('teacher') && !actor.roles.has('admin');
  kb.text(
    t('today.backToDay'),
    ownDay ? dayCb.pack({ d: compactDate(v.date) }) : classDayCb.pack({ c: v.classId, d: compactDate(v.date) }),
  );
  await show(ctx, lessonText(t, v, marksLine), kb);
}

export function todayFeature() {
  const composer = new Composer<BotContext>();
  composer.command('today', (ctx) =>
    guardedRun(ctx, async () => {
      const actor = ctx.actor;
      if (!actor) {
        await ctx.reply(ctx.t('help.guest'));
        return;
      }
      if (!actor.roles.has('teacher')) {
        await ctx.reply(ctx.t('today.notTeacher'));
        return;
      }
      const today = await schoolToday(ctx.deps.db, actor, ctx.deps.now());
      const date = parseDayArg(ctx.match, today);
      if (!date) {
        await ctx.reply(ctx.t('journal.badDate'));
        return;
      }
      await showTeacherDay(ctx, date);
    }),
  );
  composer.callbackQuery(dayCb.filter, (ctx) =>
    guardedRun(ctx, async () => {
      const date = fromCompactDate(dayCb.unpack(ctx.callbackQuery.data)?.d ?? '');
      if (!date) return STALE(ctx);
      await showTeacherDay(ctx, date);
      await ack(ctx);
    }),
  );
  composer.callbackQuery(classDayCb.filter, (ctx) =>
    guardedRun(ctx, async () => {
      const data = classDayCb.unpack(ctx.callbackQuery.data);
      const date = fromCompactDate(data?.d ?? '');
      if (!data || !date) return STALE(ctx);
      await showClassDay(ctx, data.c, date);
      await ack(ctx);
    }),
  );
  composer.callbackQuery(pickDateCb.filter, (ctx) =>
    guardedRun(ctx, async () => {
      const data = pickDateCb.unpack(ctx.callbackQuery.data);
      if (!data) return STALE(ctx);
      await showDatePicker(ctx, data.c);
      await ack(ctx);
    }),
  );
  composer.callbackQuery(lessonCb.filter, (ctx) =>
    guardedRun(ctx, async () => {
      const data = lessonCb.unpack(ctx.callbackQuery.data);
      if (!data) return STALE(ctx);
      await showLesson(ctx, data.l);
      await ack(ctx);
    }),
  );
  return composer;
}
