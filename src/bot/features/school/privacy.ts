import { Composer, InlineKeyboard } from 'grammy';
import type { Locale } from '../../../config.js';
import { AccessDenied } from '../../../domain/shared/errors.js';
import { acceptConsent, CONSENT_VERSION, privacyReport } from '../../../domain/school/people.js';
import { sendJoinSummary } from '../../../domain/notices/summaries.js';
import { consentCb } from '../../callbacks/school.js';
import type { BotContext } from '../../context.js';
import { showChildren } from '../diary/children.js';


/**
 * A calendar day in the school's time zone, in the reader's language: "30 ноября 2026", "30 November 2026".
 * Without Intl's trailing "г." — the day stands inside sentences ("Действует до {{date}}.") and
 * would end them in "г.." (issue 11).
 */
export function formatDay(date: Date, locale: Locale, timeZone?: string): string {
  try {
    const day = new Intl.DateTimeFormat(locale === 'ru' ? 'ru-RU' : 'en-GB', { dateStyle: 'long', timeZone }).format(date);
    return day.replace(/\s*г\.$/, '');
  } catch {
    return date.toISOString().slice(0, 10);
  }
}

/**
 * R32 (152-FZ): what is stored about the person and their children, why, for how long and who
 * sees it. Before a family member accepts, the notice shows categories only, no child's data.
 */
export async function showPrivacy(ctx: BotContext): Promise<void> {
  const { text, keyboard } = await privacyNotice(ctx);
  await ctx.reply(text, { parse_mode: 'HTML', reply_markup: keyboard, link_preview_options: { is_disabled: true } });
}

/** The notice as it stands now: after the consent it shows its date and no longer asks for it. */
async function privacyNotice(ctx: BotContext): Promise<{ text: string; keyboard?: InlineKeyboard }> {
  const actor = ctx.actor;
  if (!actor) throw new AccessDenied();
  const r = await privacyReport(ctx.deps.db, actor);
  const t = ctx.t;
  const day = (d: Date | undefined) => (d ? formatDay(d, ctx.locale, r.timezone) : t('privacy.none'));
  const roles = r.roles.map((role) => t(`roles.${role}`)).join(', ');
  const lines = [
    t('privacy.title', { school: r.schoolName }),
    '',
    t('privacy.aboutYou'),
    t('privacy.name', { name: r.name }),
    t('privacy.roles', { roles }),
    t('privacy.phone', { phone: r.phoneMasked ?? t('privacy.none') }),
    t('privacy.boundAt', { date: day(r.boundAt) }),
    t('privacy.consentAt', { date: r.consentAt ? day(r.consentAt) : t('privacy.notYet') }),
  ];
  const isParent = actor.roles.has('parent');
  const family = isParent || actor.roles.has('student');
  if (!isParent && family) lines.push(t('privacy.studentCategories'));
  if (isParent) {
    lines.push('', t('privacy.aboutChildren'));
    if (r.consentRequired || r.children.length === 0) {
      lines.push(t('privacy.childCategories'));
    } else {
      for (const c of r.children) {
        lines.push(t('privacy.child', { name: c.name, className: c.className ?? '—' }));
      }
      lines.push(t('privacy.childCategories'));
    }
  }
  if (family) lines.push('', t('privacy.why'), '', t('privacy.howLong'), '', t('privacy.whoSees'));
  else lines.push('', t('privacy.staffWhy'));
  lines.push('', t('privacy.rights'));
  const keyboard = new InlineKeyboard();
  if (r.consentRequired) {
    lines.push('', t(isParent ? 'privacy.askAccept' : 'privacy.askAcceptStudent'));
    keyboard.text(t('privacy.accept'), consentCb.pack({ v: CONSENT_VERSION }));
  }
  return { text: lines.join('\n'), keyboard: r.consentRequired ? keyboard : undefined };
}

export function privacyFeature() {
  const composer = new Composer<BotContext>();
  composer.command('privacy', async (ctx) => {
    if (!ctx.actor) {
      await ctx.reply(ctx.t('privacy.guest'));
      return;
    }
    await showPrivacy(ctx);
  });
  composer.callbackQuery(consentCb.filter, async (ctx) => {
    const data = consentCb.unpack(ctx.callbackQuery.data);
    // A notice older than the current text was not what we now ask to accept: show the new one.
    if (!data || data.v !== CONSENT_VERSION || !ctx.actor) {
      await ctx.answerCallbackQuery({ text: ctx.t('common.stale') });
      return;
    }
    const { changed } = await acceptConsent(ctx.deps.db, ctx.actor, ctx.deps.now());
    await ctx.answerCallbackQuery({ text: ctx.t('privacy.accepted') });
    // The notice above the button said "not given yet": it now shows the consent and its date.
    const notice = await privacyNotice(ctx);
    await ctx
      .editMessageText(notice.text, { parse_mode: 'HTML', link_preview_options: { is_disabled: true } })
      .catch(() => ctx.editMessageReplyMarkup().catch(() => undefined));
    if (changed) {
      ctx.deps.logger.info({ personId: String(ctx.actor.personId), schoolId: String(ctx.actor.schoolId) }, 'Consent accepted');
      // Joining mid-year never floods: one summary of the current period instead of every old mark.
      if (ctx.actor.personId) await sendJoinSummary(ctx.deps.db, ctx.actor.personId, { now: ctx.deps.now() });
    }
    await ctx.reply(ctx.t('privacy.thanks'));
    await showChildren(ctx);
  });
  return composer;
}
