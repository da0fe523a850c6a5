import { z } from 'zod';
import { type Ctx, langSchema, localeOf, parse, printJson, textTranslator, UsageError, validate } from '../context.js';
import { botUsername, inviteTtl, withDb } from '../database.js';
import { SETTINGS_OPTIONS, schoolSettings } from './school-settings.js';

/** `school create --name <name> --timezone <zone>`, `school list`, `school settings` (its own file). */
export async function schoolCommand(ctx: Ctx, args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    name: { type: 'string' },
    timezone: { type: 'string' },
    locale: { type: 'string' },
    ...SETTINGS_OPTIONS,
  });
  const sub = positionals[0];
  const t = textTranslator(ctx, localeOf(ctx));
  if (values.help || !sub) {
    ctx.io[sub || values.help ? 'out' : 'err'](`${t('cli.help.school')}\n`);
    return values.help ? 0 : 2;
  }
  if (positionals.length > 1) throw new UsageError('cli.errors.unexpectedArg', { value: positionals[1] });
  if (sub === 'list') return schoolList(ctx);
  if (sub === 'settings') return schoolSettings(ctx, values);
  if (sub !== 'create') throw new UsageError('cli.errors.unknownCommand', { command: `school ${sub}` });
  return schoolCreate(ctx, values);
}

function schoolList(ctx: Ctx): Promise<number> {
  const t = textTranslator(ctx, localeOf(ctx));
  return withDb(ctx, async (db, d) => {
    const schools = await d.listSchools(db);
    if (ctx.json) {
      printJson(
        ctx,
        schools.map((s) => ({ id: String(s._id), name: s.name, timezone: s.timezone, locale: s.locale })),
      );
    } else if (schools.length === 0) ctx.io.out(`${t('cli.out.schoolsNone')}\n`);
    else ctx.io.out(schools.map((s) => `${String(s._id)}\t${s.timezone}\t${s.name}`).join('\n').concat('\n'));
    return 0;
  });
}

/** A school and a one-time invite link for its first admin. */
function schoolCreate(ctx: Ctx, values: Record<string, unknown>): Promise<number> {
  const input = validate(
    z.object({ name: z.string().trim().min(1), timezone: z.string().trim().min(1), locale: langSchema.optional() }),
    values,
  );
  return withDb(ctx, async (db, d) => {
    const now = ctx.now();
    const school = await d.createSchool(db, { name: input.name, timezone: input.timezone, locale: input.locale, now });
    const st = textTranslator(ctx, localeOf(ctx, school));
    const bot = await botUsername(ctx, st);
    const invite = await d.createInvite(db, d.systemActor(school._id, 'cli'), {
      role: 'admin',
      now,
      defaultTtlDays: inviteTtl(ctx.io.env),
    });
    const link = d.inviteLink(bot, invite.code);
    if (ctx.json) {
      printJson(ctx, {
        id: String(school._id),
        name: school.name,
        timezone: school.timezone,
        locale: school.locale,
        adminInvite: { link, expiresAt: invite.expiresAt.toISOString() },
      });
    } else {
      const days = Math.round((invite.expiresAt.getTime() - now.getTime()) / 86_400_000);
      ctx.io.out(
        `${st('cli.out.schoolCreated', { name: school.name, id: String(school._id) })}\n${st('cli.out.adminInvite', { days })}\n${link}\n`,
      );
    }
    return 0;
  });
}
