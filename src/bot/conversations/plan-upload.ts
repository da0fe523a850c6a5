import type { Context } from 'grammy';
import type { Locale } from '../../config.js';
import { DomainError } from '../../domain/shared/errors.js';
import { loadPlan, myPlanTargets, type PlanItemInput, type PlanReport, parsePlanFile, parsePlanText } from '../../domain/journal/plan.js';
import type { Translate } from '../../i18n.js';
import type { BotDeps } from '../context.js';
import { actorOf, attempt, cancelKeyboard, type JournalConversation, type OuterCtx, plainText, translate, waitOrCancel } from './common.js';

/**
 * Loading the calendar-thematic plan (КТП, R8): a CSV/XLSX file with Тема/Часы columns, or the
 * topics typed one per line ("Topic; hours"). The answer compares the plan's hours with the
 * curriculum hours of the teaching load (R9) and says the difference plainly.
 */
export interface PlanUploadArgs {
  locale: Locale;
  index: number;
}

const MAX_TRIES = 4;
const MAX_FILE_BYTES = 2 * 1024 * 1024;

/** Downloads a file the user sent, through the same HTTP client as the bot (tests: the fake). */
async function download(o: OuterCtx, filePath: string): Promise<Buffer> {
  const options = o.api.options ?? {};
  const root = options.apiRoot ?? 'https://api.telegram.org';
  const doFetch = options.fetch ?? fetch;
  const res = await doFetch(`${root}/file/bot${o.deps.config.botToken}/${filePath}`);
  if (!res.ok) throw new DomainError('plan.downloadFailed');
  return Buffer.from(await res.arrayBuffer());
}

export function reportText(t: Translate, r: PlanReport): string {
  const name = [r.className, r.groupName, r.subjectName].filter(Boolean).join(' · ');
  const lines = [t('plan.report', { name, items: r.items, hours: r.plannedHours })];
  if (r.curriculumHours === undefined) lines.push(t('plan.noLoad'));
  else if (r.difference === 0) lines.push(t('plan.matches', { hours: r.curriculumHours }));
  else if ((r.difference ?? 0) < 0) {
    lines.push(t('plan.fewer', { diff: -(r.difference ?? 0), planned: r.plannedHours, hours: r.curriculumHours }));
  } else lines.push(t('plan.more', { diff: r.difference ?? 0, planned: r.plannedHours, hours: r.curriculumHours }));
  return lines.join('\n');
}

export function planUploadConversation(deps: BotDeps) {
  return async function planUpload(conversation: JournalConversation, ctx: Context, args: PlanUploadArgs) {
    const t = translate(deps, args.locale);
    const target = await conversation.external((o) =>
      attempt(async () => {
        const targets = await myPlanTargets(o.deps.db, actorOf(o));
        const found = targets[args.index];
        if (!found) throw new DomainError('common.stale');
        return found;
      }),
    );
    if (!target.ok) {
      await ctx.reply(t(target.key, target.vars));
      return;
    }
    await ctx.reply(t('plan.prompt', { name: target.value.label }), { parse_mode: 'HTML', reply_markup: cancelKeyboard(t) });
    for (let tries = 0; tries < MAX_TRIES; tries++) {
      const u = await waitOrCancel(conversation, t);
      if (!u) return;
      const text = plainText(u);
      const document = u.message?.document;
      if (text === undefined && !document) {
        if (u.message && !u.message.text) {
          await u.reply(t('plan.sendFileOrText'));
          continue;
        }
        return conversation.halt({ next: true });
      }
      let filePath: string | undefined;
      let fileName = '';
      if (document) {
        if ((document.file_size ?? 0) > MAX_FILE_BYTES) {
          await u.reply(t('plan.fileTooBig'));
          continue;
        }
        const file = await u.getFile();
        filePath = file.file_path;
        fileName = document.file_name ?? 'plan.csv';
      }
      const out = await conversation.external((o) =>
        attempt(async () => {
          let items: PlanItemInput[];
          if (filePath !== undefined) items = await parsePlanFile(await download(o, filePath), fileName);
          else items = parsePlanText(text ?? '');
          const { classId, groupId, subjectId } = target.value;
          return loadPlan(o.deps.db, actorOf(o), { classId, groupId, subjectId }, items, o.deps.now());
        }),
      );
      if (out.ok) {
        await u.reply(reportText(t, out.value), { parse_mode: 'HTML' });
        return;
      }
      await u.reply(`${t(out.key, out.vars)}\n${t('plan.tryAgain')}`, { parse_mode: 'HTML', reply_markup: cancelKeyboard(t) });
    }
  };
}
