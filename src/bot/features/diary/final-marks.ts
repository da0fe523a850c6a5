import { InlineKeyboard } from 'grammy';
import { diaryFinalMarks } from '../../../domain/diary/final-marks.js';
import { AccessDenied } from '../../../domain/shared/errors.js';
import { escapeHtml } from '../../../i18n.js';
import { periodName } from '../../../notify/render.js';
import { diaryCb } from '../../callbacks/diary.js';
import type { BotContext } from '../../context.js';
import { showScreen } from '../../ui.js';

/**
 * The diary's period and year marks (R24, R16): a line per subject with each period's mark and
 * the year's. `yearIndex` 0 is this year, 1… the child's earlier years (readable after the year is
 * closed, R30). The domain checks the reader (R4) and the consent before anything is shown.
 */
export async function showFinalMarks(ctx: BotContext, s: string, yearIndex: number): Promise<void> {
  const actor = ctx.actor;
  if (!actor) throw new AccessDenied();
  const t = ctx.t;
  const first = await diaryFinalMarks(ctx.deps.db, actor, s, ctx.deps.now());
  const years = [...(first.year ? [{ id: first.year.id, name: first.year.name }] : []), ...first.otherYears];
  const chosen = years[yearIndex];
  const v = yearIndex > 0 && chosen ? await diaryFinalMarks(ctx.deps.db, actor, s, ctx.deps.now(), { yearId: chosen.id }) : first;
  const lines = [t('diary.final.title', { name: v.student.name, year: v.year?.name ?? '—' })];
  if (v.rows.length === 0) lines.push('', t('diary.final.none'));
  for (const row of v.rows) {
    const cells = v.periods.map((code) => `${periodName(t, code)}: <b>${row.values[code] ?? '—'}</b>`);
    lines.push('', `📘 ${escapeHtml(row.subject)}`, cells.join(' · '));
  }
  lines.push('', t('diary.final.legend'));
  const kb = new InlineKeyboard();
  years.forEach((y, i) => {
    if (i !== yearIndex) kb.text(t('diary.final.otherYear', { name: y.name }), diaryCb.pack({ a: 'f', s, p: i * 10 }));
  });
  if (years.length > 1) kb.row();
  kb.text(t('diary.back'), diaryCb.pack({ a: 'menu', s, p: 0 }));
  await showScreen(ctx, lines.join('\n'), kb);
}
