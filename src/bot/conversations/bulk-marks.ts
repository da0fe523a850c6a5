import { type Context, InlineKeyboard } from 'grammy';
import type { Locale } from '../../config.js';
import { fullDate } from '../../domain/shared/calendar.js';
import { assertCanMarkLesson, lessonMarksSheet, newClientKey, recordMark } from '../../domain/journal/marks.js';
import { escapeHtml, type Translate } from '../../i18n.js';
import type { BotDeps } from '../context.js';
import { bulkCb, lessonCb } from '../callbacks/journal.js';
import { lessonName } from '../features/journal/ui.js';
import { actorOf, answer, attempt, type JournalConversation, PROMPT_TIMEOUT_MS, plainText, translate } from './common.js';

/**
 * Marks for a test, student by student (R11, R12): one message shows "12 of 28: name" with
 * 2 3 4 5 / skip / absent / stop; a typed digit works too. Each mark is saved as it is given
 * (stopping keeps what was saved) with the key `<run>:<student index>`, and every button carries
 * the student's index: a replayed step or a double tap never saves a mark twice, nor gives the
 * next student the previous one's mark.
 */
export interface BulkMarksArgs {
  locale: Locale;
  lessonId: string;
  kind: number;
}

interface Prepared {
  title: string;
  kindCode: string;
  kindName: string;
  runId: string;
  students: Array<{ id: string; name: string; has: number }>;
}

export function bulkMarksConversation(deps: BotDeps) {
  return async function bulkMarks(conversation: JournalConversation, ctx: Context, args: BulkMarksArgs) {
    const t = translate(deps, args.locale);
    const prep = await conversation.external((o) =>
      attempt(async (): Promise<Prepared> => {
        const actor = actorOf(o);
        const now = o.deps.now();
        await assertCanMarkLesson(o.deps.db, actor, args.lessonId, now);
        const sheet = await lessonMarksSheet(o.deps.db, actor, args.lessonId, now);
        const view = sheet.lesson;
        const kind = sheet.kinds[args.kind] ?? sheet.kinds[0];
        if (!kind) throw new Error('the school has no kinds of work');
        return {
          title: `${lessonName(view)} · ${fullDate(view.date)}`,
          kindCode: kind.code,
          kindName: args.locale === 'en' ? kind.name.en : kind.name.ru,
          runId: newClientKey(),
          students: sheet.students.map((s) => ({ id: s.id, name: s.label, has: s.marks.length })),
        };
      }),
    );
    if (!prep.ok) {
      await ctx.reply(t(prep.key, prep.vars), { parse_mode: 'HTML' });
      return;
    }
    const { students } = prep.value;
    if (students.length === 0) {
      await ctx.reply(t('attendance.noStudents'));
      return;
    }
    const msg = await ctx.reply(progressText(t, prep.value, 0), { parse_mode: 'HTML', reply_markup: keyboard(t, 0) });
    const edit = (text: string, kb?: InlineKeyboard) =>
      ctx.api.editMessageText(msg.chat.id, msg.message_id, text, { parse_mode: 'HTML', reply_markup: kb });
    let i = 0;
    let saved = 0;
    const skipped: string[] = [];
    const absent: string[] = [];
    while (i < students.length) {
      const u = await conversation.wait({ maxMilliseconds: PROMPT_TIMEOUT_MS });
      const data = u.callbackQuery?.data;
      let value: string | undefined;
      if (data !== undefined && bulkCb.filter.test(data)) {
        const d = bulkCb.unpack(data);
        if (!d) {
          await answer(u, t('common.stale'));
          continue;
        }
        if (d.a === 'x') {
          await answer(u);
          break;
        }
        if (d.i !== i) {
          // A second tap on a button of a student already done.
          await answer(u, t('marks.bulkAlready'));
          continue;
        }
        if (d.a === 's' || d.a === 'a') {
          (d.a === 's' ? skipped : absent).push(students[i]?.name ?? '');
          i++;
          await answer(u);
          if (i < students.length) await edit(progressText(t, prep.value, i), keyboard(t, i));
          continue;
        }
        value = d.m;
      } else {
        value = plainText(u);
        if (value === undefined) {
          // Any other button or command: leave the bulk entry (saved marks stay) and let it run.
          await edit(summaryText(t, prep.value, saved, skipped, absent, true));
          return conversation.halt({ next: true });
        }
      }
      const student = students[i];
      if (!student) break;
      const index = i;
      const mark = value;
      const res = await conversation.external((o) =>
        attempt(async () => {
          const r = await recordMark(
            o.deps.db,
            actorOf(o),
            { lessonId: args.lessonId, studentId: student.id, value: mark, workKind: prep.value.kindCode, clientKey: `${prep.value.runId}:${index}` },
            o.deps.now(),
          );
          return { value: r.mark.value, duplicate: r.duplicate };
        }),
      );
      if (!res.ok) {
        const said = t(res.key, res.vars);
        if (u.callbackQuery && said.length <= 200) await answer(u, said, true);
        else {
          await answer(u);
          await u.reply(said, { parse_mode: 'HTML' });
        }
        // R11: "5+", "4-", "1", "." … are refused; the same student stays on screen.
        if (res.key === 'marks.invalid' || res.key === 'marks.empty') continue;
        // R18: this student is marked another way (hospital: through the admin): go on with the next.
        if (res.key === 'marks.hospital' || res.key === 'marks.notInLesson') {
          skipped.push(student.name);
          i++;
          if (i < students.length) await edit(progressText(t, prep.value, i), keyboard(t, i));
          continue;
        }
        // Anything else (the lesson locked meanwhile, access gone): stop, keeping what was saved.
        await edit(summaryText(t, prep.value, saved, skipped, absent, true));
        return;
      }
      if (!res.value.duplicate) saved++;
      i++;
      await answer(u, t('marks.savedShort', { value: res.value.value }));
      if (i < students.length) await edit(progressText(t, prep.value, i), keyboard(t, i));
    }
    await edit(
      summaryText(t, prep.value, saved, skipped, absent, i < students.length),
      new InlineKeyboard().text(t('attendance.backToLesson'), lessonCb.pack({ l: args.lessonId })),
    );
  };
}

function keyboard(t: Translate, i: number): InlineKeyboard {
  const kb = new InlineKeyboard();
  for (const v of ['2', '3', '4', '5']) kb.text(v, bulkCb.pack({ a: 'v', m: v, i }));
  return kb
    .row()
    .text(t('marks.bulkSkip'), bulkCb.pack({ a: 's', m: '-', i }))
    .text(t('marks.bulkAbsent'), bulkCb.pack({ a: 'a', m: '-', i }))
    .row()
    .text(t('marks.bulkStop'), bulkCb.pack({ a: 'x', m: '-', i }));
}

function progressText(t: Translate, p: Prepared, i: number): string {
  const s = p.students[i];
  const lines = [
    `📝 <b>${escapeHtml(p.title)}</b>`,
    t('marks.bulkKind', { kind: p.kindName }),
    '',
    t('marks.bulkProgress', { n: i + 1, total: p.students.length }),
    `<b>${escapeHtml(s?.name ?? '')}</b>${s?.has ? ` ${t('marks.bulkHas', { count: s.has })}` : ''}`,
    '',
    t('marks.bulkHint'),
  ];
  return lines.join('\n');
}

function summaryText(t: Translate, p: Prepared, saved: number, skipped: string[], absent: string[], stopped: boolean): string {
  const lines = [`📝 <b>${escapeHtml(p.title)}</b>`, t(stopped ? 'marks.bulkStopped' : 'marks.bulkDone', { saved, total: p.students.length })];
  if (skipped.length) lines.push(t('marks.bulkSkipped', { names: skipped.join(', ') }));
  if (absent.length) lines.push(t('marks.bulkAbsentList', { names: absent.join(', ') }));
  return lines.join('\n');
}
