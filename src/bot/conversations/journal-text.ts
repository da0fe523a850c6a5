import { type Context, InlineKeyboard } from 'grammy';
import type { Locale } from '../../config.js';
import { cancelLesson } from '../../domain/journal/lessons.js';
import type { BotDeps } from '../context.js';
import { lessonCb } from '../callbacks/journal.js';
import { type ActionResult, type JournalAction, runJournalAction } from '../features/journal/actions.js';
import { actorOf, attempt, cancelKeyboard, type JournalConversation, plainText, translate, waitOrCancel } from './common.js';

/**
 * One line of text for the journal: a lesson topic in free words (R10), a mark's comment, the
 * reason a lesson did not take place (R7), or the admin's reason for changing a locked lesson
 * (R14, kept in the audit). Cancel ends it; any other button or command ends it too and is
 * handled as usual.
 */
export type TextPurpose = 'reason' | 'topic' | 'comment' | 'cancel';

export interface JournalTextArgs {
  locale: Locale;
  purpose: TextPurpose;
  action?: JournalAction;
  lessonId?: string;
  markId?: string;
  /** The question, when not the purpose's own (a period mark's reason, R7). */
  prompt?: string;
}

const PROMPTS: Record<TextPurpose, string> = {
  reason: 'lock.askReason',
  topic: 'topic.askText',
  comment: 'marks.askComment',
  cancel: 'journal.askCancelReason',
};

/** Mistakes worth a second try; anything else (refusals) ends the prompt. */
const RETRY = new Set(['common.tooLong', 'topic.empty', 'journal.cancelReasonRequired', 'lock.reasonRequired', 'periodMarks.reasonRequired']);
const MAX_TRIES = 5;

export function journalTextConversation(deps: BotDeps) {
  return async function journalText(conversation: JournalConversation, ctx: Context, args: JournalTextArgs) {
    const t = translate(deps, args.locale);
    let purpose = args.purpose;
    let action = args.action;
    await ctx.reply(t(args.prompt ?? PROMPTS[purpose]), { parse_mode: 'HTML', reply_markup: cancelKeyboard(t) });
    for (let tries = 0; tries < MAX_TRIES; tries++) {
      const u = await waitOrCancel(conversation, t);
      if (!u) return;
      const text = plainText(u);
      if (text === undefined) return conversation.halt({ next: true });
      const current = purpose;
      const currentAction = action;
      const out = await conversation.external((o) =>
        attempt(async (): Promise<ActionResult> => {
          const actor = actorOf(o);
          switch (current) {
            case 'reason':
              if (!currentAction) throw new Error('a reason prompt without an action');
              return runJournalAction(o.deps, actor, currentAction, text);
            case 'topic':
              return runJournalAction(o.deps, actor, { k: 'topic', lessonId: args.lessonId ?? '', text });
            case 'comment':
              return runJournalAction(o.deps, actor, { k: 'markChange', markId: args.markId ?? '', comment: text });
            case 'cancel':
              await cancelLesson(o.deps.db, actor, args.lessonId ?? '', text, o.deps.now());
              return { key: 'journal.cancelledDone', vars: {}, lessonId: args.lessonId };
          }
        }),
      );
      if (out.ok) {
        const kb = out.value.lessonId
          ? new InlineKeyboard().text(t('attendance.backToLesson'), lessonCb.pack({ l: out.value.lessonId }))
          : undefined;
        await u.reply(t(out.value.key, out.value.vars), { parse_mode: 'HTML', reply_markup: kb });
        return;
      }
      if (out.key === 'lock.reasonRequired' && current !== 'reason') {
        // The admin is changing a locked lesson: the same change, once more with a reason (R14).
        action =
          current === 'topic'
            ? { k: 'topic', lessonId: args.lessonId ?? '', text }
            : current === 'comment'
              ? { k: 'markChange', markId: args.markId ?? '', comment: text }
              : undefined;
        if (!action) return;
        purpose = 'reason';
        await u.reply(t('lock.askReason'), { parse_mode: 'HTML', reply_markup: cancelKeyboard(t) });
        continue;
      }
      await u.reply(t(out.key, out.vars), { parse_mode: 'HTML' });
      if (!RETRY.has(out.key)) return;
    }
  };
}
