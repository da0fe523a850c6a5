import { z } from 'zod';
import type { Role } from '../../domain/shared/vocabulary.js';
import { DomainError } from '../../domain/shared/errors.js';
import { type Ctx, localeOf, noPositionals, objectId, parse, printJson, ROLE_NAMES, textTranslator, UsageError, validate } from '../context.js';
import { botUsername, inviteTtl, requireSchool, withDb } from '../database.js';

/** "5Б", "5б" and "5B" (a Latin letter typed by mistake) all find class 5Б. */
const LATIN_LOOKALIKES: Record<string, string> = { A: 'А', B: 'В', E: 'Е', K: 'К', M: 'М', H: 'Н', O: 'О', P: 'Р', C: 'С', T: 'Т', X: 'Х' };
const normalizeClassName = (name: string) =>
  name
    .trim()
    .toUpperCase()
    .replace(/\s+/g, '')
    .replace(/[A-Z]/g, (ch) => LATIN_LOOKALIKES[ch] ?? ch);

interface InviteLine {
  personId?: string;
  externalId?: string;
  name: string;
  role: Role;
  link: string;
  expiresAt: string;
}

/**
 * `invite --school <id> --role <role> [--person <code>] [--class <name>]`: invite links, one per
 * line with the person's name.
 */
export async function inviteCommand(ctx: Ctx, args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    school: { type: 'string' },
    role: { type: 'string' },
    person: { type: 'string' },
    class: { type: 'string' },
    rebind: { type: 'boolean' },
  });
  const t0 = textTranslator(ctx, localeOf(ctx));
  if (values.help) {
    ctx.io.out(`${t0('cli.help.invite', { roles: ROLE_NAMES.join(', ') })}\n`);
    return 0;
  }
  noPositionals(positionals);
  const input = validate(
    z.object({
      school: objectId,
      role: z.enum(ROLE_NAMES),
      person: z.string().trim().min(1).optional(),
      class: z.string().trim().min(1).optional(),
      rebind: z.boolean().optional(),
    }),
    values,
  );
  if (input.person && input.class) throw new UsageError('cli.errors.exclusive', { a: '--person', b: '--class' });
  if (input.class && input.role !== 'parent' && input.role !== 'student') {
    throw new UsageError('cli.errors.badOption', { option: 'role', value: input.role });
  }
  return withDb(ctx, async (db, d) => {
    const school = await requireSchool(ctx, db, input.school);
    const t = textTranslator(ctx, localeOf(ctx, school));
    const actor = d.systemActor(school._id, 'cli');
    const now = ctx.now();
    const defaultTtlDays = inviteTtl(ctx.io.env);
    const { Person, SchoolClass } = db.models;
    const lines: InviteLine[] = [];
    let skipped = 0;
    // Earlier unused links of the people printed now stop working (only the latest link works): said below.
    let superseded = 0;
    let bot: string | undefined;
    const link = async (code: string) => {
      bot ??= await botUsername(ctx, t);
      return d.inviteLink(bot, code);
    };

    if (input.class) {
      const wanted = normalizeClassName(input.class);
      const classes = await SchoolClass.find({ schoolId: school._id }, { name: 1, externalId: 1 }).lean();
      const cls = classes.find((c) => normalizeClassName(c.name) === wanted || c.externalId === input.class);
      if (!cls) throw new DomainError('cli.errors.classNotFound', { name: input.class });
      const role = input.role as 'parent' | 'student';
      for (const inv of await d.createClassInvites(db, actor, { classId: String(cls._id), role, now, defaultTtlDays })) {
        superseded += inv.superseded;
        const children = role === 'parent' ? ` (${inv.children.map((c) => c.name).join(', ')})` : '';
        lines.push({
          personId: inv.personId,
          name: `${inv.personName}${children}`,
          role,
          link: await link(inv.code),
          expiresAt: inv.expiresAt.toISOString(),
        });
      }
    } else {
      const filter: Record<string, unknown> = { schoolId: school._id, active: { $ne: false } };
      if (input.person) filter['externalId'] = input.person;
      else filter['roles'] = input.role;
      const persons = await Person.find(filter, {
        externalId: 1,
        lastName: 1,
        firstName: 1,
        middleName: 1,
        roles: 1,
        telegramId: 1,
        student: 1,
      }).lean();
      if (input.person) {
        const p = persons[0];
        if (!p) throw new DomainError('cli.errors.personNotFound', { id: input.person });
        if (!p.roles.includes(input.role)) throw new DomainError('cli.errors.roleMismatch', { id: input.person, role: input.role });
      }
      persons.sort((a, b) => d.fullName(a).localeCompare(d.fullName(b), 'ru'));
      for (const p of persons) {
        if (p.student?.status && p.student.status !== 'studying') continue;
        // Everyone "with the role": only those not joined yet; one named person always (a lost phone).
        if (!input.person && p.telegramId) {
          skipped++;
          continue;
        }
        // A person who has joined moves to a new phone only when asked (issue 11): --rebind.
        if (p.telegramId && !input.rebind) throw new DomainError('cli.errors.alreadyJoined', { id: input.person, name: d.fullName(p) });
        const inv = await d.createInvite(db, actor, { role: input.role, personId: p._id, now, defaultTtlDays, rebind: input.rebind });
        superseded += inv.superseded;
        lines.push({
          personId: String(p._id),
          externalId: p.externalId,
          name: d.fullName(p),
          role: input.role,
          link: await link(inv.code),
          expiresAt: inv.expiresAt.toISOString(),
        });
      }
      if (lines.length === 0 && input.role === 'admin' && !input.person) {
        // Nobody to bind to: a role invite, as for a new school's first admin.
        const inv = await d.createInvite(db, actor, { role: 'admin', now, defaultTtlDays });
        lines.push({ name: 'admin', role: 'admin', link: await link(inv.code), expiresAt: inv.expiresAt.toISOString() });
      }
    }
    if (ctx.json) printJson(ctx, { invites: lines, skipped, superseded });
    else {
      if (lines.length === 0) ctx.io.err(`${t('cli.out.invitesNone')}\n`);
      else ctx.io.out(`${lines.map((l) => `${l.name}\t${l.link}`).join('\n')}\n`);
      if (skipped > 0) ctx.io.err(`${t('cli.out.invitesSkipped', { count: skipped })}\n`);
      if (superseded > 0) ctx.io.err(`${t('cli.out.invitesSuperseded', { count: superseded })}\n`);
      if (input.rebind && lines.length > 0) ctx.io.err(`${t('cli.out.invitesRebind')}\n`);
    }
    return 0;
  });
}
