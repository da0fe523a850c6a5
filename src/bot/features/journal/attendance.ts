import { Composer, InlineKeyboard } from 'grammy';
import { type AttendanceSheet, everyonePresent, openAttendance, saveAttendance, toggleAttendance } from '../../../domain/journal/attendance.js';
import { escapeHtml, type Translate } from '../../../i18n.js';
import type { BotContext } from '../../context.js';
import { attAllCb, attOpenCb, attSaveCb, attToggleCb, lessonCb } from '../../callbacks/journal.js';
import { askReasonThenRun } from './actions.js';
import { ack, guardedRun, lessonHeader, needsReason, requireActor, STALE, show } from './ui.js';

/**
 * Attendance (R19) in one message: the roster as buttons, two per row (✅ present, ❌ absent);
 * a tap toggles and edits the same message; "Everyone present" and "Save". Marking 2 absent in a
 * class of 30 is three taps. The draft lives in MongoDB (domain/attendance.ts), so a restart or a
 * second bot process loses nothing; Save writes only what changed.
 */
function sheetText(t: Translate, sheet: AttendanceSheet, note?: string): string {
  const absent = sheet.students.filter((s) => s.absent);
  const lines = [`📋 ${t('attendance.title')}`, lessonHeader(t, sheet.lesson), ''];
  lines.push(t('attendance.absentCount', { absent: sheet.absentCount, total: sheet.students.length }));
  if (absent.length) lines.push(escapeHtml(absent.map((s) => (s.code && s.code !== 'Н' ? `${s.label} (${s.code})` : s.label)).join(', ')));
  // R21: the PE teacher sees who is exempt; their missed lesson is no absence.
  const exempt = sheet.students.filter((s) => s.exempt);
  if (exempt.length) lines.push(t('pe.exemptInSheet', { names: escapeHtml(exempt.map((s) => s.label).join(', ')) }));
  lines.push('');
  if (note) lines.push(note);
  else lines.push(sheet.dirty ? t('attendance.hintUnsaved') : t('attendance.hintSaved'));
  return lines.join('\n');
}

/** The mark of a student exempt from PE (R21), on the attendance and marks screens. */
export const PE_EXEMPT = '🩺';

function sheetKeyboard(t: Translate, sheet: AttendanceSheet): InlineKeyboard {
  const kb = new InlineKeyboard();
  sheet.students.forEach((s, i) => {
    kb.text(`${s.exempt ? PE_EXEMPT : s.absent ? '❌' : '✅'} ${s.label}`, attToggleCb.pack({ l: sheet.lessonId, v: sheet.version, i: s.idx }));
    if (i % 2 === 1) kb.row();
  });
  if (sheet.students.length % 2 === 1) kb.row();
  kb.text(t('attendance.everyonePresent'), attAllCb.pack({ l: sheet.lessonId, v: sheet.version }))
    .text(t('attendance.save'), attSaveCb.pack({ l: sheet.lessonId, v: sheet.version }))
    .row()
    .text(t('attendance.backToLesson'), lessonCb.pack({ l: sheet.lessonId }));
  return kb;
}

export async function showAttendance(ctx: BotContext, lessonId: string): Promise<void> {
  const actor = requireActor(ctx);
  const sheet = await openAttendance(ctx.deps.db, actor, lessonId, ctx.deps.now());
  if (sheet.students.length === 0) {
    await show(ctx, ctx.t('attendance.noStudents'), new InlineKeyboard().text(ctx.t('attendance.backToLesson'), lessonCb.pack({ l: lessonId })));
    return;
  }
  await show(ctx, sheetText(ctx.t, sheet), sheetKeyboard(ctx.t, sheet));
}

function savedKeyboard(t: Translate, lessonId: string): InlineKeyboard {
  return new InlineKeyboard()
    .text(t('attendance.edit'), attOpenCb.pack({ l: lessonId }))
    .row()
    .text(t('attendance.backToLesson'), lessonCb.pack({ l: lessonId }));
}

export function attendanceFeature() {
  const composer = new Composer<BotContext>();
  composer.callbackQuery(attOpenCb.filter, (ctx) =>
    guardedRun(ctx, async () => {
      const data = attOpenCb.unpack(ctx.callbackQuery.data);
      if (!data) return STALE(ctx);
      await showAttendance(ctx, data.l);
      await ack(ctx);
    }),
  );
  composer.callbackQuery(attToggleCb.filter, (ctx) =>
    guardedRun(ctx, async () => {
      const data = attToggleCb.unpack(ctx.callbackQuery.data);
      if (!data) return STALE(ctx);
      const sheet = await toggleAttendance(ctx.deps.db, requireActor(ctx), data.l, data.v, data.i, ctx.deps.now());
      await show(ctx, sheetText(ctx.t, sheet), sheetKeyboard(ctx.t, sheet));
      await ack(ctx);
    }),
  );
  composer.callbackQuery(attAllCb.filter, (ctx) =>
    guardedRun(ctx, async () => {
      const data = attAllCb.unpack(ctx.callbackQuery.data);
      if (!data) return STALE(ctx);
      const sheet = await everyonePresent(ctx.deps.db, requireActor(ctx), data.l, data.v, ctx.deps.now());
      await show(ctx, sheetText(ctx.t, sheet), sheetKeyboard(ctx.t, sheet));
      await ack(ctx);
    }),
  );
  composer.callbackQuery(attSaveCb.filter, (ctx) =>
    guardedRun(ctx, async () => {
      const data = attSaveCb.unpack(ctx.callbackQuery.data);
      if (!data) return STALE(ctx);
      try {
        const res = await saveAttendance(ctx.deps.db, requireActor(ctx), data.l, data.v, ctx.deps.now());
        const note = ctx.t('attendance.savedNote', { marked: res.marked, cleared: res.cleared });
        await show(ctx, sheetText(ctx.t, res.sheet, note), savedKeyboard(ctx.t, data.l));
        await ack(ctx, ctx.t('attendance.savedShort'));
      } catch (e) {
        if (!needsReason(e)) throw e;
        await ack(ctx);
        await askReasonThenRun(ctx, { k: 'attSave', lessonId: data.l, version: data.v });
      }
    }),
  );
  return composer;
}
