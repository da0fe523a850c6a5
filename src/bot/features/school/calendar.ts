import { Composer, InlineKeyboard } from 'grammy';
import { currentYear } from '../../../domain/school/academic-year.js';
import { isAdmin, readsWholeSchool } from '../../../domain/school/access.js';
import { type CalendarChange, calendarChange, editCalendar, parseGrades, toIsoDate } from '../../../domain/school/calendar-edit.js';
import { changeMarkWindow, markWindowOf, windowState } from '../../../domain/school/mark-windows.js';
import { settingsOf, todayOf } from '../../../domain/school/rules.js';
import { fullDate } from '../../../domain/shared/calendar.js';
import { AccessDenied, DomainError } from '../../../domain/shared/errors.js';
import { cachedSchool } from '../../../db/school-cache.js';
import { escapeHtml } from '../../../i18n.js';
import { periodName } from '../../../notify/render.js';
import { calendarWindowCb } from '../../callbacks/school.js';
import type { BotContext } from '../../context.js';
import { ack, guardedRun, requireActor, show } from '../journal/ui.js';

/**
 * /calendar (R5, R15): the school year with its periods (and the grade levels each is for),
 * their mark windows and the holidays. The admin changes it with one line —
 *   /calendar q2 05.11.2026 28.12.2026 1-9
 *   /calendar holiday 27.10.2026 04.11.2026 Осенние каникулы
 *   /calendar remove h2          /calendar remove-holiday 27.10.2026
 * — and opens, extends or closes a period's mark window with the buttons. Every change goes
 * through the domain (validated as a whole, audited); others with the whole school in view read it.
 */
async function showCalendar(ctx: BotContext, note?: string): Promise<void> {
  const actor = requireActor(ctx);
  if (!readsWholeSchool(actor)) throw new AccessDenied();
  const school = await cachedSchool(ctx.deps.db, actor.schoolId);
  if (!school) throw new AccessDenied();
  const t = ctx.t;
  const today = todayOf({ timezone: school.timezone }, ctx.deps.now());
  const year = await currentYear(ctx.deps.db, actor.schoolId, today, { orUpcoming: true });
  if (!year) return void (await show(ctx, t('calendar.noYear')));
  const days = settingsOf(school).finalMarkWindowDays;
  const lines = [t('calendar.title', { name: year.name, from: fullDate(year.startsOn), to: fullDate(year.endsOn) }), ''];
  const kb = new InlineKeyboard();
  for (const p of year.periods) {
    const w = markWindowOf(p, days);
    const grades = p.grades.length ? t('calendar.grades', { grades: p.grades.join(',') }) : '';
    lines.push(`<b>${periodName(t, p.code)}</b> (${p.code}) ${fullDate(p.startsOn)} — ${fullDate(p.endsOn)} ${grades}`.trim());
    lines.push(`   ${t(`calendar.window.${windowState(w, today)}`, { from: fullDate(w.opensOn), to: fullDate(w.closesOn) })}`);
    if (isAdmin(actor) && year.status === 'active') {
      kb.text(`${p.code}: ${t('periodMarks.windowOpen')}`, calendarWindowCb.pack({ p: p.code, a: 'open' }))
        .text(t('periodMarks.windowWeek'), calendarWindowCb.pack({ p: p.code, a: 'week' }))
        .text(t('periodMarks.windowClose'), calendarWindowCb.pack({ p: p.code, a: 'close' }))
        .row();
    }
  }
  if (year.holidays.length) lines.push('', t('calendar.holidays'));
  for (const h of year.holidays) lines.push(`• ${escapeHtml(h.name)}: ${fullDate(h.startsOn)} — ${fullDate(h.endsOn)}`);
  if (isAdmin(actor)) lines.push('', t('calendar.howToChange'));
  if (note) lines.push('', note);
  await show(ctx, lines.join('\n'), kb);
}

/** One line of the admin's change, or the localized reason it is not one. */
export function parseCalendarLine(args: string): CalendarChange {
  const [head = '', ...rest] = args.trim().split(/\s+/);
  const word = head.toLowerCase();
  const bad = () => new DomainError('calendar.badLine');
  if (word === 'remove') return { op: 'removePeriod', code: (rest[0] ?? '').toLowerCase() };
  if (word === 'remove-holiday') {
    const from = toIsoDate(rest[0]);
    if (!from) throw bad();
    return { op: 'removeHoliday', startsOn: from };
  }
  const [a, b, ...tail] = rest;
  const startsOn = toIsoDate(a);
  const endsOn = toIsoDate(b);
  if (!startsOn || !endsOn) throw bad();
  if (word === 'holiday') {
    const name = tail.join(' ').trim();
    if (!name) throw bad();
    return { op: 'holiday', name: name.slice(0, 60), startsOn, endsOn };
  }
  const grades = tail[0] ? parseGrades(tail[0]) : undefined;
  if (tail[0] && !grades) throw bad();
  return { op: 'period', code: word, startsOn, endsOn, ...(grades ? { grades } : {}) };
}

async function changeByLine(ctx: BotContext, args: string): Promise<void> {
  const actor = requireActor(ctx);
  if (!isAdmin(actor)) throw new AccessDenied();
  const school = await cachedSchool(ctx.deps.db, actor.schoolId);
  const year = school && (await currentYear(ctx.deps.db, actor.schoolId, todayOf({ timezone: school.timezone }, ctx.deps.now()), { orUpcoming: true }));
  if (!year) throw new AccessDenied();
  const change = parseCalendarLine(args);
  const parsed = calendarChange.safeParse(change);
  if (!parsed.success) throw new DomainError('calendar.badLine');
  const res = await editCalendar(ctx.deps.db, actor, { yearId: year.id, changes: [parsed.data] }, ctx.deps.now());
  await showCalendar(ctx, ctx.t(res.changed ? 'calendar.changed' : 'calendar.unchanged'));
}

export function calendarFeature(): Composer<BotContext> {
  const c = new Composer<BotContext>();
  c.command('calendar', (ctx) =>
    guardedRun(ctx, async () => {
      const args = typeof ctx.match === 'string' ? ctx.match.trim() : '';
      if (args) await changeByLine(ctx, args);
      else await showCalendar(ctx);
    }),
  );
  c.callbackQuery(calendarWindowCb.filter, (ctx) =>
    guardedRun(ctx, async () => {
      const d = calendarWindowCb.unpack(ctx.callbackQuery.data);
      if (!d) return void (await ack(ctx, ctx.t('common.stale')));
      const actor = requireActor(ctx);
      const school = await cachedSchool(ctx.deps.db, actor.schoolId);
      const today = school ? todayOf({ timezone: school.timezone }, ctx.deps.now()) : '';
      const year = await currentYear(ctx.deps.db, actor.schoolId, today, { orUpcoming: true });
      if (!year) throw new AccessDenied();
      const change = d.a === 'open' ? { action: 'open' as const } : d.a === 'close' ? { action: 'close' as const } : { action: 'extendDays' as const, days: 7 };
      const w = await changeMarkWindow(ctx.deps.db, actor, { yearId: year.id, periodCode: d.p, change }, ctx.deps.now());
      await ack(ctx);
      await showCalendar(ctx, ctx.t('calendar.windowChanged', { period: periodName(ctx.t, d.p), from: fullDate(w.opensOn), to: fullDate(w.closesOn) }));
    }),
  );
  return c;
}
