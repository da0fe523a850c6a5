import { Composer, InlineKeyboard } from 'grammy';
import { NOTIFY_MODES, type NotifyMode, PREF_KINDS } from '../../../domain/shared/vocabulary.js';
import { getPreferences, type PreferencesView, setDigest, setMode, setPaperLetter } from '../../../domain/notices/preferences.js';
import { listMyChildren } from '../../../domain/school/people.js';
import { prefsChildCb, prefsDigestCb, prefsModeCb, prefsPaperCb } from '../../callbacks/diary.js';
import type { BotContext } from '../../context.js';
import { showScreen } from '../../ui.js';

/**
 * Notification settings per child and kind: instantly / in the weekly digest / off, and the
 * digest's day and hour; for a parent, the weekly letter on paper (R25). The domain
 * (domain/notices/preferences.ts) only lets a family member change their own (R4).
 */

/** Hours a family can pick for the digest (outside the usual quiet hours). */
export const DIGEST_HOURS = [8, 12, 16, 18, 19, 20] as const;

const nextMode = (m: NotifyMode): NotifyMode => NOTIFY_MODES[(NOTIFY_MODES.indexOf(m) + 1) % NOTIFY_MODES.length] as NotifyMode;
const nextDay = (w: number) => (w >= 7 ? 0 : w + 1);
const nextHour = (h: number) => DIGEST_HOURS.find((x) => x > h) ?? DIGEST_HOURS[0];

function render(ctx: BotContext, p: PreferencesView): { text: string; kb: InlineKeyboard } {
  const t = ctx.t;
  const day = p.digest.weekday === 0 ? t('prefs.digestOff') : t(`diary.weekdays.${p.digest.weekday}`);
  const hour = `${String(p.digest.hour).padStart(2, '0')}:00`;
  const lines = [t('prefs.title', { name: p.student }), ''];
  for (const k of PREF_KINDS) lines.push(t('prefs.line', { kind: t(`prefs.kinds.${k}`), mode: t(`prefs.modes.${p.modes[k]}`) }));
  lines.push(p.digest.weekday === 0 ? t('prefs.digestLineOff') : t('prefs.digestLine', { day, hour }));
  if (p.paper !== undefined) lines.push(t('prefs.paperLine', { state: t(p.paper ? 'prefs.on' : 'prefs.off') }), t('prefs.paperHint'));
  lines.push('', t('prefs.hint'));
  const kb = new InlineKeyboard();
  for (const k of PREF_KINDS) {
    kb.text(
      t('prefs.button', { kind: t(`prefs.kinds.${k}`), mode: t(`prefs.modes.${p.modes[k]}`) }),
      prefsModeCb.pack({ s: p.studentId, k, m: nextMode(p.modes[k]) }),
    ).row();
  }
  kb.text(t('prefs.digestDay', { day }), prefsDigestCb.pack({ s: p.studentId, w: nextDay(p.digest.weekday), h: p.digest.hour }));
  kb.text(t('prefs.digestHour', { hour }), prefsDigestCb.pack({ s: p.studentId, w: p.digest.weekday, h: nextHour(p.digest.hour) }));
  kb.row();
  if (p.paper !== undefined) {
    kb.text(t('prefs.paperButton', { state: t(p.paper ? 'prefs.on' : 'prefs.off') }), prefsPaperCb.pack({ s: p.studentId, p: !p.paper })).row();
  }
  return { text: lines.join('\n'), kb };
}

async function showPrefs(ctx: BotContext, studentId: string): Promise<void> {
  if (!ctx.actor) return;
  const p = await getPreferences(ctx.deps.db, ctx.actor, studentId);
  const { text, kb } = render(ctx, p);
  await showScreen(ctx, text, kb);
}

export function notifySettingsFeature() {
  const composer = new Composer<BotContext>();
  composer.command('notifications', async (ctx) => {
    if (!ctx.actor) {
      await ctx.reply(ctx.t('diary.guest'));
      return;
    }
    const children = await listMyChildren(ctx.deps.db, ctx.actor);
    if (children.length === 0) {
      await ctx.reply(ctx.t('prefs.none'));
      return;
    }
    if (children.length === 1 && children[0]) {
      await showPrefs(ctx, children[0].studentId);
      return;
    }
    const kb = new InlineKeyboard();
    for (const c of children) kb.text(c.name, prefsChildCb.pack({ s: c.studentId })).row();
    await ctx.reply(ctx.t('prefs.chooseChild'), { reply_markup: kb });
  });
  composer.callbackQuery(prefsChildCb.filter, async (ctx) => {
    const data = prefsChildCb.unpack(ctx.callbackQuery.data);
    if (!data || !ctx.actor) return ctx.answerCallbackQuery({ text: ctx.t('common.stale') });
    await showPrefs(ctx, data.s);
    await ctx.answerCallbackQuery();
  });
  composer.callbackQuery(prefsModeCb.filter, async (ctx) => {
    const data = prefsModeCb.unpack(ctx.callbackQuery.data);
    if (!data || !ctx.actor) return ctx.answerCallbackQuery({ text: ctx.t('common.stale') });
    await setMode(ctx.deps.db, ctx.actor, data.s, data.k, data.m);
    await showPrefs(ctx, data.s);
    await ctx.answerCallbackQuery({ text: ctx.t('prefs.saved') });
  });
  composer.callbackQuery(prefsDigestCb.filter, async (ctx) => {
    const data = prefsDigestCb.unpack(ctx.callbackQuery.data);
    if (!data || !ctx.actor) return ctx.answerCallbackQuery({ text: ctx.t('common.stale') });
    await setDigest(ctx.deps.db, ctx.actor, data.s, data.w, data.h);
    await showPrefs(ctx, data.s);
    await ctx.answerCallbackQuery({ text: ctx.t('prefs.saved') });
  });
  composer.callbackQuery(prefsPaperCb.filter, async (ctx) => {
    const data = prefsPaperCb.unpack(ctx.callbackQuery.data);
    if (!data || !ctx.actor) return ctx.answerCallbackQuery({ text: ctx.t('common.stale') });
    await setPaperLetter(ctx.deps.db, ctx.actor, data.s, data.p);
    await showPrefs(ctx, data.s);
    await ctx.answerCallbackQuery({ text: ctx.t('prefs.saved') });
  });
  return composer;
}
