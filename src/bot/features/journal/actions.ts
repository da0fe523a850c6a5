import type { Actor } from '../../../domain/school/actor.js';
import { saveAttendance, setAbsenceReason } from '../../../domain/journal/attendance.js';
import { type HomeworkAttachment, setHomework } from '../../../domain/journal/homework.js';
import { changeMark, deleteMark, recordMark } from '../../../domain/journal/marks.js';
import { setLessonTopic } from '../../../domain/journal/plan.js';
import { acceptSuggestions, type PeriodMarkEntry, type PeriodRef, setPeriodMarks } from '../../../domain/journal/period-marks.js';
import type { BotContext, BotDeps } from '../../context.js';

/**
 * A journal change described as plain data, so that it can wait inside a conversation for the
 * admin's reason (R14: a locked lesson changes only with a reason in the audit) and then run.
 * Every kind runs through its domain use case, which checks the rights again.
 */
export type JournalAction =
  | { k: 'markCreate'; lessonId: string; studentId: string; value: string; workKind: string; clientKey: string }
  | { k: 'markChange'; markId: string; value?: string; workKind?: string; comment?: string | null }
  | { k: 'markDelete'; markId: string }
  | { k: 'attSave'; lessonId: string; version: string }
  | { k: 'absReason'; absenceId: string; code: string; wholeDay: boolean }
  | { k: 'topic'; lessonId: string; planItemId?: string; text?: string }
  | { k: 'homework'; lessonId: string; text?: string; attachments: HomeworkAttachment[] }
  | { k: 'periodMarks'; ref: PeriodRef; entries: PeriodMarkEntry[] }
  | { k: 'periodAccept'; ref: PeriodRef };

/** What to tell the user afterwards (an i18n key), and where to go back to. */
export interface ActionResult {
  key: string;
  vars: Record<string, string | number>;
  lessonId?: string;
}

export async function runJournalAction(
  deps: Pick<BotDeps, 'db' | 'now'>,
  actor: Actor,
  action: JournalAction,
  reason?: string,
): Promise<ActionResult> {
  const { db } = deps;
  const now = deps.now();
  switch (action.k) {
    case 'markCreate': {
      const { mark } = await recordMark(db, actor, { ...action, reason }, now);
      return { key: 'marks.saved', vars: { value: mark.value }, lessonId: mark.lessonId };
    }
    case 'markChange': {
      const mark = await changeMark(db, actor, { ...action, reason }, now);
      return { key: 'marks.changed', vars: { value: mark.value }, lessonId: mark.lessonId };
    }
    case 'markDelete': {
      await deleteMark(db, actor, { markId: action.markId, reason }, now);
      return { key: 'marks.deleted', vars: {} };
    }
    case 'attSave': {
      const res = await saveAttendance(db, actor, action.lessonId, action.version, now, reason);
      return {
        key: 'attendance.saved',
        vars: { absent: res.sheet.absentCount, total: res.sheet.students.length },
        lessonId: action.lessonId,
      };
    }
    case 'absReason': {
      const res = await setAbsenceReason(db, actor, action.absenceId, action.code, now, { wholeDay: action.wholeDay, reason });
      return { key: 'attendance.reasonSaved', vars: { code: action.code, count: res.changed } };
    }
    case 'topic': {
      const res = await setLessonTopic(db, actor, action.lessonId, { planItemId: action.planItemId, text: action.text, reason }, now);
      return { key: 'topic.saved', vars: { topic: res.topic }, lessonId: action.lessonId };
    }
    case 'periodMarks': {
      const res = await setPeriodMarks(db, actor, action.ref, action.entries, { reason }, now);
      return { key: 'periodMarks.savedCount', vars: { count: res.saved } };
    }
    case 'periodAccept': {
      const res = await acceptSuggestions(db, actor, action.ref, { reason }, now);
      return { key: 'periodMarks.accepted', vars: { saved: res.saved, left: res.withoutSuggestion } };
    }
    case 'homework': {
      const res = await setHomework(db, actor, action.lessonId, { text: action.text, attachments: action.attachments, reason }, now);
      return { key: 'homework.saved', vars: { files: action.attachments.length }, lessonId: res.lessonId };
    }
  }
}

/** The admin changes a locked lesson: ask for the reason, then run the action (see journal-text). */
export async function askReasonThenRun(ctx: BotContext, action: JournalAction): Promise<void> {
  const prompt = action.k === 'periodMarks' || action.k === 'periodAccept' ? 'periodMarks.askReason' : undefined;
  await ctx.conversation.enter('journalText', { locale: ctx.locale, purpose: 'reason', action, prompt });
}
