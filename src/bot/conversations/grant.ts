import { type Context, InlineKeyboard } from 'grammy';
import type { Locale } from '../../config.js';
import { addDays, fullDate } from '../../domain/shared/calendar.js';
import { grantAccess, listActiveGrants, listTeachers } from '../../domain/school/grants.js';
import { listClasses } from '../../domain/school/people.js';
import { schoolToday } from '../../domain/journal/lessons.js';
import type { BotDeps } from '../context.js';
import { grantPickCb, grantsCb, promptCancelCb } from '../callbacks/journal.js';
import { actorOf, answer, attempt, type JournalConversation, translate, waitOrCancel } from './common.js';

/**
 * R7: the deputy gives a substitute teacher access to a class's lessons for some days: pick the
 * class, the teacher, the length (from today). The grant is checked by every journal use case.
 * The class picker also leads to the grants in force, to revoke one (features/journal/grants.ts).
 */
export interface GrantArgs {
  locale: Locale;
}

const RANGES = [1, 3, 7, 14, 30] as const;

export function grantConversation(deps: BotDeps) {
  return async function grant(conversation: JournalConversation, ctx: Context, args: GrantArgs) {
    const t = translate(deps, args.locale);
    const lists = await conversation.external((o) =>
      attempt(async () => {
        const actor = actorOf(o);
        const today = await schoolToday(o.deps.db, actor, o.deps.now());
        const [classes, teachers, active] = await Promise.all([
          listClasses(o.deps.db, actor),
          listTeachers(o.deps.db, actor),
          listActiveGrants(o.deps.db, actor, today),
        ]);
        return { classes, teachers, today, inForce: active.length };
      }),
    );
    if (!lists.ok) {
      await ctx.reply(t(lists.key, lists.vars));
      return;
    }
    const { classes, teachers, today, inForce } = lists.value;
    const pick = async (step: 'c' | 't' | 'r', text: string, labels: string[], perRow: number): Promise<number | undefined> => {
      const kb = new InlineKeyboard();
      labels.forEach((label, i) => {
        kb.text(label, grantPickCb.pack({ s: step, i }));
        if (i % perRow === perRow - 1) kb.row();
      });
      // The grants in force, to revoke one: a press leaves this conversation for the grants screen.
      if (step === 'c' && inForce > 0) kb.row().text(t('journal.grantsButton', { count: inForce }), grantsCb.pack({}));
      kb.row().text(t('common.cancel'), promptCancelCb.pack({}));
      await ctx.reply(text, { parse_mode: 'HTML', reply_markup: kb });
      for (;;) {
        const u = await waitOrCancel(conversation, t);
        if (!u) return undefined;
        const d = grantPickCb.unpack(u.callbackQuery?.data);
        if (!d) return conversation.halt({ next: true });
        await answer(u);
        if (d.s === step && d.i < labels.length) return d.i;
      }
    };
    const c = await pick('c', t('journal.grantClass'), classes.map((x) => x.name), 4);
    if (c === undefined) return;
    const tc = await pick('t', t('journal.grantTeacher'), teachers.slice(0, 90).map((x) => x.name), 2);
    if (tc === undefined) return;
    const r = await pick('r', t('journal.grantRange'), RANGES.map((n) => t('journal.days', { count: n })), 5);
    if (r === undefined) return;
    const cls = classes[c];
    const teacher = teachers[tc];
    const days = RANGES[r] ?? 1;
    if (!cls || !teacher) return;
    const to = addDays(today, days - 1);
    const out = await conversation.external((o) =>
      attempt(() => grantAccess(o.deps.db, actorOf(o), { teacherId: teacher.id, classId: cls.id, from: today, to }, o.deps.now())),
    );
    await ctx.reply(
      out.ok ? t('journal.granted', { teacher: teacher.name, className: cls.name, from: fullDate(today), to: fullDate(to) }) : t(out.key, out.vars),
      { parse_mode: 'HTML' },
    );
  };
}
