import { Composer, InlineKeyboard } from 'grammy';
import { getActiveGrant, type GrantView, listActiveGrants, revokeGrant } from '../../../domain/school/grants.js';
import { schoolToday } from '../../../domain/journal/lessons.js';
import { fullDate } from '../../../domain/shared/calendar.js';
import { escapeHtml, type Translate } from '../../../i18n.js';
import { grantRevokeAskCb, grantRevokeCb, grantsCb } from '../../callbacks/journal.js';
import type { BotContext } from '../../context.js';
import { ack, guardedRun, requireActor, STALE, show } from './ui.js';

/**
 * The access given to substitutes (R7), for the deputy and the admin: the grants in force or to
 * come, each with a button to revoke it after a confirmation. Reached from /grant's class picker.
 * Buttons carry the grant id only; revokeGrant checks the role again, so a forged press from
 * anyone else is refused and changes nothing.
 */

const LIST_MAX = 40;

function grantLine(g: GrantView): string {
  const subject = g.subjectName ? ` · ${g.subjectName}` : '';
  return `${g.teacherName} · ${g.className}${subject} · ${fullDate(g.from)} – ${fullDate(g.to)}`;
}

const grantVars = (g: GrantView) => ({ teacher: g.teacherName, className: g.className, from: fullDate(g.from), to: fullDate(g.to) });

async function showGrants(ctx: BotContext, note?: string): Promise<void> {
  const actor = requireActor(ctx);
  const today = await schoolToday(ctx.deps.db, actor, ctx.deps.now());
  const grants = await listActiveGrants(ctx.deps.db, actor, today);
  const t: Translate = ctx.t;
  const lines = [`🗂 ${t('journal.grantsTitle')}`, ''];
  if (note) lines.push(note, '');
  lines.push(grants.length ? t('journal.grantsPick') : t('journal.grantsNone'));
  for (const g of grants.slice(0, LIST_MAX)) lines.push(escapeHtml(grantLine(g)));
  const kb = new InlineKeyboard();
  for (const g of grants.slice(0, LIST_MAX)) {
    kb.text(t('journal.grantRevokeButton', { teacher: g.teacherName, className: g.className }), grantRevokeAskCb.pack({ g: g.grantId })).row();
  }
  await show(ctx, lines.join('\n').slice(0, 4000), kb);
}

async function askRevoke(ctx: BotContext, grantId: string): Promise<void> {
  const actor = requireActor(ctx);
  const today = await schoolToday(ctx.deps.db, actor, ctx.deps.now());
  const grant = await getActiveGrant(ctx.deps.db, actor, grantId, today);
  const t = ctx.t;
  const kb = new InlineKeyboard()
    .text(t('journal.grantRevokeYes'), grantRevokeCb.pack({ g: grant.grantId }))
    .text(t('journal.grantsBack'), grantsCb.pack({}));
  await show(ctx, escapeHtml(t('journal.grantRevokeAsk', grantVars(grant))), kb);
}

async function revoke(ctx: BotContext, grantId: string): Promise<void> {
  const actor = requireActor(ctx);
  const now = ctx.deps.now();
  const grant = await getActiveGrant(ctx.deps.db, actor, grantId, await schoolToday(ctx.deps.db, actor, now));
  await revokeGrant(ctx.deps.db, actor, grant.grantId, now);
  await showGrants(ctx, escapeHtml(ctx.t('journal.grantRevoked', grantVars(grant))));
  await ack(ctx, ctx.t('journal.grantRevokedShort'));
}

export function grantsFeature() {
  const composer = new Composer<BotContext>();
  composer.callbackQuery(grantsCb.filter, (ctx) =>
    guardedRun(ctx, async () => {
      await showGrants(ctx);
      await ack(ctx);
    }),
  );
  composer.callbackQuery(grantRevokeAskCb.filter, (ctx) =>
    guardedRun(ctx, async () => {
      const data = grantRevokeAskCb.unpack(ctx.callbackQuery.data);
      if (!data) return STALE(ctx);
      await askRevoke(ctx, data.g);
      await ack(ctx);
    }),
  );
  composer.callbackQuery(grantRevokeCb.filter, (ctx) =>
    guardedRun(ctx, async () => {
      const data = grantRevokeCb.unpack(ctx.callbackQuery.data);
      if (!data) return STALE(ctx);
      await revoke(ctx, data.g);
    }),
  );
  return composer;
}
