import { Composer, InlineKeyboard } from 'grammy';
import { listPeExemptions, recordPeExemption, revokePeExemption } from '../../../domain/journal/exemptions.js';
import { currentYear } from '../../../domain/school/academic-year.js';
import { listClasses, listClassStudents } from '../../../domain/school/people.js';
import { loadSchoolRules, todayOf } from '../../../domain/school/rules.js';
import { addDays, fullDate } from '../../../domain/shared/calendar.js';
import { AccessDenied } from '../../../domain/shared/errors.js';
import { confirmTimetable, draftTimetable } from '../../../domain/year/close.js';
import { type ClassOutcomes, classOutcomes, cycleOutcome, toggleRetake } from '../../../domain/year/outcomes.js';
import { escapeHtml, type Translate } from '../../../i18n.js';
import {
  outcomeClassCb,
  outcomeRetakeCb,
  outcomeTapCb,
  PE_SPANS,
  peAddCb,
  peRevokeCb,
  peStudentCb,
  timetableConfirmCb,
} from '../../callbacks/year.js';
import type { BotContext } from '../../context.js';
import { ack, guardedRun, requireActor, show } from '../journal/ui.js';

/**
 * The year's end in the bot: /outcomes (the secretary, R5: a class list, promoted by default, one
 * tap cycles a student's outcome; conditional asks which subjects to retake), /newyear (the deputy
 * confirms the carried-over timetable, R7) and /pe (the class teacher records a PE exemption, R21).
 * Thin: every rule and right is in domain/year and domain/journal/exemptions.ts.
 */
const ICON: Record<string, string> = { promoted: '✅', conditional: '⚠️', repeating: '🔁', expelled: '⛔', graduated: '🎓' };

function outcomesScreen(t: Translate, view: ClassOutcomes, retakeFor?: string): { text: string; kb: InlineKeyboard } {
  const kb = new InlineKeyboard();
  const lines = [t('yearEnd.bot.title', { className: escapeHtml(view.className), year: view.yearName }), t('yearEnd.bot.legend'), ''];
  const subjectName = new Map(view.subjects.map((s) => [s.id, s.name]));
  for (const s of view.students) {
    const retake = s.outcome === 'conditional' && s.retakeSubjectIds.length ? ` (${s.retakeSubjectIds.map((id) => subjectName.get(id) ?? '?').join(', ')})` : '';
    kb.text(`${ICON[s.outcome] ?? ''} ${s.name}${retake}`.slice(0, 60), outcomeTapCb.pack({ c: view.classId, s: s.studentId })).row();
  }
  const student = retakeFor ? view.students.find((s) => s.studentId === retakeFor) : undefined;
  if (student?.outcome === 'conditional') {
    lines.push(t('yearEnd.bot.pickRetake', { name: escapeHtml(student.name) }));
    view.subjects.forEach((subj, i) => {
      const on = student.retakeSubjectIds.includes(subj.id);
      kb.text(`${on ? '☑️' : '⬜️'} ${subj.name}`, outcomeRetakeCb.pack({ c: view.classId, s: student.studentId, i }));
      if (i % 2 === 1) kb.row();
    });
    kb.row();
  }
  return { text: lines.join('\n'), kb };
}

async function showOutcomes(ctx: BotContext, classId: string, retakeFor?: string): Promise<void> {
  const view = await classOutcomes(ctx.deps.db, requireActor(ctx), classId, ctx.deps.now());
  const { text, kb } = outcomesScreen(ctx.t, view, retakeFor);
  await show(ctx, text, kb);
}

const SPAN_DAYS: Record<(typeof PE_SPANS)[number], number> = { '2w': 13, '1m': 30, '3m': 91, y: 0 };

async function showPeStudent(ctx: BotContext, studentId: string): Promise<void> {
  const actor = requireActor(ctx);
  const today = todayOf(await loadSchoolRules(ctx.deps.db, actor.schoolId), ctx.deps.now());
  const list = await listPeExemptions(ctx.deps.db, actor, studentId, today);
  const kb = new InlineKeyboard();
  const lines = [ctx.t('pe.bot.studentTitle'), ''];
  if (list.length === 0) lines.push(ctx.t('pe.bot.none'));
  for (const e of list) {
    lines.push(ctx.t('pe.bot.line', { from: fullDate(e.from), to: fullDate(e.to) }));
    kb.text(ctx.t('pe.bot.revoke', { from: fullDate(e.from) }), peRevokeCb.pack({ e: e.id })).row();
  }
  lines.push('', ctx.t('pe.bot.pickSpan'));
  for (const d of PE_SPANS) kb.text(ctx.t(`pe.bot.span.${d}`), peAddCb.pack({ s: studentId, d }));
  await show(ctx, lines.join('\n'), kb.row());
}

/** A button of this feature: unpacked (a forged or stale one is answered as stale), refusals answered clearly. */
function onButton<D>(c: Composer<BotContext>, cb: { filter: RegExp; unpack(data: string | undefined): D | undefined }, run: (ctx: BotContext, data: D) => Promise<void>): void {
  c.callbackQuery(cb.filter, (ctx) =>
    guardedRun(ctx, async () => {
      const data = cb.unpack(ctx.callbackQuery.data);
      if (!data) return ack(ctx, ctx.t('common.stale'));
      await run(ctx, data);
    }),
  );
}

export function yearEndFeature(): Composer<BotContext> {
  const c = new Composer<BotContext>();

  c.command('outcomes', (ctx) =>
    guardedRun(ctx, async () => {
      const actor = requireActor(ctx);
      if (!actor.roles.has('secretary') && !actor.roles.has('admin')) throw new AccessDenied();
      const classes = await listClasses(ctx.deps.db, actor);
      const kb = new InlineKeyboard();
      classes.forEach((k, i) => {
        kb.text(k.name, outcomeClassCb.pack({ c: k.id }));
        if (i % 4 === 3) kb.row();
      });
      await show(ctx, ctx.t('yearEnd.bot.pickClass'), kb);
    }),
  );
  onButton(c, outcomeClassCb, async (ctx, data) => {
    await ack(ctx);
    await showOutcomes(ctx, data.c);
  });
  onButton(c, outcomeTapCb, async (ctx, data) => {
    const s = await cycleOutcome(ctx.deps.db, requireActor(ctx), data.c, data.s, ctx.deps.now());
    await ack(ctx, ctx.t(`yearEnd.outcome.${s.outcome}`));
    await showOutcomes(ctx, data.c, s.outcome === 'conditional' ? data.s : undefined);
  });
  onButton(c, outcomeRetakeCb, async (ctx, data) => {
    const view = await classOutcomes(ctx.deps.db, requireActor(ctx), data.c, ctx.deps.now());
    const subject = view.subjects[data.i];
    if (!subject) return ack(ctx, ctx.t('common.stale'));
    await toggleRetake(ctx.deps.db, requireActor(ctx), data.c, data.s, subject.id, ctx.deps.now());
    await ack(ctx);
    await showOutcomes(ctx, data.c, data.s);
  });

  c.command('newyear', (ctx) =>
    guardedRun(ctx, async () => {
      const status = await draftTimetable(ctx.deps.db, requireActor(ctx));
      if (status.drafts === 0) return show(ctx, ctx.t('yearEnd.bot.noDrafts'));
      const kb = new InlineKeyboard().text(ctx.t('yearEnd.bot.confirm'), timetableConfirmCb.pack({}));
      await show(ctx, ctx.t('yearEnd.bot.drafts', { n: status.drafts, from: fullDate(status.validFrom ?? '') }), kb);
    }),
  );
  c.callbackQuery(timetableConfirmCb.filter, (ctx) =>
    guardedRun(ctx, async () => {
      const res = await confirmTimetable(ctx.deps.db, requireActor(ctx), ctx.deps.now());
      await ack(ctx);
      await show(ctx, ctx.t('yearEnd.bot.confirmed', { n: res.confirmed }));
    }),
  );

  c.command('pe', (ctx) =>
    guardedRun(ctx, async () => {
      const actor = requireActor(ctx);
      if (actor.classTeacherOf.size === 0 && !actor.roles.has('admin')) throw new AccessDenied();
      const kb = new InlineKeyboard();
      for (const classId of actor.classTeacherOf) {
        for (const s of await listClassStudents(ctx.deps.db, actor, classId)) kb.text(s.fullName.slice(0, 60), peStudentCb.pack({ s: s.studentId })).row();
      }
      await show(ctx, ctx.t('pe.bot.pickStudent'), kb);
    }),
  );
  onButton(c, peStudentCb, async (ctx, data) => {
    await ack(ctx);
    await showPeStudent(ctx, data.s);
  });
  onButton(c, peAddCb, async (ctx, data) => {
    const actor = requireActor(ctx);
    const now = ctx.deps.now();
    const today = todayOf(await loadSchoolRules(ctx.deps.db, actor.schoolId), now);
    const yearEnd = (await currentYear(ctx.deps.db, actor.schoolId, today))?.endsOn ?? addDays(today, 91);
    const to = data.d === 'y' ? yearEnd : addDays(today, SPAN_DAYS[data.d]);
    await recordPeExemption(ctx.deps.db, actor, { studentId: data.s, from: today, to }, now);
    await ack(ctx, ctx.t('pe.bot.saved'));
    await showPeStudent(ctx, data.s);
  });
  onButton(c, peRevokeCb, async (ctx, data) => {
    const studentId = await revokePeExemption(ctx.deps.db, requireActor(ctx), data.e, ctx.deps.now());
    await ack(ctx, ctx.t('pe.bot.revoked'));
    await showPeStudent(ctx, studentId);
  });
  return c;
}
