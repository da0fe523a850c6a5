import { Composer } from 'grammy';
import { z } from 'zod';
import { getOfficeHours, type OfficeHours, setOfficeHours } from '../../../domain/messaging/office-hours.js';
import type { Translate } from '../../../i18n.js';
import type { BotContext } from '../../context.js';

/** /officehours (R3): a teacher sets when families' messages arrive; outside them they wait. */
const WEEKDAYS: Record<string, number> = {
  mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6, sun: 7,
  пн: 1, вт: 2, ср: 3, чт: 4, пт: 5, сб: 6, вс: 7,
};
const hhmm = (h: string, m: string) => `${h.padStart(2, '0')}:${m}`;

/** "Mon-Fri 15:00-17:00", "Пн-Пт 15:00-17:00", "Wed 14:00-15:30". */
export const officeHoursInput = z
  .string()
  .trim()
  .toLowerCase()
  .transform((s, ctx): OfficeHours => {
    const m = /^(\p{L}{2,3})(?:\s*[-–]\s*(\p{L}{2,3}))?\s+(\d{1,2}):([0-5]\d)\s*[-–]\s*(\d{1,2}):([0-5]\d)$/u.exec(s);
    const first = m?.[1] ? WEEKDAYS[m[1]] : undefined;
    const last = m?.[2] ? WEEKDAYS[m[2]] : first;
    if (!m || first === undefined || last === undefined || last < first) {
      ctx.addIssue({ code: 'custom', message: 'format' });
      return z.NEVER;
    }
    const [fh, fm, th, tm] = [m[3] ?? '', m[4] ?? '', m[5] ?? '', m[6] ?? ''];
    const from = hhmm(fh, fm);
    const to = hhmm(th, tm);
    if (Number(fh) > 23 || Number(th) > 23 || to <= from) {
      ctx.addIssue({ code: 'custom', message: 'times' });
      return z.NEVER;
    }
    const weekdays: number[] = [];
    for (let d = first; d <= last; d++) weekdays.push(d);
    return { weekdays, from, to };
  });

const DAY_NAMES = ['', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
function officeHoursText(t: Translate, h: OfficeHours): string {
  const first = h.weekdays[0] ?? 1;
  const last = h.weekdays[h.weekdays.length - 1] ?? first;
  const day = (d: number) => t(`messaging.officeHours.day.${DAY_NAMES[d]}`);
  const days = first === last ? day(first) : `${day(first)}–${day(last)}`;
  return `${days} ${h.from}–${h.to}`;
}

export function officeHoursFeature() {
  const composer = new Composer<BotContext>();

  composer.chatType('private').command('officehours', async (ctx) => {
    const actor = ctx.actor;
    if (!actor?.roles.has('teacher')) return ctx.reply(ctx.t('messaging.officeHours.teachersOnly'));
    const arg = String(ctx.match ?? '').trim();
    if (arg === '') {
      const current = await getOfficeHours(ctx.deps.db, actor);
      const now = current ? ctx.t('messaging.officeHours.current', { hours: officeHoursText(ctx.t, current) }) : ctx.t('messaging.officeHours.none');
      return ctx.reply(`${now}\n\n${ctx.t('messaging.officeHours.usage')}`);
    }
    if (/^(off|нет|выкл)$/i.test(arg)) {
      await setOfficeHours(ctx.deps.db, actor, undefined);
      return ctx.reply(ctx.t('messaging.officeHours.cleared'));
    }
    const parsed = officeHoursInput.safeParse(arg);
    if (!parsed.success) return ctx.reply(ctx.t('messaging.officeHours.invalid', { input: arg.slice(0, 60) }));
    await setOfficeHours(ctx.deps.db, actor, parsed.data);
    await ctx.reply(ctx.t('messaging.officeHours.saved', { hours: officeHoursText(ctx.t, parsed.data) }));
  });

  return composer;
}
