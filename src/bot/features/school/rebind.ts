import { InlineKeyboard } from 'grammy';
import type { ConnectedMember } from '../../../domain/school/invites/create.js';
import { inviteLink } from '../../../domain/school/invites/code.js';
import { type RebindRole, rebindCandidate, startRebind } from '../../../domain/school/invites/rebind.js';
import { inviteRebindAskCb, inviteRebindCb, inviteRebindNoCb } from '../../callbacks/school.js';
import type { BotContext } from '../../context.js';
import { showScreen } from '../../ui.js';
import { botUsername, requireActor, schoolOf, sendQr } from './invite-qr.js';
import { formatDay } from './privacy.js';

/**
 * Moving a connected person to a new phone (issue 11, R3): never a side effect of a tap on a
 * student or a staff member. A "Re-bind to a new phone" button per connected person, a
 * confirmation that says what happens, then the invite; the domain audits it and tells the
 * account the person uses now.
 */

/** One "🔁 Re-bind … to a new phone" button per connected family member. */
export function addRebindButtons(ctx: BotContext, kb: InlineKeyboard, connected: ConnectedMember[]): void {
  for (const c of connected) {
    const r: RebindRole = c.role === 'parent' ? 'p' : 's';
    kb.text(ctx.t('invite.rebind.button', { name: c.name }), inviteRebindAskCb.pack({ p: c.personId, r })).row();
  }
}

export async function askRebind(ctx: BotContext, d: { p: string; r: RebindRole }): Promise<void> {
  const who = await rebindCandidate(ctx.deps.db, requireActor(ctx), d.p, d.r);
  const kb = new InlineKeyboard()
    .text(ctx.t('invite.rebind.yes'), inviteRebindCb.pack(d))
    .row()
    .text(ctx.t('common.cancel'), inviteRebindNoCb.pack({}));
  await showScreen(ctx, ctx.t('invite.rebind.confirm', { name: who.name }), kb);
}

export async function confirmRebind(ctx: BotContext, d: { p: string; r: RebindRole }): Promise<void> {
  const actor = requireActor(ctx);
  const inv = await startRebind(ctx.deps.db, actor, {
    personId: d.p,
    r: d.r,
    now: ctx.deps.now(),
    defaultTtlDays: ctx.deps.config.inviteTtlDays,
  });
  ctx.deps.logger.info({ schoolId: String(actor.schoolId), inviteId: inv.inviteId }, 'Re-bind invite issued');
  const school = await schoolOf(ctx, actor);
  await showScreen(ctx, ctx.t('invite.rebind.done', { name: inv.personName }));
  await sendQr(ctx, {
    link: inviteLink(botUsername(ctx), inv.code),
    caption: ctx.t('invite.rebind.qr', { name: inv.personName, date: formatDay(inv.expiresAt, ctx.locale, school.timezone) }),
  });
}
