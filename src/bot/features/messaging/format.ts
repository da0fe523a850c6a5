import { cachedSchool } from '../../../db/school-cache.js';
import type { Label } from '../../../domain/messaging/contacts.js';
import type { Translate } from '../../../i18n.js';
import type { BotContext } from '../../context.js';

/** A label from the domain in the reader's language. */
export function labelText(t: Translate, label: Label): string {
  const vars = label.vars;
  return t(label.key, {
    ...vars,
    subjects: Array.isArray(vars.subjects) ? vars.subjects.join(', ') : vars.subjects,
    relation: typeof vars.relation === 'string' ? t(vars.relation) : undefined,
  });
}

export const SHORT_TIME = { day: '2-digit', month: '2-digit', hour: '2-digit', minute: '2-digit' } as const;

/** Dates and times as the reader reads them, in the school's time zone. */
export async function schoolTimeFormat(ctx: BotContext, opts: Intl.DateTimeFormatOptions): Promise<Intl.DateTimeFormat> {
  const school = ctx.actor ? await cachedSchool(ctx.deps.db, ctx.actor.schoolId) : null;
  return new Intl.DateTimeFormat(ctx.locale === 'ru' ? 'ru-RU' : 'en-GB', { timeZone: school?.timezone ?? 'UTC', ...opts });
}
