import { z } from 'zod';
import { type Ctx, localeOf, noPositionals, objectId, parse, printJson, textTranslator, validate } from '../context.js';
import { botUsername, inviteTtl, requireSchool, withDb } from '../database.js';

/** `seed:demo [--students N] [--school <id>] [--seed N]`: a demo school through the importer, and its admin's link. */
export async function seedCommand(ctx: Ctx, args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    students: { type: 'string' },
    school: { type: 'string' },
    seed: { type: 'string' },
    name: { type: 'string' },
  });
  const t0 = textTranslator(ctx, localeOf(ctx));
  if (values.help) {
    ctx.io.out(`${t0('cli.help.seed')}\n`);
    return 0;
  }
  noPositionals(positionals);
  const input = validate(
    z.object({
      students: z.coerce.number().int().min(22).max(5000).optional(),
      school: objectId.optional(),
      seed: z.coerce.number().int().min(0).max(2 ** 31).optional(),
      name: z.string().trim().min(1).max(200).optional(),
    }),
    values,
  );
  return withDb(ctx, async (db, d) => {
    const now = ctx.now();
    if (input.school) await requireSchool(ctx, db, input.school);
    const result = await d.seedDemoSchool(db, {
      students: input.students,
      schoolId: input.school,
      seed: input.seed,
      name: input.name,
      now,
    });
    const school = await requireSchool(ctx, db, result.schoolId);
    const t = textTranslator(ctx, localeOf(ctx, school));
    const admin = await db.models.Person.findOne(
      { schoolId: school._id, externalId: result.adminExternalId },
      { lastName: 1, firstName: 1, middleName: 1 },
    ).lean();
    let adminInvite: { name: string; link: string } | undefined;
    if (admin) {
      const bot = await botUsername(ctx, t);
      const inv = await d.createInvite(db, d.systemActor(school._id, 'cli'), {
        role: 'admin',
        personId: admin._id,
        now,
        defaultTtlDays: inviteTtl(ctx.io.env),
      });
      adminInvite = { name: d.fullName(admin), link: d.inviteLink(bot, inv.code) };
    }
    if (ctx.json) {
      printJson(ctx, { schoolId: result.schoolId, name: school.name, counts: result.counts, ms: result.ms, adminInvite });
    } else {
      const lines = [
        t('cli.out.seeded', { seconds: (result.ms / 1000).toFixed(1), name: school.name, id: result.schoolId }),
        ...Object.entries(result.counts).map(([entity, n]) => `  ${t(`import.entities.${entity}`)}: ${n}`),
      ];
      if (adminInvite) lines.push(t('cli.out.seedAdmin', { name: adminInvite.name }), adminInvite.link);
      ctx.io.out(`${lines.join('\n')}\n`);
    }
    return 0;
  });
}
