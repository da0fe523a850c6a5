import { Composer, InlineKeyboard } from 'grammy';
import type { Actor } from '../../../domain/school/actor.js';
import { classAbsencesOfDay, getAbsence, setAbsenceReason } from '../../../domain/journal/attendance.js';
import { type AuditPage, type AuditView, historyStudentsOfClass, lessonHistory, studentHistory } from '../../../domain/school/audit.js';
import { addDays, compactDate, fromCompactDate, fullDate, isoWeekday, type LocalDate, localDate, localTimeOf } from '../../../domain/shared/calendar.js';
import { AccessDenied } from '../../../domain/shared/errors.js';
import { listClasses } from '../../../domain/school/people.js';
import { getLessonView, schoolToday } from '../../../domain/journal/lessons.js';
import { loadSchoolRules } from '../../../domain/school/rules.js';
import { escapeHtml, type Translate } from '../../../i18n.js';
import type { BotContext } from '../../context.js';
import {
  absencePickCb,
  absenceReasonCb,
  absencesCb,
  cancelLessonCb,
  classDayCb,
  classesCb,
  historyClassCb,
  lessonCb,
  lessonHistoryCb,
  studentHistoryCb,
} from '../../callbacks/journal.js';
import { askReasonThenRun } from './actions.js';
import { grantsFeature } from './grants.js';
import { ack, dayLabel, guardedRun, needsReason, requireActor, STALE, show } from './ui.js';
import { showClassDay } from './today.js';

/**
 * The journal for those who oversee it:
 * - /journal: any class's lessons of a day (R26 class teacher, R27 deputy, admin);
 * - /absences: the class teacher's (and deputy's) daily list of absences, to set Н/Б/У (R20);
 * - lesson cancellation (R7) and /grant access for a substitute (R7, conversation; revoking: grants.ts);
 * - /history: the audit trail of a lesson or a student, paged (R31; admin and deputy).
 */
const CLASS_PAGE = 24;
type Mode = 'j' | 'a' | 'h';

async function showClasses(ctx: BotContext, mode: Mode, page = 0): Promise<void> {
  const actor = requireActor(ctx);
  let classes = await listClasses(ctx.deps.db, actor);
  if (mode === 'a' && !actor.roles.has('admin') && !actor.roles.has('deputy')) {
    classes = classes.filter((c) => actor.classTeacherOf.has(c.id));
  }
  if (mode === 'h' && !actor.roles.has('admin') && !actor.roles.has('deputy')) throw new AccessDenied();
  if (classes.length === 0) {
    await show(ctx, ctx.t('journal.noClasses'));
    return;
  }
  const today = await schoolToday(ctx.deps.db, actor, ctx.deps.now());
  const only = classes[0];
  if (classes.length === 1 && only) return openClass(ctx, mode, only.id, today);
  const pages = Math.ceil(classes.length / CLASS_PAGE);
  const p = Math.min(page, pages - 1);
  const kb = new InlineKeyboard();
  classes.slice(p * CLASS_PAGE, (p + 1) * CLASS_PAGE).forEach((c, i) => {
    const data =
      mode === 'j'
        ? classDayCb.pack({ c: c.id, d: compactDate(today) })
        : mode === 'a'
          ? absencesCb.pack({ c: c.id, d: compactDate(today) })
          : historyClassCb.pack({ c: c.id });
    kb.text(c.name, data);
    if (i % 4 === 3) kb.row();
  });
  kb.row();
  if (p > 0) kb.text('«', classesCb.pack({ m: mode, p: p - 1 }));
  if (p < pages - 1) kb.text('»', classesCb.pack({ m: mode, p: p + 1 }));
  await show(ctx, ctx.t(`journal.pickClass.${mode}`), kb);
}

async function openClass(ctx: BotContext, mode: Mode, classId: string, today: LocalDate): Promise<void> {
  if (mode === 'j') return showClassDay(ctx, classId, today);
  if (mode === 'a') return showAbsences(ctx, classId, today);
  return showClassStudents(ctx, classId);
}

// ─────────────── absences (R20) ───────────────

async function showAbsences(ctx: BotContext, classId: string, date: LocalDate, note?: string): Promise<void> {
  const actor = requireActor(ctx);
  const list = await classAbsencesOfDay(ctx.deps.db, actor, classId, date);
  const cls = await ctx.deps.db.models.SchoolClass.findById(classId, { name: 1 }).lean();
  const t = ctx.t;
  const lines = [`🩺 ${t('attendance.dayTitle', { className: cls?.name ?? '', day: dayLabel(t, date) })}`, ''];
  const kb = new InlineKeyboard();
  if (list.length === 0) lines.push(t('attendance.noAbsences'));
  // One line and one button per student (a bad day of a class of 40 stays under Telegram's limits).
  const byStudent = new Map<string, typeof list>();
  for (const a of list) byStudent.set(a.studentId, [...(byStudent.get(a.studentId) ?? []), a]);
  for (const items of byStudent.values()) {
    const first = items[0];
    if (!first) continue;
    lines.push(
      `<b>${escapeHtml(first.studentName)}</b>: ${escapeHtml(items.map((a) => `${a.lessonNo ?? '•'} ${a.subjectName} (${a.code})`).join(', '))}`,
    );
    const codes = [...new Set(items.map((a) => a.code))].join('/');
    kb.text(`${first.studentName} · ${items.length} · ${codes}`, absencePickCb.pack({ a: first.absenceId })).row();
  }
  if (list.length) lines.push('', t('attendance.reasonHint'));
  if (note) lines.push('', note);
  const prev = addDays(date, isoWeekday(date) === 1 ? -2 : -1);
  const next = addDays(date, isoWeekday(date) === 6 ? 2 : 1);
  kb.text(`« ${dayLabel(t, prev)}`, absencesCb.pack({ c: classId, d: compactDate(prev) })).text(
    `${dayLabel(t, next)} »`,
    absencesCb.pack({ c: classId, d: compactDate(next) }),
  );
  await show(ctx, lines.join('\n').slice(0, 4000), kb);
}

/** One student's absences of the day: a row Н/Б/У per lesson, and the whole day at once. */
async function showAbsencePicker(ctx: BotContext, absenceId: string, note?: string): Promise<void> {
  const actor = requireActor(ctx);
  const a = await getAbsence(ctx.deps.db, actor, absenceId);
  const day = (await classAbsencesOfDay(ctx.deps.db, actor, a.classId, a.date)).filter((x) => x.studentId === a.studentId);
  const t = ctx.t;
  const lines = [`🩺 <b>${escapeHtml(a.studentName)}</b> · ${fullDate(a.date)}`, ''];
  for (const x of day) lines.push(escapeHtml(`${x.lessonNo ?? '•'} ${x.subjectName} — ${x.code}`));
  lines.push('', t('attendance.codes'));
  if (note) lines.push('', note);
  const kb = new InlineKeyboard();
  for (const x of day) {
    for (const c of ['Н', 'Б', 'У'] as const) {
      const label = `${x.lessonNo ?? '•'} · ${c}`;
      kb.text(c === x.code ? `• ${label}` : label, absenceReasonCb.pack({ a: x.absenceId, c, w: false }));
    }
    kb.row();
  }
  for (const c of ['Н', 'Б', 'У'] as const) kb.text(t('attendance.wholeDay', { code: c }), absenceReasonCb.pack({ a: absenceId, c, w: true }));
  kb.row().text(t('attendance.backToList'), absencesCb.pack({ c: a.classId, d: compactDate(a.date) }));
  await show(ctx, lines.join('\n'), kb);
}

// ─────────────── history (R31) ───────────────

function brief(t: Translate, kindNames: Map<string, string>, x: unknown): string {
  if (x === null || x === undefined) return '—';
  if (typeof x !== 'object') return String(x);
  const o = x as Record<string, unknown>;
  if ('value' in o) {
    const kind = typeof o.workKind === 'string' ? ` (${kindNames.get(o.workKind) ?? o.workKind})` : '';
    const comment = typeof o.comment === 'string' && o.comment ? ` «${o.comment.slice(0, 40)}»` : '';
    return `${String(o.value)}${kind}${comment}`;
  }
  if ('code' in o) return String(o.code);
  if ('topic' in o) return `«${String(o.topic).slice(0, 80)}»`;
  if ('text' in o || 'files' in o) {
    const files = Array.isArray(o.files) && o.files.length ? ` 📎${o.files.length}` : '';
    return `«${String(o.text ?? '').slice(0, 80)}»${files}`;
  }
  if ('status' in o) return t(`audit.status.${String(o.status)}`);
  if ('items' in o) return t('audit.planSize', { items: Number(o.items), hours: Number(o.hours) });
  if ('from' in o && 'to' in o) return `${String(o.from)} – ${String(o.to)}`;
  return JSON.stringify(o).slice(0, 80);
}

function entryText(t: Translate, page: AuditPage, kinds: Map<string, string>, e: AuditView, withStudent: boolean): string {
  const when = `${fullDate(localDate(e.at, page.timezone))} ${localTimeOf(e.at, page.timezone)}`;
  const who = e.actorName ? `${e.actorName}${e.actorRole ? ` (${t(`audit.roles.${e.actorRole}`)})` : ''}` : t(`audit.via.${e.via}`);
  const what = t(`audit.actions.${e.action}`, { defaultValue: e.action });
  const student = withStudent && e.studentName ? ` · ${e.studentName}` : '';
  const lines = [
    `<b>${escapeHtml(when)}</b> · ${escapeHtml(who)}`,
    `${escapeHtml(what)}${escapeHtml(student)}: ${escapeHtml(brief(t, kinds, e.before))} → ${escapeHtml(brief(t, kinds, e.after))}`,
  ];
  if (e.reason) lines.push(t('audit.reason', { reason: e.reason }));
  return lines.join('\n');
}

async function kindNamesOf(ctx: BotContext, actor: Actor): Promise<Map<string, string>> {
  const rules = await loadSchoolRules(ctx.deps.db, actor.schoolId);
  return new Map(rules.workKinds.map((k) => [k.code, ctx.locale === 'en' ? k.name.en : k.name.ru]));
}

function pager(t: Translate, page: AuditPage, go: (p: number) => string, back: { label: string; data: string }): InlineKeyboard {
  const kb = new InlineKeyboard();
  if (page.page > 0) kb.text(t('audit.newer'), go(page.page - 1));
  if (page.page < page.pages - 1) kb.text(t('audit.older'), go(page.page + 1));
  return kb.row().text(back.label, back.data);
}

async function showLessonHistory(ctx: BotContext, lessonId: string, p: number): Promise<void> {
  const actor = requireActor(ctx);
  const page = await lessonHistory(ctx.deps.db, actor, lessonId, p);
  const view = await getLessonView(ctx.deps.db, actor, lessonId, ctx.deps.now());
  const kinds = await kindNamesOf(ctx, actor);
  const t = ctx.t;
  const head = `🕓 ${t('audit.lessonTitle', { lesson: `${view.className} · ${view.subjectName} · ${fullDate(view.date)}` })}`;
  const body = page.entries.length ? page.entries.map((e) => entryText(t, page, kinds, e, true)).join('\n\n') : t('audit.empty');
  const foot = page.pages > 1 ? `\n\n${t('audit.page', { page: page.page + 1, pages: page.pages })}` : '';
  await show(
    ctx,
    `${head}\n\n${body}${foot}`.slice(0, 4000),
    pager(t, page, (n) => lessonHistoryCb.pack({ l: lessonId, p: n }), { label: t('attendance.backToLesson'), data: lessonCb.pack({ l: lessonId }) }),
  );
}

async function showStudentHistory(ctx: BotContext, studentId: string, p: number): Promise<void> {
  const actor = requireActor(ctx);
  const page = await studentHistory(ctx.deps.db, actor, studentId, p);
  const student = await ctx.deps.db.models.Person.findOne({ _id: studentId, schoolId: actor.schoolId }, { firstName: 1, lastName: 1, student: 1 }).lean();
  const kinds = await kindNamesOf(ctx, actor);
  const t = ctx.t;
  const head = `🕓 ${t('audit.studentTitle', { name: student ? `${student.lastName} ${student.firstName}` : '' })}`;
  const body = page.entries.length ? page.entries.map((e) => entryText(t, page, kinds, e, false)).join('\n\n') : t('audit.empty');
  const foot = page.pages > 1 ? `\n\n${t('audit.page', { page: page.page + 1, pages: page.pages })}` : '';
  const classId = student?.student?.classId ? String(student.student.classId) : undefined;
  const back = classId
    ? { label: t('audit.backToClass'), data: historyClassCb.pack({ c: classId }) }
    : { label: t('audit.backToClasses'), data: classesCb.pack({ m: 'h', p: 0 }) };
  await show(ctx, `${head}\n\n${body}${foot}`.slice(0, 4000), pager(t, page, (n) => studentHistoryCb.pack({ s: studentId, p: n }), back));
}

async function showClassStudents(ctx: BotContext, classId: string): Promise<void> {
  const actor = requireActor(ctx);
  if (!actor.roles.has('admin') && !actor.roles.has('deputy')) throw new AccessDenied();
  const students = await historyStudentsOfClass(ctx.deps.db, actor, classId);
  const kb = new InlineKeyboard();
  students.forEach((s, i) => {
    kb.text(s.name, studentHistoryCb.pack({ s: s.id, p: 0 }));
    if (i % 2 === 1) kb.row();
  });
  kb.row().text(ctx.t('audit.backToClasses'), classesCb.pack({ m: 'h', p: 0 }));
  await show(ctx, ctx.t('audit.pickStudent'), kb);
}

export function journalAdminFeature() {
  const composer = new Composer<BotContext>();
  const needActor = async (ctx: BotContext) => {
    if (ctx.actor) return true;
    await ctx.reply(ctx.t('help.guest'));
    return false;
  };
  composer.command('journal', (ctx) =>
    guardedRun(ctx, async () => {
      if (!(await needActor(ctx))) return;
      await showClasses(ctx, 'j');
    }),
  );
  composer.command('absences', (ctx) =>
    guardedRun(ctx, async () => {
      if (!(await needActor(ctx))) return;
      await showClasses(ctx, 'a');
    }),
  );
  composer.command('history', (ctx) =>
    guardedRun(ctx, async () => {
      if (!(await needActor(ctx))) return;
      await showClasses(ctx, 'h');
    }),
  );
  composer.command('grant', (ctx) =>
    guardedRun(ctx, async () => {
      if (!(await needActor(ctx))) return;
      const actor = requireActor(ctx);
      if (!actor.roles.has('deputy') && !actor.roles.has('admin')) throw new AccessDenied();
      await ctx.conversation.enter('grant', { locale: ctx.locale });
    }),
  );
  composer.use(grantsFeature());
  composer.callbackQuery(classesCb.filter, (ctx) =>
    guardedRun(ctx, async () => {
      const data = classesCb.unpack(ctx.callbackQuery.data);
      if (!data) return STALE(ctx);
      await showClasses(ctx, data.m, data.p);
      await ack(ctx);
    }),
  );
  composer.callbackQuery(absencesCb.filter, (ctx) =>
    guardedRun(ctx, async () => {
      const data = absencesCb.unpack(ctx.callbackQuery.data);
      const date = fromCompactDate(data?.d ?? '');
      if (!data || !date) return STALE(ctx);
      await showAbsences(ctx, data.c, date);
      await ack(ctx);
    }),
  );
  composer.callbackQuery(absencePickCb.filter, (ctx) =>
    guardedRun(ctx, async () => {
      const data = absencePickCb.unpack(ctx.callbackQuery.data);
      if (!data) return STALE(ctx);
      await showAbsencePicker(ctx, data.a);
      await ack(ctx);
    }),
  );
  composer.callbackQuery(absenceReasonCb.filter, (ctx) =>
    guardedRun(ctx, async () => {
      const data = absenceReasonCb.unpack(ctx.callbackQuery.data);
      if (!data) return STALE(ctx);
      const actor = requireActor(ctx);
      try {
        const res = await setAbsenceReason(ctx.deps.db, actor, data.a, data.c, ctx.deps.now(), { wholeDay: data.w });
        await showAbsencePicker(ctx, data.a, ctx.t('attendance.reasonSaved', { code: data.c, count: res.changed }));
        await ack(ctx, ctx.t('attendance.reasonSavedShort', { code: data.c }));
      } catch (e) {
        if (!needsReason(e)) throw e;
        await ack(ctx);
        await askReasonThenRun(ctx, { k: 'absReason', absenceId: data.a, code: data.c, wholeDay: data.w });
      }
    }),
  );
  composer.callbackQuery(cancelLessonCb.filter, (ctx) =>
    guardedRun(ctx, async () => {
      const data = cancelLessonCb.unpack(ctx.callbackQuery.data);
      if (!data) return STALE(ctx);
      const view = await getLessonView(ctx.deps.db, requireActor(ctx), data.l, ctx.deps.now());
      if (!view.rights.cancel) throw new AccessDenied();
      await ack(ctx);
      await ctx.conversation.enter('journalText', { locale: ctx.locale, purpose: 'cancel', lessonId: data.l });
    }),
  );
  composer.callbackQuery(lessonHistoryCb.filter, (ctx) =>
    guardedRun(ctx, async () => {
      const data = lessonHistoryCb.unpack(ctx.callbackQuery.data);
      if (!data) return STALE(ctx);
      await showLessonHistory(ctx, data.l, data.p);
      await ack(ctx);
    }),
  );
  composer.callbackQuery(historyClassCb.filter, (ctx) =>
    guardedRun(ctx, async () => {
      const data = historyClassCb.unpack(ctx.callbackQuery.data);
      if (!data) return STALE(ctx);
      await showClassStudents(ctx, data.c);
      await ack(ctx);
    }),
  );
  composer.callbackQuery(studentHistoryCb.filter, (ctx) =>
    guardedRun(ctx, async () => {
      const data = studentHistoryCb.unpack(ctx.callbackQuery.data);
      if (!data) return STALE(ctx);
      await showStudentHistory(ctx, data.s, data.p);
      await ack(ctx);
    }),
  );
  return composer;
}
