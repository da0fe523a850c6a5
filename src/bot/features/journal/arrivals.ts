import { Composer, InlineKeyboard } from 'grammy';
import type { PERIOD_MARK_VALUES } from '../../../domain/shared/vocabulary.js';
import {
  type ArrivalStep,
  type ArrivalStudent,
  arrivalPeriods,
  arrivalSubjects,
  listArrivals,
  saveArrivalMark,
  TRANSFER_MARK_DAYS,
} from '../../../domain/journal/arrivals.js';
import { addDays, fullDate } from '../../../domain/shared/calendar.js';
import { escapeHtml, type Translate } from '../../../i18n.js';
import { periodName } from '../../../notify/render.js';
import { longId as long, shortId as short } from '../../callbacks/index.js';
import { arrivalPeriodCb, arrivalStudentCb, arrivalSubjectCb, arrivalsListCb, arrivalValueCb } from '../../callbacks/journal.js';
import type { BotContext } from '../../context.js';
import { ack, guardedRun, requireActor, STALE, show } from './ui.js';

/**
 * /arrivals (R18): the class teacher enters the period marks of a student who arrived mid-year,
 * from the previous school's report, within TRANSFER_MARK_DAYS of enrolment (the admin at any
 * time): student → period → subject → mark. The screens only parse and render; the reads, the
 * rights and the window are domain/journal/arrivals.ts.
 *
 * Buttons carry student, year and subject in full, so a press can never land on another student or
 * subject; to fit 64 bytes the ObjectIds travel as 16 characters of base64url instead of 24 hex.
 */
type PeriodValue = (typeof PERIOD_MARK_VALUES)[number];

const LIST_MAX = 50;
const MARK_VALUES: readonly PeriodValue[] = ['2', '3', '4', '5'];
const NOT_ASSESSED: readonly PeriodValue[] = ['Н', 'Б', 'У'];

type Step = { s: string; y: string; p: number };
const stepOf = (b: Step): ArrivalStep => ({ studentId: long(b.s), yearId: long(b.y), period: b.p });

function studentHead(t: Translate, student: ArrivalStudent): string {
  const lines = [`🧳 <b>${escapeHtml(student.name)}</b> · ${escapeHtml(student.className)}`];
  lines.push(
    student.enrolledOn
      ? t('arrivals.enrolled', { date: fullDate(student.enrolledOn), until: fullDate(addDays(student.enrolledOn, TRANSFER_MARK_DAYS)) })
      : t('arrivals.noEnrolment'),
  );
  return lines.join('\n');
}

// ─────────────── screens ───────────────

async function showArrivals(ctx: BotContext): Promise<void> {
  const rows = await listArrivals(ctx.deps.db, requireActor(ctx), ctx.deps.now());
  const t = ctx.t;
  const lines = [`🧳 ${t('arrivals.title')}`, t('arrivals.intro', { days: TRANSFER_MARK_DAYS }), ''];
  const kb = new InlineKeyboard();
  if (rows.length === 0) lines.push(t('arrivals.none', { days: TRANSFER_MARK_DAYS }));
  else lines.push(t('arrivals.pickStudent'));
  for (const r of rows.slice(0, LIST_MAX)) {
    kb.text(`${r.className} · ${r.name} · ${fullDate(r.date).slice(0, 5)}`, arrivalStudentCb.pack({ s: short(r.studentId) })).row();
  }
  if (rows.length > LIST_MAX) lines.push(t('arrivals.more', { count: rows.length - LIST_MAX }));
  await show(ctx, lines.join('\n'), kb);
}

async function showPeriods(ctx: BotContext, studentShort: string): Promise<void> {
  const { student, yearId, periods } = await arrivalPeriods(ctx.deps.db, requireActor(ctx), long(studentShort), ctx.deps.now());
  const t = ctx.t;
  const lines = [studentHead(t, student), ''];
  const kb = new InlineKeyboard();
  if (!yearId) lines.push(t('arrivals.noYear'));
  else if (periods.length === 0) lines.push(t('arrivals.noPeriods'));
  else lines.push(t('arrivals.pickPeriod'));
  if (yearId) for (const p of periods) kb.text(periodName(t, p.code), arrivalPeriodCb.pack({ s: studentShort, y: short(yearId), p: p.index }));
  kb.row().text(t('arrivals.backToList'), arrivalsListCb.pack({}));
  await show(ctx, lines.join('\n'), kb);
}

async function showSubjects(ctx: BotContext, step: Step, note?: string, next?: { id: string; name: string }): Promise<void> {
  const view = await arrivalSubjects(ctx.deps.db, requireActor(ctx), stepOf(step));
  if (!view) return STALE(ctx);
  const { student, subjects } = view;
  const t = ctx.t;
  const lines = [studentHead(t, student), t('arrivals.periodLine', { period: periodName(t, view.periodCode) }), ''];
  if (note) lines.push(note, '');
  lines.push(subjects.length ? t('arrivals.pickSubject') : t('arrivals.noSubjects'));
  const kb = new InlineKeyboard();
  if (next) kb.text(t('arrivals.nextSubject', { subject: next.name }), arrivalSubjectCb.pack({ ...step, j: short(next.id) })).row();
  subjects.forEach((s, i) => {
    kb.text(s.value ? `${s.name} · ${s.value}` : s.name, arrivalSubjectCb.pack({ ...step, j: short(s.id) }));
    if (i % 2 === 1) kb.row();
  });
  if (subjects.length % 2 === 1) kb.row();
  kb.text(t('arrivals.backToPeriods'), arrivalStudentCb.pack({ s: step.s })).text(t('arrivals.backToList'), arrivalsListCb.pack({}));
  await show(ctx, lines.join('\n'), kb);
}

async function showValues(ctx: BotContext, step: Step & { j: string }): Promise<void> {
  const view = await arrivalSubjects(ctx.deps.db, requireActor(ctx), stepOf(step));
  const subject = view?.subjects.find((s) => s.id === long(step.j));
  if (!view || !subject) return STALE(ctx);
  const t = ctx.t;
  const lines = [
    studentHead(t, view.student),
    t('arrivals.periodLine', { period: periodName(t, view.periodCode) }),
    t('arrivals.subjectLine', { subject: subject.name }),
  ];
  if (subject.value) lines.push(t('arrivals.current', { value: subject.value }));
  lines.push('', t('arrivals.pickValue'), t(subject.passFail ? 'arrivals.codesPassFail' : 'arrivals.codes'));
  const kb = new InlineKeyboard();
  const mark = (v: PeriodValue) => kb.text(v === subject.value ? `• ${v}` : v, arrivalValueCb.pack({ ...step, v }));
  // R16: К is the pass of a subject taught without marks; 2–5 are for the others.
  for (const v of subject.passFail ? (['К'] as const) : MARK_VALUES) mark(v);
  kb.row();
  for (const v of NOT_ASSESSED) mark(v);
  kb.row().text(t('arrivals.backToSubjects'), arrivalPeriodCb.pack({ s: step.s, y: step.y, p: step.p }));
  await show(ctx, lines.join('\n'), kb);
}

async function saveValue(ctx: BotContext, data: Step & { j: string; v: PeriodValue }): Promise<void> {
  const input = { ...stepOf(data), subjectId: long(data.j), value: data.v };
  const out = await saveArrivalMark(ctx.deps.db, requireActor(ctx), input, ctx.deps.now());
  if (!out) return STALE(ctx);
  const t = ctx.t;
  const vars = { subject: out.subject.name, value: data.v, period: periodName(t, out.periodCode) };
  await showSubjects(ctx, data, t(out.saved ? 'arrivals.saved' : 'arrivals.savedAlready', vars), out.next);
  await ack(ctx, t('arrivals.savedShort', { value: data.v }));
}

export function transferMarksFeature() {
  const composer = new Composer<BotContext>();
  composer.command('arrivals', (ctx) =>
    guardedRun(ctx, async () => {
      if (!ctx.actor) {
        await ctx.reply(ctx.t('help.guest'));
        return;
      }
      await showArrivals(ctx);
    }),
  );
  composer.callbackQuery(arrivalsListCb.filter, (ctx) =>
    guardedRun(ctx, async () => {
      await showArrivals(ctx);
      await ack(ctx);
    }),
  );
  composer.callbackQuery(arrivalStudentCb.filter, (ctx) =>
    guardedRun(ctx, async () => {
      const data = arrivalStudentCb.unpack(ctx.callbackQuery.data);
      if (!data) return STALE(ctx);
      await showPeriods(ctx, data.s);
      await ack(ctx);
    }),
  );
  composer.callbackQuery(arrivalPeriodCb.filter, (ctx) =>
    guardedRun(ctx, async () => {
      const data = arrivalPeriodCb.unpack(ctx.callbackQuery.data);
      if (!data) return STALE(ctx);
      await showSubjects(ctx, data);
      await ack(ctx);
    }),
  );
  composer.callbackQuery(arrivalSubjectCb.filter, (ctx) =>
    guardedRun(ctx, async () => {
      const data = arrivalSubjectCb.unpack(ctx.callbackQuery.data);
      if (!data) return STALE(ctx);
      await showValues(ctx, data);
      await ack(ctx);
    }),
  );
  composer.callbackQuery(arrivalValueCb.filter, (ctx) =>
    guardedRun(ctx, async () => {
      const data = arrivalValueCb.unpack(ctx.callbackQuery.data);
      if (!data) return STALE(ctx);
      await saveValue(ctx, data);
    }),
  );
  return composer;
}
