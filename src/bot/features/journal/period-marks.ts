import { Composer, InlineKeyboard } from 'grammy';
import type { PeriodValue } from '../../../domain/journal/assessment.js';
import { missingByClass, myPeriodTargets, classPeriodTargets, resolvePeriodRef, type PeriodTarget } from '../../../domain/journal/period-overview.js';
import { acceptSuggestions, type PeriodSheet, periodMarkSheet, type SheetRow, setPeriodMarks } from '../../../domain/journal/period-marks.js';
import { readsWholeSchool } from '../../../domain/school/access.js';
import { changeMarkWindow, type WindowChange } from '../../../domain/school/mark-windows.js';
import { dayMonth, fullDate } from '../../../domain/shared/calendar.js';
import { escapeHtml, type Translate } from '../../../i18n.js';
import { periodName } from '../../../notify/render.js';
import { longId as long, shortId as short } from '../../callbacks/index.js';
import { pmAcceptCb, pmClassCb, pmListCb, pmSheetCb, pmStudentCb, pmValueCb, pmWindowCb } from '../../callbacks/journal.js';
import type { BotContext } from '../../context.js';
import { askReasonThenRun } from './actions.js';
import { ack, guardedRun, requireActor, show } from './ui.js';

/**
 * /periodmarks (R15–R17, R7): the teacher's period and year marks for a class or group × subject —
 * every student with the period's average, marks, absences and the suggested mark; one tap accepts
 * every suggestion, a tap on a student changes one. The deputy sees per class what is missing and
 * fills a missing mark after the window with a reason; the admin opens, extends or closes a class's
 * window from the same screen. Every rule is checked again in the domain.
 *
 * Buttons carry the class or group and the subject as 16 characters of base64url (24 hex would
 * not fit 64 bytes), the period code, and a student as an index into the roster with the roster's
 * own short hash, so a press never lands on another student after the class changed.
 */
type Ref = { g: boolean; o: string; j: string; p: string };
const refOf = (t: Pick<PeriodTarget, 'classId' | 'groupId' | 'subjectId' | 'periodCode'>): Ref => ({
  g: Boolean(t.groupId),
  o: short(t.groupId ?? t.classId),
  j: short(t.subjectId),
  p: t.periodCode,
});

const rosterHash = (rows: readonly SheetRow[]) =>
  Buffer.from(
    rows
      .map((r) => r.studentId.slice(-6))
      .join('')
      .split('')
      .reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7)
      .toString(36)
      .padStart(6, '0'),
  )
    .toString('base64url')
    .slice(0, 6);

async function sheetOf(ctx: BotContext, r: Ref): Promise<PeriodSheet> {
  const actor = requireActor(ctx);
  const periodRef = await resolvePeriodRef(ctx.deps.db, actor, { isGroup: r.g, id: long(r.o), subjectId: long(r.j), periodCode: r.p }, ctx.deps.now());
  return periodMarkSheet(ctx.deps.db, actor, periodRef, ctx.deps.now());
}

const avg = (n: number | undefined) => (n === undefined ? '—' : n.toFixed(2).replace('.', ','));

function rowLine(t: Translate, i: number, r: SheetRow, year: boolean): string {
  const abs = r.absences.Н + r.absences.Б + r.absences.У;
  const facts = year
    ? t('periodMarks.rowYear', { periods: (r.periodValues ?? []).join(' '), average: avg(r.average) })
    : t('periodMarks.row', { average: avg(r.average), marks: r.marks, absent: abs });
  const suggested = r.suggested ? ` → ${r.suggested}` : '';
  const value = r.value ? ` · <b>${r.value}</b>` : '';
  return `${i + 1}. ${escapeHtml(r.name)} — ${facts}${suggested}${value}`;
}

function windowLine(t: Translate, s: PeriodSheet): string {
  const w = s.window;
  return t(`periodMarks.window.${w.state}`, { from: fullDate(w.opensOn), to: fullDate(w.closesOn) });
}

async function showSheet(ctx: BotContext, r: Ref, note?: string): Promise<void> {
  const s = await sheetOf(ctx, r);
  const t = ctx.t;
  const year = s.period.kind === 'year';
  const title = `${s.className}${s.groupName ? ` (${s.groupName})` : ''} · ${s.subjectName}`;
  const lines = [
    `📊 <b>${escapeHtml(title)}</b>`,
    t('periodMarks.periodLine', { period: periodName(t, s.period.code), from: dayMonth(s.period.startsOn), to: dayMonth(s.period.endsOn) }),
    windowLine(t, s),
    t(s.assessment === 'passfail' ? 'periodMarks.legendPassFail' : 'periodMarks.legend'),
    '',
    ...s.rows.map((row, i) => rowLine(t, i, row, year)),
  ];
  if (note) lines.push('', note);
  if (s.edit === 'deputy') lines.push('', t('periodMarks.deputyHint'));
  const kb = new InlineKeyboard();
  const open = s.rows.filter((row) => row.suggested && !row.value).length;
  if (s.edit !== 'none' && open > 0 && s.edit !== 'deputy') kb.text(t('periodMarks.acceptAll', { count: open }), pmAcceptCb.pack(r)).row();
  if (s.edit !== 'none') {
    const h = rosterHash(s.rows);
    s.rows.forEach((row, i) => {
      const label = `${i + 1}. ${row.name.split(' ').slice(0, 2).join(' ')}${row.value ? ` · ${row.value}` : ''}`;
      kb.text(label, pmStudentCb.pack({ ...r, i, h }));
      if (i % 2 === 1) kb.row();
    });
    if (s.rows.length % 2 === 1) kb.row();
  }
  if (s.edit === 'admin') {
    kb.text(t('periodMarks.windowOpen'), pmWindowCb.pack({ ...r, a: 'open' }))
      .text(t('periodMarks.windowWeek'), pmWindowCb.pack({ ...r, a: 'week' }))
      .text(t('periodMarks.windowClose'), pmWindowCb.pack({ ...r, a: 'close' }))
      .row();
  }
  kb.text(t('periodMarks.refresh'), pmSheetCb.pack(r)).text(t('periodMarks.backToList'), pmListCb.pack({}));
  await show(ctx, lines.join('\n'), kb);
}

async function showStudent(ctx: BotContext, d: Ref & { i: number; h: string }): Promise<void> {
  const s = await sheetOf(ctx, d);
  const row = s.rows[d.i];
  if (!row || rosterHash(s.rows) !== d.h) return void (await ack(ctx, ctx.t('common.stale')));
  const t = ctx.t;
  const lines = [rowLine(t, d.i, row, s.period.kind === 'year'), '', t('periodMarks.pickValue')];
  if (s.reasonRequired) lines.push(t('periodMarks.reasonWillBeAsked'));
  const kb = new InlineKeyboard();
  const values: readonly PeriodValue[] = s.assessment === 'passfail' ? ['К'] : ['2', '3', '4', '5'];
  const button = (v: PeriodValue) => kb.text(v === row.value ? `• ${v}` : v === row.suggested ? `${v} ✱` : v, pmValueCb.pack({ ...d, v }));
  for (const v of values) button(v);
  kb.row();
  for (const v of ['Н', 'Б', 'У'] as const) button(v);
  kb.row().text(t('periodMarks.backToSheet'), pmSheetCb.pack({ g: d.g, o: d.o, j: d.j, p: d.p }));
  await show(ctx, lines.join('\n'), kb);
}

async function saveValue(ctx: BotContext, d: Ref & { i: number; h: string; v: PeriodValue }): Promise<void> {
  const s = await sheetOf(ctx, d);
  const row = s.rows[d.i];
  if (!row || rosterHash(s.rows) !== d.h) return void (await ack(ctx, ctx.t('common.stale')));
  const r: Ref = { g: d.g, o: d.o, j: d.j, p: d.p };
  const entries = [{ studentId: row.studentId, value: d.v }];
  if (s.reasonRequired) {
    await ack(ctx);
    return askReasonThenRun(ctx, { k: 'periodMarks', ref: s.ref, entries });
  }
  await setPeriodMarks(ctx.deps.db, requireActor(ctx), s.ref, entries, {}, ctx.deps.now());
  await ack(ctx, ctx.t('periodMarks.saved', { name: row.name, value: d.v }));
  await showSheet(ctx, r);
}

async function acceptAll(ctx: BotContext, r: Ref): Promise<void> {
  const s = await sheetOf(ctx, r);
  if (s.reasonRequired) {
    await ack(ctx);
    return askReasonThenRun(ctx, { k: 'periodAccept', ref: s.ref });
  }
  const res = await acceptSuggestions(ctx.deps.db, requireActor(ctx), s.ref, {}, ctx.deps.now());
  await ack(ctx);
  await showSheet(ctx, r, ctx.t('periodMarks.accepted', { saved: res.saved, left: res.withoutSuggestion }));
}

async function changeWindow(ctx: BotContext, d: Ref & { a: 'open' | 'week' | 'close' }): Promise<void> {
  const s = await sheetOf(ctx, d);
  const change: WindowChange = d.a === 'open' ? { action: 'open' } : d.a === 'close' ? { action: 'close' } : { action: 'extendDays', days: 7 };
  const w = await changeMarkWindow(ctx.deps.db, requireActor(ctx), { yearId: s.ref.yearId, periodCode: s.ref.periodCode, classId: s.ref.classId, change }, ctx.deps.now());
  await ack(ctx);
  await showSheet(ctx, d, ctx.t('periodMarks.windowChanged', { className: s.className, from: fullDate(w.opensOn), to: fullDate(w.closesOn) }));
}

function targetButton(t: Translate, x: PeriodTarget): string {
  const name = `${x.className}${x.groupName ? ` (${x.groupName})` : ''} · ${x.subjectName} · ${periodName(t, x.periodCode)}`;
  const state = x.window.state === 'open' ? (x.missing > 0 ? `✏️ ${x.missing}` : '✅') : x.missing > 0 ? `🔒 ${x.missing}` : '🔒';
  return `${name} · ${state}`;
}

async function showList(ctx: BotContext): Promise<void> {
  const actor = requireActor(ctx);
  const t = ctx.t;
  const now = ctx.deps.now();
  const lines = [`📊 <b>${t('periodMarks.title')}</b>`, t('periodMarks.intro')];
  const kb = new InlineKeyboard();
  const mine = await myPeriodTargets(ctx.deps.db, actor, now);
  for (const x of mine) kb.text(targetButton(t, x), pmSheetCb.pack(refOf(x))).row();
  if (readsWholeSchool(actor) || actor.classTeacherOf.size > 0) {
    const classes = readsWholeSchool(actor) ? await missingByClass(ctx.deps.db, actor, now) : [];
    if (classes.length) {
      lines.push('', t('periodMarks.byClass'));
      for (const c of classes) {
        lines.push(t('periodMarks.classLine', { className: c.className, period: periodName(t, c.periodCode), missing: c.missing }));
        for (const sub of c.subjects.slice(0, 6)) lines.push(`   · ${escapeHtml(sub.subjectName)} — ${escapeHtml(sub.teacherName)}: ${sub.missing}`);
        kb.text(`${c.className} · ${c.missing}`, pmClassCb.pack({ c: short(c.classId) }));
      }
      kb.row();
    }
    for (const id of actor.classTeacherOf) kb.text(t('periodMarks.myClass'), pmClassCb.pack({ c: short(id) })).row();
  }
  if (mine.length === 0 && kb.inline_keyboard.flat().length === 0) lines.push('', t('periodMarks.nothing'));
  await show(ctx, lines.join('\n'), kb);
}

async function showClass(ctx: BotContext, classShort: string): Promise<void> {
  const targets = await classPeriodTargets(ctx.deps.db, requireActor(ctx), long(classShort), ctx.deps.now());
  const t = ctx.t;
  const kb = new InlineKeyboard();
  for (const x of targets) kb.text(targetButton(t, x), pmSheetCb.pack(refOf(x))).row();
  kb.text(t('periodMarks.backToList'), pmListCb.pack({}));
  await show(ctx, `📊 <b>${escapeHtml(targets[0]?.className ?? '')}</b>\n${t('periodMarks.pickSubject')}`, kb);
}

export function periodMarksFeature(): Composer<BotContext> {
  const c = new Composer<BotContext>();
  c.command('periodmarks', (ctx) => guardedRun(ctx, () => showList(ctx)));
  const on = <T>(cb: { filter: RegExp; unpack(d: string | undefined): T | undefined }, fn: (ctx: BotContext, d: T) => Promise<void>) =>
    c.callbackQuery(cb.filter, (ctx) =>
      guardedRun(ctx, async () => {
        const d = cb.unpack(ctx.callbackQuery.data);
        if (!d) return void (await ack(ctx, ctx.t('common.stale')));
        await fn(ctx, d);
        await ack(ctx);
      }),
    );
  on(pmListCb, (ctx) => showList(ctx));
  on(pmClassCb, (ctx, d) => showClass(ctx, d.c));
  on(pmSheetCb, (ctx, d) => showSheet(ctx, d));
  on(pmAcceptCb, (ctx, d) => acceptAll(ctx, d));
  on(pmStudentCb, (ctx, d) => showStudent(ctx, d));
  on(pmValueCb, (ctx, d) => saveValue(ctx, d));
  on(pmWindowCb, (ctx, d) => changeWindow(ctx, d));
  return c;
}
