import { Composer, InlineKeyboard } from 'grammy';
import type { Role } from '../../../domain/shared/vocabulary.js';
import { AccessDenied } from '../../../domain/shared/errors.js';
import { canInviteStaff } from '../../../domain/school/invites/create.js';
import { redeemInvite } from '../../../domain/school/invites/redeem.js';
import { hasConsent, listProfiles, switchProfile } from '../../../domain/school/people.js';
import { importTemplatesCb, menuCb, profileCb } from '../../callbacks/school.js';
import { importableKinds } from '../../../domain/imports/index.js';
import { schoolToday } from '../../../domain/journal/lessons.js';
import { showTeacherDay } from '../journal/today.js';
import { setChatCommands } from '../../commands.js';
import type { BotContext } from '../../context.js';
import { actorMiddleware } from '../../middleware/actor.js';
import { showChildren } from '../diary/children.js';
import { showInviteMenu } from './invites.js';
import { showPrivacy } from './privacy.js';
import { sendJoinSummary } from '../../../domain/notices/summaries.js';

/**
 * Joining (R2, R3) and being someone: the deep link `/start <code>` binds this Telegram account to
 * the invited person; the role menu; /profile switches between the account's persons.
 */

/** Re-reads who is acting after the binding changed (same rules as the middleware). */
async function refreshActor(ctx: BotContext): Promise<void> {
  ctx.actor = undefined;
  if (ctx.from) {
    const account = await ctx.deps.db.models.Account.findOne({ telegramId: ctx.from.id }, { currentPersonId: 1 }).lean();
    ctx.currentPersonId = account?.currentPersonId ? String(account.currentPersonId) : undefined;
  }
  await actorMiddleware()(ctx, async () => undefined);
}

const isFamily = (roles: ReadonlySet<Role>) => roles.has('parent') || roles.has('student');

/** `/start <code>`: redeem, greet by role, and (families) show the 152-FZ notice first (R32). */
export async function joinByCode(ctx: BotContext, code: string): Promise<void> {
  const from = ctx.from;
  if (!from) return;
  const joined = await redeemInvite(ctx.deps.db, {
    telegramId: from.id,
    firstName: from.first_name,
    lastName: from.last_name,
    code,
    now: ctx.deps.now(),
  });
  // Ids only: names and codes never reach the log.
  ctx.deps.logger.info(
    { personId: joined.personId, schoolId: joined.schoolId, role: joined.role, rebound: joined.rebound },
    joined.alreadyJoined ? 'Invite reused by its own account' : 'Invite redeemed',
  );
  await refreshActor(ctx);
  const actor = ctx.actor;
  if (!actor) throw new AccessDenied();
  const school = await ctx.deps.db.models.School.findById(actor.schoolId, { name: 1 }).lean();
  const key = joined.alreadyJoined ? 'join.already' : 'join.welcome';
  await ctx.reply(
    [
      ctx.t(key, { name: from.first_name, school: school?.name ?? '', role: ctx.t(`roles.${joined.role}`) }),
      ctx.t(`join.hint.${joined.role}`),
    ].join('\n\n'),
    { parse_mode: 'HTML' },
  );
  await setChatCommands(ctx);
  if (isFamily(actor.roles) && !(await hasConsent(ctx.deps.db, actor))) {
    await showPrivacy(ctx);
    return;
  }
  // A family already consented (e.g. a new phone): the period summary (once per binding).
  if (isFamily(actor.roles) && !joined.alreadyJoined) {
    await sendJoinSummary(ctx.deps.db, joined.personId, { now: ctx.deps.now() });
  }
  await showRoleMenu(ctx);
}

/** What this person can do, as buttons to the features that exist. */
export async function showRoleMenu(ctx: BotContext): Promise<void> {
  const actor = ctx.actor;
  if (!actor) throw new AccessDenied();
  const kb = new InlineKeyboard();
  if (actor.roles.has('parent')) kb.text(ctx.t('join.menu.children'), menuCb.pack({ a: 'children' })).row();
  else if (actor.roles.has('student')) kb.text(ctx.t('join.menu.me'), menuCb.pack({ a: 'children' })).row();
  // A teacher's day starts from today's lessons (issue 11): the same screen as /today.
  if (actor.roles.has('teacher')) kb.text(ctx.t('join.menu.today'), menuCb.pack({ a: 'today' })).row();
  if (canInviteStaff(actor) || actor.classTeacherOf.size > 0) {
    kb.text(ctx.t('join.menu.invite'), menuCb.pack({ a: 'invite' })).row();
  }
  // Whoever loads the school's data is told how (by sending the file here) and offered the samples.
  const loads = importableKinds(actor).length > 0;
  if (loads) kb.text(ctx.t('import.bot.templatesButton'), importTemplatesCb.pack({})).row();
  kb.text(ctx.t('join.menu.privacy'), menuCb.pack({ a: 'privacy' })).row();
  if (ctx.profiles.length > 1) kb.text(ctx.t('join.menu.profile'), menuCb.pack({ a: 'profile' })).row();
  const school = await ctx.deps.db.models.School.findById(actor.schoolId, { name: 1 }).lean();
  const roles = [...actor.roles].map((r) => ctx.t(`roles.${r}`));
  if (actor.classTeacherOf.size > 0) roles.push(ctx.t('roles.classTeacher'));
  await ctx.reply(
    [
      ctx.t('start.known', { name: ctx.from?.first_name ?? '' }),
      ctx.t('join.menu.as', { roles: roles.join(', '), school: school?.name ?? '' }),
      ...(loads ? ['', ctx.t('import.bot.menuHint')] : []),
    ].join('\n'),
    { parse_mode: 'HTML', reply_markup: kb },
  );
}

async function showProfiles(ctx: BotContext): Promise<void> {
  const from = ctx.from;
  if (!from || !ctx.actor) throw new AccessDenied();
  const profiles = await listProfiles(ctx.deps.db, from.id, String(ctx.actor.personId));
  const describe = (p: (typeof profiles)[number]) =>
    `${p.schoolName}: ${p.roles.map((r) => ctx.t(`roles.${r}`)).join(', ')}`;
  if (profiles.length < 2) {
    await ctx.reply(ctx.t('profile.single', { profile: profiles[0] ? describe(profiles[0]) : '' }), { parse_mode: 'HTML' });
    return;
  }
  const kb = new InlineKeyboard();
  for (const p of profiles) kb.text(`${p.current ? '✅ ' : ''}${describe(p)}`, profileCb.pack({ p: p.personId })).row();
  await ctx.reply(ctx.t('profile.choose'), { reply_markup: kb });
}

export function joinFeature() {
  const composer = new Composer<BotContext>();
  composer.command('profile', async (ctx) => {
    if (!ctx.actor) {
      await ctx.reply(ctx.t('help.guest'));
      return;
    }
    await showProfiles(ctx);
  });
  composer.callbackQuery(profileCb.filter, async (ctx) => {
    const data = profileCb.unpack(ctx.callbackQuery.data);
    if (!data) {
      await ctx.answerCallbackQuery({ text: ctx.t('common.stale') });
      return;
    }
    // Only a person bound to this very account can be switched to (domain check).
    await switchProfile(ctx.deps.db, ctx.from.id, data.p);
    await refreshActor(ctx);
    await ctx.answerCallbackQuery({ text: ctx.t('profile.switched') });
    await setChatCommands(ctx);
    await showRoleMenu(ctx);
  });
  composer.callbackQuery(menuCb.filter, async (ctx) => {
    const data = menuCb.unpack(ctx.callbackQuery.data);
    if (!data || !ctx.actor) {
      await ctx.answerCallbackQuery({ text: ctx.t('common.stale') });
      return;
    }
    if (data.a === 'children') await showChildren(ctx);
    else if (data.a === 'invite') await showInviteMenu(ctx);
    else if (data.a === 'privacy') await showPrivacy(ctx);
    else if (data.a === 'today') {
      if (ctx.actor.roles.has('teacher')) await showTeacherDay(ctx, await schoolToday(ctx.deps.db, ctx.actor, ctx.deps.now()));
      else await ctx.reply(ctx.t('today.notTeacher'));
    } else await showProfiles(ctx);
    await ctx.answerCallbackQuery();
  });
  return composer;
}
