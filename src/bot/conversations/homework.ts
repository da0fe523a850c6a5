import { type Context, InlineKeyboard } from 'grammy';
import type { Locale } from '../../config.js';
import { dayMonth, fullDate } from '../../domain/shared/calendar.js';
import { HOMEWORK_TEXT_MAX, type HomeworkAttachment, nextLessonOfSubject, prepareHomework } from '../../domain/journal/homework.js';
import { telegramLength } from '../../domain/shared/text-limits.js';
import { DomainError } from '../../domain/shared/errors.js';
import { escapeHtml, type Translate } from '../../i18n.js';
import type { BotDeps } from '../context.js';
import { lessonCb, promptCancelCb, promptDoneCb } from '../callbacks/journal.js';
import { type ActionResult, runJournalAction } from '../features/journal/actions.js';
import { lessonName } from '../features/journal/ui.js';
import { actorOf, answer, attempt, type JournalConversation, plainText, translate, waitOrCancel } from './common.js';

/**
 * Homework (R22): the teacher sends the text and any photos or files, then taps Done; the
 * homework is for this lesson or the next lesson of the subject (from the timetable). A new
 * homework replaces the old one (editable); the audit keeps both. File ids only are stored.
 */
export interface HomeworkArgs {
  locale: Locale;
  lessonId: string;
  next: boolean;
}

const MAX_STEPS = 40;

export function homeworkConversation(deps: BotDeps) {
  return async function homework(conversation: JournalConversation, ctx: Context, args: HomeworkArgs) {
    const t = translate(deps, args.locale);
    const target = await conversation.external((o) =>
      attempt(async () => {
        const actor = actorOf(o);
        let lessonId = args.lessonId;
        if (args.next) {
          const next = await nextLessonOfSubject(o.deps.db, actor, args.lessonId);
          if (!next) throw new DomainError('homework.noNextLesson');
          lessonId = next.lessonId;
        }
        const prep = await prepareHomework(o.deps.db, actor, lessonId, o.deps.now());
        return {
          lessonId,
          title: `${lessonName(prep.lesson)} · ${fullDate(prep.lesson.date)}`,
          due: dueLine(t, prep.dueOn),
          text: prep.text,
          files: prep.files,
        };
      }),
    );
    if (!target.ok) {
      await ctx.reply(t(target.key, target.vars), { parse_mode: 'HTML' });
      return;
    }
    const { lessonId, title, due } = target.value;
    const texts: string[] = [];
    const attachments: HomeworkAttachment[] = [];
    const prompt = await ctx.reply(promptText(t, { title, due }, target.value.text, target.value.files, texts, attachments), {
      parse_mode: 'HTML',
      reply_markup: keyboard(t),
    });
    const refresh = () =>
      ctx.api
        .editMessageText(prompt.chat.id, prompt.message_id, promptText(t, { title, due }, target.value.text, target.value.files, texts, attachments), {
          parse_mode: 'HTML',
          reply_markup: keyboard(t),
        })
        .catch(() => undefined);
    let reason: string | undefined;
    let askingReason = false;
    for (let step = 0; step < MAX_STEPS; step++) {
      const u = await waitOrCancel(conversation, t);
      if (!u) return;
      const done = u.callbackQuery?.data === promptDoneCb.pack({});
      if (!done) {
        const m = u.message;
        const text = plainText(u);
        if (askingReason && text !== undefined) {
          reason = text;
        } else if (text !== undefined) {
          // Refused at once, not at Done: the text is not kept, so the teacher just sends a shorter one.
          if (tooLong(texts, text)) {
            await u.reply(t('homework.tooLong', { length: telegramLength([...texts, text].join('\n')), max: HOMEWORK_TEXT_MAX }));
            continue;
          }
          texts.push(text);
          await refresh();
          continue;
        } else if (m?.photo?.length) {
          if (m.caption && tooLong(texts, m.caption)) {
            await u.reply(t('homework.tooLong', { length: telegramLength([...texts, m.caption].join('\n')), max: HOMEWORK_TEXT_MAX }));
            continue;
          }
          const best = m.photo[m.photo.length - 1];
          if (best) attachments.push({ kind: 'photo', fileId: best.file_id, fileUniqueId: best.file_unique_id });
          if (m.caption) texts.push(m.caption);
          await refresh();
          continue;
        } else if (m?.document) {
          if (m.caption && tooLong(texts, m.caption)) {
            await u.reply(t('homework.tooLong', { length: telegramLength([...texts, m.caption].join('\n')), max: HOMEWORK_TEXT_MAX }));
            continue;
          }
          attachments.push({
            kind: 'document',
            fileId: m.document.file_id,
            fileUniqueId: m.document.file_unique_id,
            name: m.document.file_name,
            mimeType: m.document.mime_type,
          });
          if (m.caption) texts.push(m.caption);
          await refresh();
          continue;
        } else if (m && !m.text) {
          await u.reply(t('homework.unsupported'));
          continue;
        } else {
          return conversation.halt({ next: true });
        }
      } else {
        await answer(u);
      }
      const text = texts.join('\n').trim() || undefined;
      if (!text && attachments.length === 0) {
        await u.reply(t('homework.empty'));
        continue;
      }
      const why = reason;
      const out = await conversation.external((o) =>
        attempt(
          (): Promise<ActionResult> => runJournalAction(o.deps, actorOf(o), { k: 'homework', lessonId, text, attachments }, why),
        ),
      );
      if (out.ok) {
        await u.reply(`${t('homework.saved', { files: attachments.length, title })}\n${due}`, {
          parse_mode: 'HTML',
          reply_markup: new InlineKeyboard().text(t('attendance.backToLesson'), lessonCb.pack({ l: lessonId })),
        });
        return;
      }
      if (out.key === 'lock.reasonRequired' && !askingReason) {
        askingReason = true;
        await u.reply(t('lock.askReason'), { parse_mode: 'HTML' });
        continue;
      }
      await u.reply(t(out.key, out.vars), { parse_mode: 'HTML' });
      if (out.key !== 'common.tooLong' && out.key !== 'lock.reasonRequired') return;
    }
  };
}

function keyboard(t: Translate): InlineKeyboard {
  return new InlineKeyboard().text(t('homework.done'), promptDoneCb.pack({})).text(t('common.cancel'), promptCancelCb.pack({}));
}

/** Would the homework text, with this part added, exceed what setHomework accepts? */
const tooLong = (texts: string[], more: string) => telegramLength([...texts, more].join('\n').trim()) > HOMEWORK_TEXT_MAX;

/** The date families will see the homework under (issue 11 item 5: one due date on both sides). */
export function dueLine(t: Translate, dueOn: string | undefined): string {
  return dueOn ? t('homework.dueOn', { date: dayMonth(dueOn) }) : t('homework.dueUnknown');
}

function promptText(
  t: Translate,
  { title, due }: { title: string; due: string },
  current: string | undefined,
  currentFiles: number,
  texts: string[],
  attachments: HomeworkAttachment[],
): string {
  const lines = [`🏠 <b>${escapeHtml(title)}</b>`, due];
  if (current || currentFiles) lines.push(t('homework.current', { text: current ?? '—', files: currentFiles }));
  lines.push('', t('homework.prompt'));
  if (texts.length || attachments.length) {
    lines.push('', t('homework.collected', { chars: texts.join('\n').length, files: attachments.length }));
  }
  return lines.join('\n');
}
