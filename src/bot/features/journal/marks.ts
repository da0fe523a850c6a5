import { PE_EXEMPT } from './attendance.js';
import { Composer, InlineKeyboard } from 'grammy';
import type { Locale } from '../../../config.js';
import { fullDate } from '../../../domain/shared/calendar.js';
import type { WorkKind } from '../../../domain/school/rules.js';
import {
  changeMark,
  deleteMark,
  getMark,
  lessonMarksSheet,
  type MarksSheet,
  type MarkView,
  newClientKey,
  recordMark,
  rosterEntryAt,
  rosterStudentAt,
} from '../../../domain/journal/marks.js';
import { escapeHtml } from '../../../i18n.js';
import type { BotContext } from '../../context.js';
import { teacherStudentCb } from '../../callbacks/messaging.js';
import {
  bulkStartCb,
  lessonCb,
  markChangeCb,
  markCommentCb,
  markDeleteCb,
  markEditCb,
  markKindCb,
  marksCb,
  markStudentCb,
  markValueCb,
} from '../../callbacks/journal.js';
import { askReasonThenRun, type JournalAction } from './actions.js';
import { ack, guardedRun, lessonHeader, needsReason, requireActor, STALE, show } from './ui.js';

/**
 * Marks (R11–R13): quick entry — pick a student, tap 2/3/4/5 (the kind of work is chosen on the
 * roster screen and travels in the buttons); then optionally a comment or another kind. Each value
 * button carries a one-time token, so a double-pressed button saves one mark (clientKey). A test
 * for the whole class goes student by student in the bulk conversation (conversations/bulk-marks).
 */
const VALUES = ['2', '3', '4', '5'] as const;

export const kindName = (k: Pick<WorkKind, 'name'>, locale: Locale | string) => (locale === 'en' ? k.name.en : k.name.ru);

function kindAt(kinds: WorkKind[], k: number): { kind: WorkKind; k: number } {
  const i = k >= 0 && k < kinds.length ? k : 0;
  const kind = kinds[i];
  if (!kind) throw new Error('the school has no kinds of work');
  return { kind, k: i };
}

const marksList = (marks: MarkView[]) => marks.map((m) => String(m.value)).join(',');

export async function showMarksRoster(ctx: BotContext, lessonId: string, k: number, note?: string, extra?: InlineKeyboard): Promise<void> {
  const sheet = await lessonMarksSheet(ctx.deps.db, requireActor(ctx), lessonId, ctx.deps.now());
  await show(ctx, rosterText(ctx, sheet, k, note), rosterKeyboard(ctx, sheet, k, extra));
}

function rosterText(ctx: BotContext, sheet: MarksSheet, k: number, note?: string): string {
  const { kind } = kindAt(sheet.kinds, k);
  const t = ctx.t;
  const lines = [`✏️ ${t('marks.title')}`, lessonHeader(t, sheet.lesson), '', t('marks.kindLine', { kind: kindName(kind, ctx.locale), weight: kind.weight })];
  lines.push('', note ?? t('marks.pickStudent'));
  if (sheet.locked) lines.push('', t('lock.badge'));
  return lines.join('\n');
}

function rosterKeyboard(ctx: BotContext, sheet: MarksSheet, k: number, extra?: InlineKeyboard): InlineKeyboard {
  const { kind, k: kindIdx } = kindAt(sheet.kinds, k);
  const t = ctx.t;
  // The extra rows (Comment, Correct) stand alone: the students start on a row of their own.
  const kb = new InlineKeyboard([...(extra?.inline_keyboard.filter((r) => r.length > 0).map((r) => [...r]) ?? []), []]);
  sheet.students.forEach((s, i) => {
    const marks = s.marks.length ? ` ${marksList(s.marks)}` : '';
    // R21: a student exempt from PE is marked as such.
    kb.text(`${s.exempt ? `${PE_EXEMPT} ` : ''}${s.label}${marks}`, markStudentCb.pack({ l: sheet.lessonId, v: sheet.version, i: s.idx, k: kindIdx }));
    if (i % 2 === 1) kb.row();
  });
  if (sheet.students.length % 2 === 1) kb.row();
  const nextKind = (kindIdx + 1) % sheet.kinds.length;
  return kb
    .text(t('marks.kindButton', { kind: kindName(kind, ctx.locale) }), marksCb.pack({ l: sheet.lessonId, k: nextKind }))
    .row()
    .text(t('marks.bulk'), bulkStartCb.pack({ l: sheet.lessonId, k: kindIdx }))
    .row()
    .text(t('attendance.backToLesson'), lessonCb.pack({ l: sheet.lessonId }));
}

async function showStudent(ctx: BotContext, lessonId: string, version: string, idx: number, k: number): Promise<void> {
  const actor = requireActor(ctx);
  const { db } = ctx.deps;
  const student = await rosterStudentAt(db, actor, lessonId, version, idx, ctx.deps.now());
  const { sheet } = student;
  const { kind, k: kindIdx } = kindAt(sheet.kinds, k);
  const t = ctx.t;
  const lines = [
    `✏️ <b>${escapeHtml(student.fullName)}</b>`,
    t('marks.kindLine', { kind: kindName(kind, ctx.locale), weight: kind.weight }),
  ];
  if (student.marks.length) {
    lines.push(t('marks.already', { marks: student.marks.map((m) => `${m.value} (${kindName(kindAt(sheet.kinds, sheet.kinds.findIndex((x) => x.code === m.workKind)).kind, ctx.locale)})`).join(', ') }));
  }
  lines.push('', t('marks.pickValue'));
  // One token per screen: both presses of a double tap carry it, so they save one mark.
  const token = newClientKey().slice(0, 8);
  const kb = new InlineKeyboard();
  for (const v of VALUES) kb.text(v, markValueCb.pack({ l: lessonId, v: version, i: idx, m: v, k: kindIdx, t: token }));
  kb.row();
  for (const m of student.marks) kb.text(t('marks.editButton', { value: m.value }), markEditCb.pack({ m: m.id })).row();
  // The student's card in the lesson: write to the parents from here (issue 6).
  kb.text(t('messaging.teacherWrite.fromCard'), teacherStudentCb.pack({ s: student.id })).row();
  kb.text(t('marks.backToList'), marksCb.pack({ l: lessonId, k: kindIdx }));
  await show(ctx, lines.join('\n'), kb);
}

export async function showMarkEdit(ctx: BotContext, markId: string, note?: string): Promise<void> {
  const actor = requireActor(ctx);
  const { db } = ctx.deps;
  const mark = await getMark(db, actor, markId);
  const sheet = await lessonMarksSheet(db, actor, mark.lessonId, ctx.deps.now());
  const student = sheet.students.find((s) => s.id === mark.studentId);
  const t = ctx.t;
  const kindIdx = sheet.kinds.findIndex((k) => k.code === mark.workKind);
  const kind = sheet.kinds[kindIdx];
  const lines = [
    `✏️ <b>${escapeHtml(student?.label ?? '')}</b> · ${fullDate(mark.date)}`,
    t('marks.editLine', { value: mark.value, kind: kind ? kindName(kind, ctx.locale) : mark.workKind, weight: mark.weight }),
    t('marks.commentLine', { comment: mark.comment ?? '—' }),
  ];
  if (note) lines.push('', note);
  const kb = new InlineKeyboard();
  for (const v of VALUES) kb.text(v === String(mark.value) ? `• ${v}` : v, markChangeCb.pack({ m: mark.id, x: v }));
  kb.row();
  sheet.kinds.forEach((k, i) => {
    kb.text(`${i === kindIdx ? '• ' : ''}${kindName(k, ctx.locale)}`, markKindCb.pack({ m: mark.id, k: i }));
    if (i % 2 === 1) kb.row();
  });
  if (sheet.kinds.length % 2 === 1) kb.row();
  kb.text(t('marks.comment'), markCommentCb.pack({ m: mark.id }))
    .text(t('marks.delete'), markDeleteCb.pack({ m: mark.id }))
    .row()
    .text(t('marks.backToList'), marksCb.pack({ l: mark.lessonId, k: Math.max(0, kindIdx) }));
  await show(ctx, lines.join('\n'), kb);
}

function withMark(sheet: MarksSheet, studentId: string, mark: MarkView, duplicate: boolean): MarksSheet {
  if (duplicate) return sheet;
  return {
    ...sheet,
    students: sheet.students.map((s) => (s.id === studentId ? { ...s, marks: [...s.marks, mark] } : s)),
  };
}

/** Runs a mark change; the admin on a locked lesson is asked for the reason first (R14). */
async function change(ctx: BotContext, action: JournalAction, run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (e) {
    if (!needsReason(e)) throw e;
    await ack(ctx);
    await askReasonThenRun(ctx, action);
  }
}

export function marksFeature() {
  const composer = new Composer<BotContext>();
  composer.callbackQuery(marksCb.filter, (ctx) =>
    guardedRun(ctx, async () => {
      const data = marksCb.unpack(ctx.callbackQuery.data);
      if (!data) return STALE(ctx);
      await showMarksRoster(ctx, data.l, data.k);
      await ack(ctx);
    }),
  );
  composer.callbackQuery(markStudentCb.filter, (ctx) =>
    guardedRun(ctx, async () => {
      const data = markStudentCb.unpack(ctx.callbackQuery.data);
      if (!data) return STALE(ctx);
      await showStudent(ctx, data.l, data.v, data.i, data.k);
      await ack(ctx);
    }),
  );
  composer.callbackQuery(markValueCb.filter, (ctx) =>
    guardedRun(ctx, async () => {
      const data = markValueCb.unpack(ctx.callbackQuery.data);
      if (!data) return STALE(ctx);
      const actor = requireActor(ctx);
      const { db } = ctx.deps;
      const student = await rosterEntryAt(db, actor, data.l, data.v, data.i, ctx.deps.now());
      const { kind } = kindAt(student.sheet.kinds, data.k);
      const clientKey = `${data.l}:${data.i}:${data.t}`;
      const action: JournalAction = { k: 'markCreate', lessonId: data.l, studentId: student.id, value: data.m, workKind: kind.code, clientKey };
      await change(ctx, action, async () => {
        const { mark, duplicate, absentCode } = await recordMark(
          db,
          actor,
          { lessonId: data.l, studentId: student.id, value: data.m, workKind: kind.code, clientKey },
          ctx.deps.now(),
          student.bundle, // read a moment ago in this update: not read again (issue 12)
        );
        const note = ctx.t(duplicate ? 'marks.savedAlready' : 'marks.savedFor', {
          name: student.label,
          value: mark.value,
          kind: kindName(kind, ctx.locale),
        });
        const hint = absentCode ? `\n${ctx.t('marks.absentHint', { code: absentCode })}` : '';
        const extra = new InlineKeyboard()
          .text(ctx.t('marks.addComment'), markCommentCb.pack({ m: mark.id }))
          .text(ctx.t('marks.fix'), markEditCb.pack({ m: mark.id }));
        // The screen from what is known: the sheet read before, plus the mark just saved.
        const sheet = withMark(student.sheet, student.id, mark, duplicate);
        await show(ctx, rosterText(ctx, sheet, data.k, note + hint), rosterKeyboard(ctx, sheet, data.k, extra));
        await ack(ctx, ctx.t('marks.savedShort', { value: mark.value }));
      });
    }),
  );
  composer.callbackQuery(markEditCb.filter, (ctx) =>
    guardedRun(ctx, async () => {
      const data = markEditCb.unpack(ctx.callbackQuery.data);
      if (!data) return STALE(ctx);
      await showMarkEdit(ctx, data.m);
      await ack(ctx);
    }),
  );
  composer.callbackQuery(markChangeCb.filter, (ctx) =>
    guardedRun(ctx, async () => {
      const data = markChangeCb.unpack(ctx.callbackQuery.data);
      if (!data) return STALE(ctx);
      await change(ctx, { k: 'markChange', markId: data.m, value: data.x }, async () => {
        const mark = await changeMark(ctx.deps.db, requireActor(ctx), { markId: data.m, value: data.x }, ctx.deps.now());
        await showMarkEdit(ctx, data.m, ctx.t('marks.changed', { value: mark.value }));
        await ack(ctx);
      });
    }),
  );
  composer.callbackQuery(markKindCb.filter, (ctx) =>
    guardedRun(ctx, async () => {
      const data = markKindCb.unpack(ctx.callbackQuery.data);
      if (!data) return STALE(ctx);
      const actor = requireActor(ctx);
      const mark = await getMark(ctx.deps.db, actor, data.m);
      const sheet = await lessonMarksSheet(ctx.deps.db, actor, mark.lessonId, ctx.deps.now());
      const kind = sheet.kinds[data.k];
      if (!kind) return STALE(ctx);
      await change(ctx, { k: 'markChange', markId: data.m, workKind: kind.code }, async () => {
        await changeMark(ctx.deps.db, actor, { markId: data.m, workKind: kind.code }, ctx.deps.now());
        await showMarkEdit(ctx, data.m);
        await ack(ctx);
      });
    }),
  );
  composer.callbackQuery(markDeleteCb.filter, (ctx) =>
    guardedRun(ctx, async () => {
      const data = markDeleteCb.unpack(ctx.callbackQuery.data);
      if (!data) return STALE(ctx);
      const actor = requireActor(ctx);
      const mark = await getMark(ctx.deps.db, actor, data.m);
      await change(ctx, { k: 'markDelete', markId: data.m }, async () => {
        await deleteMark(ctx.deps.db, actor, { markId: data.m }, ctx.deps.now());
        await showMarksRoster(ctx, mark.lessonId, 0, ctx.t('marks.deleted'));
        await ack(ctx);
      });
    }),
  );
  composer.callbackQuery(markCommentCb.filter, (ctx) =>
    guardedRun(ctx, async () => {
      const data = markCommentCb.unpack(ctx.callbackQuery.data);
      if (!data) return STALE(ctx);
      await getMark(ctx.deps.db, requireActor(ctx), data.m);
      await ack(ctx);
      await ctx.conversation.enter('journalText', { locale: ctx.locale, purpose: 'comment', markId: data.m });
    }),
  );
  composer.callbackQuery(bulkStartCb.filter, (ctx) =>
    guardedRun(ctx, async () => {
      const data = bulkStartCb.unpack(ctx.callbackQuery.data);
      if (!data) return STALE(ctx);
      await ack(ctx);
      await ctx.conversation.enter('bulkMarks', { locale: ctx.locale, lessonId: data.l, kind: data.k });
    }),
  );
  return composer;
}
