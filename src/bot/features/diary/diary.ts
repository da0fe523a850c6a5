import { Composer, InlineKeyboard } from 'grammy';
import type { Locale } from '../../../config.js';
import {
  type Attachment,
  type DiaryDay,
  diaryAttendance,
  diaryHomework,
  diaryMarks,
  diaryTimetable,
  diaryTopics,
  homeworkAttachments,
} from '../../../domain/diary/diary.js';
import type { Names } from '../../../domain/diary/reader.js';
import { AccessDenied } from '../../../domain/shared/errors.js';
import { childMessages } from '../../../domain/messaging/inbox.js';
import { listMyChildren } from '../../../domain/school/people.js';
import { escapeHtml, type Translate } from '../../../i18n.js';
import { periodName } from '../../../notify/render.js';
import { dayMonth, localDate } from '../../../domain/shared/calendar.js';
import { cachedSchool } from '../../../db/school-cache.js';
import { showFinalMarks } from './final-marks.js';
import { type DIARY_SECTIONS, diaryCb, fileCb, prefsChildCb } from '../../callbacks/diary.js';
import { threadOpenCb, writeChildCb } from '../../callbacks/messaging.js';
import { shortId } from '../../callbacks/index.js';
import { reportScopeCb } from '../../callbacks/reports.js';
import type { BotContext } from '../../context.js';
import { withWebAppButton } from '../../webapp.js';
import { showScreen } from '../../ui.js';
import { labelText } from '../messaging/format.js';

/**
 * The diary for parents and students (R24): marks with the weighted average, homework (with its
 * files re-sent by file_id), timetable, attendance, lesson topics. Buttons carry the student id;
 * every read goes through src/domain/diary.ts, which refuses a student the reader may not see
 * (R4) — a forged button shows nothing of another family's child.
 */
type Section = (typeof DIARY_SECTIONS)[number];

/** Pages stay well under Telegram's 4096 characters. */
export const PAGE_CHARS = 3500;

/** Splits blocks of text into pages of at most `max` characters (a block longer than a page is cut). */
export function paginate(blocks: string[], max = PAGE_CHARS): string[] {
  const pages: string[] = [];
  let current = '';
  for (const raw of blocks) {
    const block = raw.length > max ? `${raw.slice(0, max - 1)}…` : raw;
    if (current && current.length + block.length + 2 > max) {
      pages.push(current);
      current = '';
    }
    current = current ? `${current}\n\n${block}` : block;
  }
  if (current) pages.push(current);
  return pages.length ? pages : [''];
}

const fmtAvg = (n: number | undefined, locale: Locale) =>
  n === undefined
    ? '—'
    : n.toLocaleString(locale === 'ru' ? 'ru-RU' : 'en-GB', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

const name = (n: Names, locale: Locale) => n[locale] ?? n.ru;

const show = showScreen;

function pager(kb: InlineKeyboard, a: Section, s: string, mode: number, page: number, pages: number): void {
  if (pages <= 1) return;
  if (page > 0) kb.text('◀', diaryCb.pack({ a, s, p: mode + 10 * (page - 1) }));
  kb.text(`${page + 1}/${pages}`, diaryCb.pack({ a, s, p: mode + 10 * page }));
  if (page < pages - 1) kb.text('▶', diaryCb.pack({ a, s, p: mode + 10 * (page + 1) }));
  kb.row();
}

const back = (kb: InlineKeyboard, t: Translate, s: string) => kb.text(t('diary.back'), diaryCb.pack({ a: 'menu', s, p: 0 }));

/** /diary: the child (or the student themself), then the menu. */
export async function openDiary(ctx: BotContext): Promise<void> {
  const actor = ctx.actor;
  if (!actor) {
    await ctx.reply(ctx.t('diary.guest'));
    return;
  }
  const children = await listMyChildren(ctx.deps.db, actor);
  if (children.length === 0) {
    // Staff with no child here: not "ask the class teacher" — say where their own work is (issue 11).
    const staff = !actor.roles.has('parent') && !actor.roles.has('student');
    const key = !staff ? 'diary.none' : actor.classTeacherOf.size > 0 ? 'diary.staffClassTeacher' : 'diary.staff';
    await ctx.reply(ctx.t(key));
    return;
  }
  if (children.length === 1 && children[0]) {
    await showMenu(ctx, children[0].studentId);
    return;
  }
  const kb = new InlineKeyboard();
  for (const c of children) kb.text(c.name, diaryCb.pack({ a: 'menu', s: c.studentId, p: 0 })).row();
  await show(ctx, ctx.t('diary.chooseChild'), kb);
}

async function showMenu(ctx: BotContext, s: string): Promise<void> {
  const actor = ctx.actor;
  if (!actor) throw new AccessDenied();
  const t = ctx.t;
  // The domain read checks access (R4) before anything is shown.
  const view = await diaryTimetable(ctx.deps.db, actor, s, ctx.deps.now(), 'today');
  const kb = new InlineKeyboard()
    .text(t('diary.menu.marks'), diaryCb.pack({ a: 'm', s, p: 0 }))
    .text(t('diary.menu.homework'), diaryCb.pack({ a: 'h', s, p: 0 }))
    .row()
    .text(t('diary.menu.timetable'), diaryCb.pack({ a: 't', s, p: 0 }))
    .text(t('diary.menu.attendance'), diaryCb.pack({ a: 'a', s, p: 0 }))
    .row()
    .text(t('diary.menu.topics'), diaryCb.pack({ a: 'p', s, p: 0 }))
    .text(t('diary.menu.messages'), diaryCb.pack({ a: 'g', s, p: 0 }))
    .row()
    .text(t('diary.menu.final'), diaryCb.pack({ a: 'f', s, p: 0 }))
    // The report card as a PDF (/reports, issue 14): straight to its periods for this child.
    .text(t('diary.menu.reportCard'), reportScopeCb.pack({ k: 'rc', t: 'p', i: shortId(s), s: '-' }))
    .row()
    .text(t('diary.menu.settings'), prefsChildCb.pack({ s }))
    .row();
  if (actor.childIds.size > 1) kb.text(t('diary.menu.other'), diaryCb.pack({ a: 'k', s, p: 0 }));
  const st = view.student;
  // Marks over time as a chart, attendance as a calendar: the Mini App (issue 15), when configured.
  await show(ctx, t('diary.menu.title', { name: st.name, className: st.className ?? '—' }), withWebAppButton(ctx, kb));
}

async function showMarks(ctx: BotContext, s: string, page: number): Promise<void> {
  const actor = ctx.actor;
  if (!actor) throw new AccessDenied();
  const t = ctx.t;
  const v = await diaryMarks(ctx.deps.db, actor, s, ctx.deps.now());
  const header = t('diary.marks.title', {
    name: v.student.name,
    period: v.period ? periodName(t, v.period.code) : t('diary.marks.recent'),
    from: dayMonth(v.from),
    to: dayMonth(v.to),
  });
  const blocks = v.subjects.map((sub) => {
    const lines = [t('diary.marks.subject', { subject: sub.subject, average: fmtAvg(sub.average, ctx.locale) })];
    for (const m of sub.marks) {
      const kind = name(m.workKindName, ctx.locale);
      lines.push(
        m.weight !== 1
          ? t('diary.marks.lineWeighted', { value: m.value, date: dayMonth(m.date), kind, weight: m.weight })
          : t('diary.marks.line', { value: m.value, date: dayMonth(m.date), kind }),
      );
    }
    if (sub.periodMark) lines.push(t('diary.marks.periodMark', { value: sub.periodMark }));
    return lines.join('\n');
  });
  const pages = paginate(blocks.length ? blocks : [t('diary.marks.none')], PAGE_CHARS - header.length);
  const p = Math.min(page, pages.length - 1);
  const kb = new InlineKeyboard();
  pager(kb, 'm', s, 0, p, pages.length);
  back(kb, t, s);
  await show(ctx, `${header}\n\n${pages[p]}\n\n${t('diary.marks.note')}`, kb);
}

async function showHomework(ctx: BotContext, s: string, mode: number, page: number): Promise<void> {
  const actor = ctx.actor;
  if (!actor) throw new AccessDenied();
  const t = ctx.t;
  const range = mode === 1 ? 'week' : 'tomorrow';
  const v = await diaryHomework(ctx.deps.db, actor, s, ctx.deps.now(), range);
  const header = t(range === 'week' ? 'diary.homework.titleWeek' : 'diary.homework.titleTomorrow', { name: v.student.name });
  const blocks = v.items.map((h) => {
    const files = h.attachments.length ? ` ${t('diary.homework.files', { n: h.attachments.length })}` : '';
    // The whole text (at most 3000, homework.ts): the diary is where families read it in full.
    return `${t('diary.homework.line', { subject: h.subject, date: dayMonth(h.dueOn), text: h.text })}${files}`;
  });
  const pages = paginate(blocks.length ? blocks : [t('diary.homework.none')], PAGE_CHARS - header.length);
  const p = Math.min(page, pages.length - 1);
  const kb = new InlineKeyboard()
    .text(t('diary.homework.tomorrow'), diaryCb.pack({ a: 'h', s, p: 0 }))
    .text(t('diary.homework.week'), diaryCb.pack({ a: 'h', s, p: 1 }))
    .row();
  const seen = new Set<string>();
  for (const h of v.items) {
    if (h.attachments.length === 0 || seen.has(h.lessonId)) continue;
    seen.add(h.lessonId);
    kb.text(t('diary.homework.open', { subject: h.subject, date: dayMonth(h.dueOn) }), fileCb.pack({ l: h.lessonId, s })).row();
    if (seen.size >= 8) break;
  }
  pager(kb, 'h', s, mode, p, pages.length);
  back(kb, t, s);
  await show(ctx, `${header}\n\n${pages[p]}`, kb);
}

function dayBlock(t: Translate, d: DiaryDay, withTopics: boolean): string {
  const lines = [t('diary.day', { weekday: t(`diary.weekdays.${d.weekday}`), date: dayMonth(d.date) })];
  if (d.lessons.length === 0) lines.push(t('diary.timetable.free'));
  for (const l of d.lessons) {
    const time = l.start && l.end ? `${l.start}–${l.end}` : '';
    const room = l.room ? ` ${t('diary.timetable.room', { room: l.room })}` : '';
    let line = t('diary.timetable.line', { n: l.lessonNo, time, subject: l.subject }) + room;
    if (l.cancelled) line = `<s>${line}</s> ${t('diary.timetable.cancelled')}`;
    lines.push(line);
    if (withTopics && l.topic) lines.push(`   ${t('diary.topics.topic', { topic: l.topic })}`);
  }
  return lines.join('\n');
}

async function showTimetable(ctx: BotContext, s: string, mode: number, page: number): Promise<void> {
  const actor = ctx.actor;
  if (!actor) throw new AccessDenied();
  const t = ctx.t;
  const range = mode === 2 ? 'week' : mode === 1 ? 'tomorrow' : 'today';
  const v = await diaryTimetable(ctx.deps.db, actor, s, ctx.deps.now(), range);
  const header = t('diary.timetable.title', { name: v.student.name });
  const pages = paginate(v.days.map((d) => dayBlock(t, d, false)), PAGE_CHARS - header.length);
  const p = Math.min(page, pages.length - 1);
  const kb = new InlineKeyboard()
    .text(t('diary.timetable.today'), diaryCb.pack({ a: 't', s, p: 0 }))
    .text(t('diary.timetable.tomorrow'), diaryCb.pack({ a: 't', s, p: 1 }))
    .text(t('diary.timetable.week'), diaryCb.pack({ a: 't', s, p: 2 }))
    .row();
  pager(kb, 't', s, mode, p, pages.length);
  back(kb, t, s);
  await show(ctx, `${header}\n\n${pages[p]}`, kb);
}

async function showAttendance(ctx: BotContext, s: string, page: number): Promise<void> {
  const actor = ctx.actor;
  if (!actor) throw new AccessDenied();
  const t = ctx.t;
  const v = await diaryAttendance(ctx.deps.db, actor, s, ctx.deps.now());
  const header = [
    t('diary.attendance.title', {
      name: v.student.name,
      period: v.period ? periodName(t, v.period.code) : t('diary.marks.recent'),
    }),
    t('diary.attendance.counts', { n: v.counts.Н ?? 0, b: v.counts.Б ?? 0, u: v.counts.У ?? 0 }),
  ].join('\n');
  const byDate = new Map<string, string[]>();
  for (const a of v.absences) {
    const lines = byDate.get(a.date) ?? [];
    lines.push(t('diary.attendance.line', { n: a.lessonNo ?? '—', subject: a.subject, code: a.code }));
    byDate.set(a.date, lines);
  }
  const blocks = [...byDate].map(([date, lines]) => [`<b>${dayMonth(date)}</b>`, ...lines].join('\n'));
  const pages = paginate(blocks.length ? blocks : [t('diary.attendance.none')], PAGE_CHARS - header.length);
  const p = Math.min(page, pages.length - 1);
  const kb = new InlineKeyboard();
  pager(kb, 'a', s, 0, p, pages.length);
  back(kb, t, s);
  await show(ctx, `${header}\n\n${pages[p]}\n\n${t('diary.attendance.legend')}`, kb);
}

async function showTopics(ctx: BotContext, s: string, page: number): Promise<void> {
  const actor = ctx.actor;
  if (!actor) throw new AccessDenied();
  const t = ctx.t;
  const v = await diaryTopics(ctx.deps.db, actor, s, ctx.deps.now());
  const header = t('diary.topics.title', { name: v.student.name });
  const pages = paginate(
    v.days.length ? v.days.map((d) => dayBlock(t, d, true)) : [t('diary.topics.none')],
    PAGE_CHARS - header.length,
  );
  const p = Math.min(page, pages.length - 1);
  const kb = new InlineKeyboard();
  pager(kb, 'p', s, 0, p, pages.length);
  back(kb, t, s);
  await show(ctx, `${header}\n\n${pages[p]}`, kb);
}

/**
 * R24: messages with teachers in the diary — the reader's conversations about this child (open
 * one to read and answer) and the school's announcements about the child, read or not.
 */
async function showMessages(ctx: BotContext, s: string): Promise<void> {
  const actor = ctx.actor;
  if (!actor) throw new AccessDenied();
  const t = ctx.t;
  const [v, school] = await Promise.all([childMessages(ctx.deps.db, actor, s), cachedSchool(ctx.deps.db, actor.schoolId)]);
  const tz = school?.timezone ?? 'UTC';
  const kb = new InlineKeyboard();
  const lines = [t('diary.messages.title', { name: v.student }), ''];
  if (v.threads.length === 0) lines.push(t('diary.messages.noThreads'));
  for (const e of v.threads) {
    const who = labelText(t, e.with);
    lines.push(t('diary.messages.thread', { with: who, n: e.unread, date: dayMonth(localDate(e.lastAt, tz)) }));
    kb.text(`${e.unread > 0 ? `(${e.unread}) ` : ''}${who}`.slice(0, 60), threadOpenCb.pack({ t: e.threadId, p: 0 })).row();
  }
  if (v.announcements.length > 0) {
    lines.push('', t('diary.messages.announcements'));
    for (const a of v.announcements) {
      const text = a.text.length > 120 ? `${a.text.slice(0, 119)}…` : a.text;
      lines.push(
        t(a.read ? 'diary.messages.announcementRead' : 'diary.messages.announcementUnread', {
          date: dayMonth(localDate(a.at, tz)),
          from: a.from,
          text,
          urgent: a.urgent ? '🚨 ' : '',
        }),
      );
    }
  }
  kb.text(t('diary.messages.write'), writeChildCb.pack({ s })).row();
  back(kb, t, s);
  await show(ctx, lines.join('\n').slice(0, 4096), kb);
}

async function sendAttachment(ctx: BotContext, a: Attachment): Promise<void> {
  const caption = a.name ? escapeHtml(a.name) : undefined;
  if (a.kind === 'photo') await ctx.replyWithPhoto(a.fileId, { caption, parse_mode: 'HTML' });
  else if (a.kind === 'voice') await ctx.replyWithVoice(a.fileId);
  else if (a.kind === 'video') await ctx.replyWithVideo(a.fileId, { caption, parse_mode: 'HTML' });
  else await ctx.replyWithDocument(a.fileId, { caption, parse_mode: 'HTML' });
}

export function diaryFeature() {
  const composer = new Composer<BotContext>();
  composer.command('diary', (ctx) => openDiary(ctx));
  composer.callbackQuery(diaryCb.filter, async (ctx) => {
    const data = diaryCb.unpack(ctx.callbackQuery.data);
    if (!data || !ctx.actor) {
      await ctx.answerCallbackQuery({ text: ctx.t('common.stale') });
      return;
    }
    const mode = data.p % 10;
    const page = Math.floor(data.p / 10);
    // Each view reads through the domain, which refuses a foreign student before anything is sent;
    // the refusal then becomes the query's alert (see the error boundary).
    if (data.a === 'menu') await showMenu(ctx, data.s);
    else if (data.a === 'm') await showMarks(ctx, data.s, page);
    else if (data.a === 'h') await showHomework(ctx, data.s, mode, page);
    else if (data.a === 't') await showTimetable(ctx, data.s, mode, page);
    else if (data.a === 'a') await showAttendance(ctx, data.s, page);
    else if (data.a === 'p') await showTopics(ctx, data.s, page);
    else if (data.a === 'g') await showMessages(ctx, data.s);
    else if (data.a === 'f') await showFinalMarks(ctx, data.s, page);
    else await openDiary(ctx);
    await ctx.answerCallbackQuery();
  });
  composer.callbackQuery(fileCb.filter, async (ctx) => {
    const data = fileCb.unpack(ctx.callbackQuery.data);
    if (!data || !ctx.actor) {
      await ctx.answerCallbackQuery({ text: ctx.t('common.stale') });
      return;
    }
    const files = await homeworkAttachments(ctx.deps.db, ctx.actor, data.s, data.l, ctx.deps.now());
    await ctx.answerCallbackQuery();
    for (const f of files.slice(0, 10)) await sendAttachment(ctx, f);
  });
  return composer;
}
