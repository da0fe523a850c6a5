import { Composer, InlineKeyboard, InputFile } from 'grammy';
import type { Role } from '../../../domain/shared/vocabulary.js';
import { type InviteSheetBlock, inviteSheetPdf } from '../../../documents/invite-sheet.js';
import { AccessDenied, DomainError } from '../../../domain/shared/errors.js';
import { inviteLink } from '../../../domain/school/invites/code.js';
import {
  type ClassInvite,
  canInviteStaff,
  classInviteOverview,
  createClassInvites,
  createStaffInvite,
  createStaffInvites,
  createStudentFamilyInvites,
  listStaff,
  type OverviewStudent,
} from '../../../domain/school/invites/create.js';
import {
  getOutstandingInvite,
  type InviteScope,
  listOutstandingInvites,
  OUTSTANDING_PAGE_SIZE,
  type OutstandingInvite,
  revokeInvite,
} from '../../../domain/school/invites/outstanding.js';
import { listInvitableClasses } from '../../../domain/school/people.js';
import {
  type INVITE_FAMILY as FAMILY,
  INVITE_STAFF_SCOPE as STAFF_SCOPE,
  inviteAllStaffCb,
  inviteClassCb,
  inviteMenuCb,
  inviteOutstandingCb,
  inviteRebindAskCb,
  inviteRebindCb,
  inviteRebindNoCb,
  inviteRevokeAskCb,
  inviteRevokeCb,
  inviteSheetCb,
  inviteStaffCb,
  inviteStaffListCb,
  inviteStudentCb,
} from '../../callbacks/school.js';
import type { BotContext } from '../../context.js';
import { showScreen } from '../../ui.js';
import { botUsername, requireActor, schoolOf, sendQr } from './invite-qr.js';
import { formatDay } from './privacy.js';
import { addRebindButtons, askRebind, confirmRebind } from './rebind.js';

/**
 * /invite (R2): the class teacher invites the families of their class — a printable sheet for a
 * parents' meeting, or one student's parents as QR codes to forward — and the admin invites staff.
 * Every button carries ids only; the domain re-checks the right to invite on every press.
 */
const roleOf = (r: (typeof FAMILY)[number]): 'parent' | 'student' => (r === 'p' ? 'parent' : 'student');


const STAFF_PAGE = 20;

/** A file name Telegram shows as is: no path separators or control characters. */
const safeFileName = (s: string) => s.replace(/[^\p{L}\p{N}_-]+/gu, '_');

export async function showInviteMenu(ctx: BotContext): Promise<void> {
  const actor = requireActor(ctx);
  const classes = await listInvitableClasses(ctx.deps.db, actor);
  if (canInviteStaff(actor)) {
    const kb = new InlineKeyboard()
      .text(ctx.t('invite.menu.staff'), inviteMenuCb.pack({ k: 'staff' }))
      .row()
      .text(ctx.t('invite.menu.classes'), inviteMenuCb.pack({ k: 'classes' }));
    await ctx.reply(ctx.t('invite.menu.title'), { reply_markup: kb });
    return;
  }
  if (classes.length === 0) {
    await ctx.reply(ctx.t('invite.notAllowed'));
    return;
  }
  const only = classes[0];
  if (classes.length === 1 && only) {
    await showClass(ctx, only.classId);
    return;
  }
  await showClassPicker(ctx, classes);
}

async function showClassPicker(ctx: BotContext, classes: Array<{ classId: string; name: string }>): Promise<void> {
  const kb = new InlineKeyboard();
  classes.forEach((c, i) => {
    kb.text(c.name, inviteClassCb.pack({ c: c.classId }));
    if (i % 4 === 3) kb.row();
  });
  await ctx.reply(ctx.t('invite.pickClass'), { reply_markup: kb });
}

async function showClass(ctx: BotContext, classId: string): Promise<void> {
  const actor = requireActor(ctx);
  const overview = await classInviteOverview(ctx.deps.db, actor, classId);
  const kb = new InlineKeyboard()
    .text(ctx.t('invite.class.sheetParents'), inviteSheetCb.pack({ c: overview.classId, r: 'p' }))
    .row()
    .text(ctx.t('invite.class.sheetStudents'), inviteSheetCb.pack({ c: overview.classId, r: 's' }))
    .row();
  overview.students.forEach((s, i) => {
    kb.text(studentLabel(s), inviteStudentCb.pack({ s: s.studentId, r: 'p' }));
    if (i % 2 === 1) kb.row();
  });
  await addOutstandingButton(ctx, kb, overview.classId);
  const joined = overview.students.filter((s) => s.parents > 0 && s.parentsJoined === s.parents).length;
  const title = ctx.t('invite.class.title', { className: overview.className, count: overview.students.length });
  await ctx.reply(`${title}\n\n${ctx.t('invite.class.joinedLegend', { joined, count: overview.students.length })}`, {
    parse_mode: 'HTML',
    reply_markup: kb,
  });
}

/** Who has joined, on the button (issue 11): ✅ all parents, ✅ 1/2 some, the bare name none yet. */
function studentLabel(s: OverviewStudent): string {
  if (s.parents > 0 && s.parentsJoined === s.parents) return `✅ ${s.name}`;
  if (s.parentsJoined > 0) return `${s.name} · ✅ ${s.parentsJoined}/${s.parents}`;
  return s.name;
}

/** What every family invite of a press carries: the role, the clock, the deployment's lifetime. */
const familyInvite = (ctx: BotContext, r: (typeof FAMILY)[number]) => ({
  role: roleOf(r),
  now: ctx.deps.now(),
  defaultTtlDays: ctx.deps.config.inviteTtlDays,
});

/** A printable sheet for the whole class, in the school's language (R2, parents' meeting). */
async function sendClassSheet(ctx: BotContext, classId: string, r: (typeof FAMILY)[number]): Promise<void> {
  const actor = requireActor(ctx);
  const overview = await classInviteOverview(ctx.deps.db, actor, classId);
  const invites = await createClassInvites(ctx.deps.db, actor, { classId, ...familyInvite(ctx, r) });
  const school = await schoolOf(ctx, actor);
  const blocks = sheetBlocks(invites, botUsername(ctx), r, overview.className);
  const expires = invites[0]?.expiresAt;
  const pdf = await inviteSheetPdf({
    title: school.t(r === 'p' ? 'invite.sheet.titleParents' : 'invite.sheet.titleStudents', {
      className: overview.className,
      interpolation: { escapeValue: false },
    }),
    subtitle: school.t('invite.sheet.subtitle', {
      school: school.name,
      date: expires ? formatDay(expires, school.locale, school.timezone) : '',
      interpolation: { escapeValue: false },
    }),
    childLabel: school.t(r === 'p' ? 'invite.sheet.child' : 'invite.sheet.student'),
    parentLabel: school.t(r === 'p' ? 'invite.sheet.parent' : 'invite.sheet.className'),
    instructions: school.t(r === 'p' ? 'invite.sheet.instructions' : 'invite.sheet.instructionsStudents', {
      interpolation: { escapeValue: false },
    }),
    blocks,
  });
  const prefix = r === 'p' ? 'invites' : 'invites-students';
  await ctx.api.sendDocument(ctx.chat?.id ?? actor.telegramId ?? 0, new InputFile(pdf, `${prefix}-${safeFileName(overview.className)}.pdf`), {
    caption: ctx.t('invite.sheet.caption', { className: overview.className, count: invites.length }),
    parse_mode: 'HTML',
  });
  ctx.deps.logger.info({ schoolId: String(actor.schoolId), classId, count: invites.length }, 'Class invite sheet sent');
}

function sheetBlocks(invites: ClassInvite[], bot: string, r: (typeof FAMILY)[number], className: string): InviteSheetBlock[] {
  return invites.flatMap((inv) => {
    const link = inviteLink(bot, inv.code);
    // A parent of two children in the class gets one code (a newer one supersedes), printed on each child's slip.
    if (r === 's') return [{ childName: inv.personName, parentName: className, link }];
    return inv.children.map((c) => ({ childName: c.name, parentName: inv.personName, link }));
  });
}

/** QR codes for one student's parents (or the student), to forward one by one. */
async function sendStudentInvites(ctx: BotContext, studentId: string, r: (typeof FAMILY)[number]): Promise<void> {
  const actor = requireActor(ctx);
  const { invites, connected } = await createStudentFamilyInvites(ctx.deps.db, actor, { studentId, ...familyInvite(ctx, r) });
  const school = await schoolOf(ctx, actor);
  for (const inv of invites) {
    await sendQr(ctx, {
      link: inviteLink(botUsername(ctx), inv.code),
      caption: ctx.t(r === 'p' ? 'invite.qr.parent' : 'invite.qr.student', {
        name: inv.personName,
        child: inv.children[0]?.name ?? '',
        date: formatDay(inv.expiresAt, ctx.locale, school.timezone),
      }),
    });
  }
  // Connected members get no new invite: they are listed, each with the explicit re-bind.
  const kb = new InlineKeyboard();
  addRebindButtons(ctx, kb, connected);
  if (r === 'p') kb.text(ctx.t('invite.qr.alsoStudent'), inviteStudentCb.pack({ s: studentId, r: 's' }));
  const parts = invites.length > 0 ? [ctx.t('invite.qr.sent', { count: invites.length })] : [];
  if (connected.length > 0) parts.push(ctx.t('invite.rebind.connected', { names: connected.map((c) => c.name).join(', ') }));
  await ctx.reply(parts.join('\n\n'), { reply_markup: kb.inline_keyboard.length > 0 ? kb : undefined });
}

async function showStaff(ctx: BotContext, page: number): Promise<void> {
  const actor = requireActor(ctx);
  const staff = await listStaff(ctx.deps.db, actor);
  const pages = Math.max(1, Math.ceil(staff.length / STAFF_PAGE));
  const n = Math.min(page, pages - 1);
  const kb = new InlineKeyboard();
  const unbound = staff.filter((s) => !s.bound).length;
  if (unbound > 0) kb.text(ctx.t('invite.staff.all', { count: unbound }), inviteAllStaffCb.pack({})).row();
  for (const s of staff.slice(n * STAFF_PAGE, (n + 1) * STAFF_PAGE)) {
    kb.text(`${s.bound ? '✅ ' : ''}${s.name}`, inviteStaffCb.pack({ p: s.personId })).row();
  }
  if (n > 0) kb.text('«', inviteStaffListCb.pack({ n: n - 1 }));
  if (n < pages - 1) kb.text('»', inviteStaffListCb.pack({ n: n + 1 }));
  await addOutstandingButton(ctx, kb, STAFF_SCOPE);
  await ctx.reply(ctx.t('invite.staff.title', { count: staff.length, unbound }), { reply_markup: kb });
}

async function sendStaffInvite(ctx: BotContext, personId: string): Promise<void> {
  const actor = requireActor(ctx);
  let inv: Awaited<ReturnType<typeof createStaffInvite>>;
  try {
    inv = await createStaffInvite(ctx.deps.db, actor, { personId, now: ctx.deps.now(), defaultTtlDays: ctx.deps.config.inviteTtlDays });
  } catch (e) {
    // A staff member who has joined (✅): moving them to a new phone is the explicit re-bind.
    if (e instanceof DomainError && e.key === 'invite.alreadyJoined') return askRebind(ctx, { p: personId, r: 't' });
    throw e;
  }
  const school = await schoolOf(ctx, actor);
  await sendQr(ctx, {
    link: inviteLink(botUsername(ctx), inv.code),
    caption: ctx.t('invite.qr.staff', {
      name: inv.personName,
      role: ctx.t(`roles.${inv.role}`),
      date: formatDay(inv.expiresAt, ctx.locale, school.timezone),
    }),
  });
}

/** All staff without an account: one printable sheet rather than dozens of messages (rate limits). */
async function sendAllStaffInvites(ctx: BotContext): Promise<void> {
  const actor = requireActor(ctx);
  const invites = await createStaffInvites(ctx.deps.db, actor, {
    now: ctx.deps.now(),
    defaultTtlDays: ctx.deps.config.inviteTtlDays,
  });
  const school = await schoolOf(ctx, actor);
  const noEscape = { interpolation: { escapeValue: false } };
  const roleName = (role: Role) => school.t(`roles.${role}`);
  const expires = invites[0]?.expiresAt;
  const pdf = await inviteSheetPdf({
    title: school.t('invite.sheet.titleStaff', { school: school.name, ...noEscape }),
    subtitle: school.t('invite.sheet.subtitle', {
      school: school.name,
      date: expires ? formatDay(expires, school.locale, school.timezone) : '',
      ...noEscape,
    }),
    childLabel: school.t('invite.sheet.employee'),
    parentLabel: school.t('invite.sheet.role'),
    instructions: school.t('invite.sheet.instructionsStaff', noEscape),
    blocks: invites.map((i) => ({ childName: i.personName, parentName: roleName(i.role), link: inviteLink(botUsername(ctx), i.code) })),
  });
  await ctx.api.sendDocument(ctx.chat?.id ?? ctx.from?.id ?? 0, new InputFile(pdf, 'invites-staff.pdf'), {
    caption: ctx.t('invite.staff.sheetCaption', { count: invites.length }),
  });
}

// ───────────────────────── outstanding invites: see and revoke (R2) ─────────────────────────

const domainScope = (c: string): InviteScope => (c === STAFF_SCOPE ? { kind: 'staff' } : { kind: 'class', classId: c });

/**
 * "Outstanding invites (N)" under a class or the staff list; shown only when there is something to
 * revoke, so a class that has not been invited yet keeps its short screen.
 */
async function addOutstandingButton(ctx: BotContext, kb: InlineKeyboard, c: string): Promise<void> {
  const { total } = await listOutstandingInvites(ctx.deps.db, requireActor(ctx), {
    scope: domainScope(c),
    now: ctx.deps.now(),
  });
  if (total === 0) return;
  const key = c === STAFF_SCOPE ? 'invite.outstanding.openStaff' : 'invite.outstanding.openClass';
  kb.row().text(ctx.t(key, { count: total }), inviteOutstandingCb.pack({ c, n: 0 }));
}

/** Whom an invite is for, as HTML-escaped text: "Мария Иванова (мама ученика Матвей Иванов)". */
function whoOf(ctx: BotContext, inv: OutstandingInvite): string {
  const role = ctx.t(`roles.${inv.role}`);
  if (inv.kind === 'staff') {
    return inv.personName
      ? ctx.t('invite.outstanding.who.staff', { name: inv.personName, role })
      : ctx.t('invite.outstanding.who.newStaff', { role });
  }
  if (inv.kind === 'student') return ctx.t('invite.outstanding.who.student', { name: inv.personName });
  const first = inv.children[0];
  if (!first) return ctx.t('invite.outstanding.who.parentOnly', { name: inv.personName });
  return ctx.t('invite.outstanding.who.parent', {
    name: inv.personName,
    relation: ctx.t(`invite.outstanding.relation.${first.relation}`),
    children: inv.children.map((c) => c.name).join(', '),
  });
}

/** The list of one class's (or the staff's) outstanding invites, a "Revoke" button per invite. */
async function showOutstanding(ctx: BotContext, c: string, page: number, notice?: string): Promise<void> {
  const actor = requireActor(ctx);
  const list = await listOutstandingInvites(ctx.deps.db, actor, { scope: domainScope(c), page, now: ctx.deps.now() });
  const { timezone } = await schoolOf(ctx, actor);
  const day = (d: Date) => formatDay(d, ctx.locale, timezone);
  const first = list.page * OUTSTANDING_PAGE_SIZE;
  const parts: string[] = [];
  if (notice) parts.push(notice);
  parts.push(
    c === STAFF_SCOPE
      ? ctx.t('invite.outstanding.titleStaff', { count: list.total })
      : ctx.t('invite.outstanding.titleClass', { className: list.className ?? '', count: list.total }),
  );
  if (list.items.length === 0) parts.push(ctx.t('invite.outstanding.empty'));
  list.items.forEach((inv, i) => {
    parts.push(
      ctx.t('invite.outstanding.line', {
        n: first + i + 1,
        who: whoOf(ctx, inv),
        created: day(inv.createdAt),
        expires: day(inv.expiresAt),
      }),
    );
  });
  if (list.pages > 1) parts.push(ctx.t('invite.outstanding.page', { page: list.page + 1, pages: list.pages }));

  const kb = new InlineKeyboard();
  list.items.forEach((inv, i) => {
    const name = inv.personName || ctx.t(`roles.${inv.role}`);
    kb.text(
      ctx.t('invite.outstanding.revokeButton', { n: first + i + 1, name }),
      inviteRevokeAskCb.pack({ i: inv.inviteId, c, n: list.page }),
    ).row();
  });
  if (list.page > 0) kb.text('«', inviteOutstandingCb.pack({ c, n: list.page - 1 }));
  if (list.page < list.pages - 1) kb.text('»', inviteOutstandingCb.pack({ c, n: list.page + 1 }));
  if (list.pages > 1) kb.row();
  kb.text(ctx.t('common.back'), c === STAFF_SCOPE ? inviteStaffListCb.pack({ n: 0 }) : inviteClassCb.pack({ c }));
  await showScreen(ctx, parts.join('\n\n'), kb);
}

type RevokeData = { i: string; c: string; n: number };

/** "Revoke the invite for …? The link will stop working." The domain checks the right first. */
async function askRevoke(ctx: BotContext, d: RevokeData): Promise<void> {
  const inv = await getOutstandingInvite(ctx.deps.db, requireActor(ctx), d.i, ctx.deps.now());
  const kb = new InlineKeyboard()
    .text(ctx.t('invite.outstanding.yes'), inviteRevokeCb.pack(d))
    .text(ctx.t('invite.outstanding.no'), inviteOutstandingCb.pack({ c: d.c, n: d.n }));
  await showScreen(ctx, ctx.t('invite.outstanding.confirm', { who: whoOf(ctx, inv) }), kb);
}

async function confirmRevoke(ctx: BotContext, d: RevokeData): Promise<void> {
  const actor = requireActor(ctx);
  const now = ctx.deps.now();
  const inv = await getOutstandingInvite(ctx.deps.db, actor, d.i, now);
  await revokeInvite(ctx.deps.db, actor, d.i, now);
  ctx.deps.logger.info({ schoolId: String(actor.schoolId), inviteId: d.i }, 'Invite revoked');
  await showOutstanding(ctx, d.c, d.n, ctx.t('invite.outstanding.revoked', { who: whoOf(ctx, inv) }));
}

export function invitesFeature() {
  const composer = new Composer<BotContext>();
  composer.command('invite', async (ctx) => {
    if (!ctx.actor) {
      await ctx.reply(ctx.t('invite.notAllowed'));
      return;
    }
    await showInviteMenu(ctx);
  });

  /** Unpacks, runs the action (domain checks first), then answers the query; a bad payload is "stale". */
  const on = <T>(cb: { filter: RegExp; unpack(d: string | undefined): T | undefined }, run: (ctx: BotContext, d: T) => Promise<void>) =>
    composer.callbackQuery(cb.filter, async (ctx) => {
      const data = cb.unpack(ctx.callbackQuery.data);
      if (data === undefined) {
        await ctx.answerCallbackQuery({ text: ctx.t('common.stale') });
        return;
      }
      await run(ctx, data);
      await ctx.answerCallbackQuery().catch(() => undefined);
    });

  on(inviteMenuCb, async (ctx, d) => {
    const actor = requireActor(ctx);
    if (d.k === 'staff') return showStaff(ctx, 0);
    const classes = await listInvitableClasses(ctx.deps.db, actor);
    if (classes.length === 0) throw new AccessDenied();
    await showClassPicker(ctx, classes);
  });
  on(inviteClassCb, (ctx, d) => showClass(ctx, d.c));
  on(inviteSheetCb, (ctx, d) => sendClassSheet(ctx, d.c, d.r));
  on(inviteStudentCb, (ctx, d) => sendStudentInvites(ctx, d.s, d.r));
  on(inviteStaffListCb, (ctx, d) => showStaff(ctx, d.n));
  on(inviteStaffCb, (ctx, d) => sendStaffInvite(ctx, d.p));
  on(inviteAllStaffCb, (ctx) => sendAllStaffInvites(ctx));
  on(inviteOutstandingCb, (ctx, d) => showOutstanding(ctx, d.c, d.n));
  on(inviteRevokeAskCb, askRevoke);
  on(inviteRevokeCb, confirmRevoke);
  on(inviteRebindAskCb, askRebind);
  on(inviteRebindCb, confirmRebind);
  on(inviteRebindNoCb, (ctx) => showScreen(ctx, ctx.t('common.cancelled')));
  return composer;
}
