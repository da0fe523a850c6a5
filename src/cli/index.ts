/**
 * The operator's command line: `npm run cli -- <command>` (see `--help`).
 *
 *   school create --name "<name>" --timezone <IANA zone>   a school + a one-time link for its first admin
 *   school list
 *   import <kind> <file> --school <id> [--dry-run]         the importer (all-or-nothing per file)
 *   invite --school <id> --role <role> [--person <code>] [--class <name>]
 *   seed:demo [--students N] [--school <id>] [--seed N]
 *
 * Output goes to stdout (`--json` for programs), problems to stderr with a non-zero exit code:
 * 1 for a refused or failed operation (a rejected file, an unknown school), 2 for bad arguments.
 * The database is MONGODB_URI, else the same local server the app starts (stopped on exit).
 * The CLI acts as the deployment operator: a system actor with full rights in the chosen school.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Connection } from 'mongoose';
import { z } from 'zod';
import { LOCALES, type Locale } from '../config.js';
import type { Db } from '../db/index.js';
import type { Role } from '../db/models/people.js';
import { DomainError } from '../domain/shared/errors.js';
import type { ImportKind } from '../domain/imports/index.js';
import type { School } from '../domain/school/schools.js';
import { createI18n, type Translate } from '../i18n.js';

/**
 * The database and domain modules are loaded only by commands that use them: mongoose and the
 * importer take seconds to load, and `--help` or a typo should answer at once.
 */
async function loadDomain() {
  const [connection, dbIndex, localServer, actor, seed, imports, report, invites, inviteCode, people, schools, logger, pino] =
    await Promise.all([
      import('../db/connection.js'),
      import('../db/index.js'),
      import('../db/local-server.js'),
      import('../domain/school/actor.js'),
      import('../domain/demo/seed.js'),
      import('../domain/imports/index.js'),
      import('../domain/imports/report.js'),
      import('../domain/school/invites/create.js'),
      import('../domain/school/invites/code.js'),
      import('../domain/school/people.js'),
      import('../domain/school/schools.js'),
      import('../logger.js'),
      import('pino'),
    ]);
  return {
    ...connection,
    ...dbIndex,
    ...localServer,
    ...actor,
    ...seed,
    ...imports,
    ...report,
    ...invites,
    ...inviteCode,
    ...people,
    ...schools,
    ...logger,
    pino: pino.default,
  };
}
type Domain = Awaited<ReturnType<typeof loadDomain>>;

/** For help texts without loading the domain; a test keeps them equal to IMPORT_KINDS and ROLES. */
export const KIND_NAMES = ['students', 'staff', 'subjects', 'classes', 'groups', 'load', 'timetable'] as const;
export const ROLE_NAMES = ['admin', 'secretary', 'deputy', 'teacher', 'parent', 'student'] as const;

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  env: NodeJS.ProcessEnv;
  now?: () => Date;
}

/** Bad arguments: exit code 2, with the command's help hint. */
class UsageError extends Error {
  constructor(
    readonly key: string,
    readonly vars: Record<string, unknown> = {},
  ) {
    super(key);
  }
}

const GLOBAL_OPTIONS = {
  json: { type: 'boolean' },
  lang: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const objectId = z.string().regex(/^[0-9a-f]{24}$/i);
const langSchema = z.enum(LOCALES);

// ---------------------------------------------------------------------------------------------
// Output helpers

interface Ctx {
  io: CliIo;
  json: boolean;
  lang?: Locale;
  i18n: Awaited<ReturnType<typeof createI18n>>;
  now: () => Date;
  db?: Db;
  schoolLocale?: string | null;
}

/** Plain-text translator: no HTML escaping (the bot's messages are HTML, the terminal is not). */
function textTranslator(ctx: Ctx, locale: Locale): Translate {
  const fixed = ctx.i18n.getFixedT(locale);
  return (key, vars) => String(fixed(key, { ...(vars ?? {}), interpolation: { escapeValue: false } })).replace(/<\/?b>/g, '');
}

function localeOf(ctx: Ctx, school?: { locale?: string | null }): Locale {
  if (ctx.lang) return ctx.lang;
  const fromSchool = langSchema.safeParse(school?.locale ?? ctx.schoolLocale);
  if (fromSchool.success) return fromSchool.data;
  return (ctx.io.env['LANG'] ?? '').toLowerCase().startsWith('ru') ? 'ru' : 'en';
}

const printJson = (ctx: Ctx, value: unknown) => ctx.io.out(`${JSON.stringify(value, null, 2)}\n`);

// ---------------------------------------------------------------------------------------------
// Argument parsing

function parse(args: string[], options: Record<string, { type: 'string' | 'boolean'; short?: string }>) {
  try {
    return parseArgs({ args, options: { ...GLOBAL_OPTIONS, ...options }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError('cli.errors.badArgs', { message: error instanceof Error ? error.message : String(error) });
  }
}

function validate<T extends z.ZodType>(schema: T, values: unknown): z.infer<T> {
  const parsed = schema.safeParse(values);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const option = String(issue.path[0] ?? '');
  const given = (values as Record<string, unknown>)[option];
  if (given === undefined) throw new UsageError('cli.errors.missingOption', { option });
  throw new UsageError('cli.errors.badOption', { option, value: String(given) });
}

// ---------------------------------------------------------------------------------------------
// Database, bot username

async function withDb<T>(ctx: Ctx, run: (db: Db, d: Domain) => Promise<T>): Promise<T> {
  const d = await loadDomain();
  const env = ctx.io.env;
  let uri = env['MONGODB_URI']?.trim();
  let stopLocal: (() => Promise<void>) | undefined;
  if (!uri) {
    const logger = d.createLogger(env['LOG_LEVEL'] ?? 'warn', d.pino.destination(2));
    const local = await d.startLocalMongo({ persistent: true, dataDir: env['DATA_DIR'] || './data', logger });
    uri = local.uri;
    stopLocal = () => local.stop();
    stopOnSignal = stopLocal;
  }
  let conn: Connection | undefined;
  try {
    try {
      conn = await d.connectMongo(uri, { serverSelectionTimeoutMS: 8_000 });
    } catch (error) {
      throw new DomainError('cli.errors.database', { message: error instanceof Error ? error.message : String(error) });
    }
    ctx.db = await d.createDb(conn);
    return await run(ctx.db, d);
  } finally {
    await conn?.close().catch(() => undefined);
    await stopLocal?.().catch(() => undefined);
    stopOnSignal = undefined;
  }
}

let stopOnSignal: (() => Promise<void>) | undefined;

/** BOT_USERNAME, else `getMe` when BOT_TOKEN is set and Telegram answers; else the placeholder `<bot>`. */
async function botUsername(ctx: Ctx, t: Translate): Promise<string> {
  const env = ctx.io.env;
  const configured = env['BOT_USERNAME']?.trim().replace(/^@/, '');
  if (configured) return configured;
  const token = env['BOT_TOKEN']?.trim();
  if (token) {
    const root = (env['TELEGRAM_API_ROOT']?.trim() || 'https://api.telegram.org').replace(/\/+$/, '');
    try {
      const res = await fetch(`${root}/bot${token}/getMe`, { signal: AbortSignal.timeout(5_000) });
      const body = (await res.json()) as { ok?: boolean; result?: { username?: string } };
      if (body.ok && body.result?.username) return body.result.username;
    } catch {
      // unreachable: fall through to the placeholder
    }
  }
  ctx.io.err(`${t('cli.out.placeholderBot')}\n`);
  return '<bot>';
}

async function requireSchool(ctx: Ctx, db: Db, id: string): Promise<School> {
  const { getSchool } = await import('../domain/school/schools.js');
  const school = await getSchool(db, id);
  if (!school) throw new DomainError('cli.errors.schoolNotFound', { id });
  // Later messages (refusals included) speak the school's language unless --lang says otherwise.
  ctx.schoolLocale = school.locale;
  return school;
}

const inviteTtl = (env: NodeJS.ProcessEnv) => {
  const n = Number(env['INVITE_TTL_DAYS']);
  return Number.isInteger(n) && n >= 1 && n <= 365 ? n : undefined;
};

// ---------------------------------------------------------------------------------------------
// Commands

async function schoolCommand(ctx: Ctx, args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    name: { type: 'string' },
    timezone: { type: 'string' },
    locale: { type: 'string' },
    school: { type: 'string' },
    'lock-days': { type: 'string' },
    'class-work-days': { type: 'string' },
    'written-work-days': { type: 'string' },
    'final-mark-days': { type: 'string' },
    'grace-minutes': { type: 'string' },
    'quiet-hours': { type: 'string' },
    'invite-ttl-days': { type: 'string' },
  });
  const sub = positionals[0];
  const t = textTranslator(ctx, localeOf(ctx));
  if (values.help || !sub) {
    ctx.io[sub || values.help ? 'out' : 'err'](`${t('cli.help.school')}\n`);
    return values.help ? 0 : 2;
  }
  if (positionals.length > 1) throw new UsageError('cli.errors.badArgs', { message: `unexpected "${positionals[1]}"` });
  if (sub === 'list') {
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
  if (sub === 'settings') return schoolSettings(ctx, values);
  if (sub !== 'create') throw new UsageError('cli.errors.unknownCommand', { command: `school ${sub}` });
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

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max).optional();

/** `school settings --school <id> [--lock-days N] …`: shows the school's rules, or changes them (audited). */
async function schoolSettings(ctx: Ctx, values: Record<string, unknown>): Promise<number> {
  const input = validate(
    z.object({
      school: z.string().trim().min(1),
      'lock-days': int(1, 60),
      'class-work-days': int(0, 30),
      'written-work-days': int(0, 30),
      'final-mark-days': int(1, 30),
      'grace-minutes': int(0, 60),
      'quiet-hours': z
        .string()
        .regex(/^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$/)
        .optional(),
      'invite-ttl-days': int(1, 365),
    }),
    values,
  );
  const [from, to] = input['quiet-hours']?.split('-') ?? [];
  const patch = Object.fromEntries(
    Object.entries({
      lockAfterDays: input['lock-days'],
      classWorkDueDays: input['class-work-days'],
      writtenWorkDueDays: input['written-work-days'],
      finalMarkWindowDays: input['final-mark-days'],
      markGraceMinutes: input['grace-minutes'],
      quietHours: from && to ? { from, to } : undefined,
      inviteTtlDays: input['invite-ttl-days'],
    }).filter(([, v]) => v !== undefined),
  );
  return withDb(ctx, async (db, d) => {
    const school = await requireSchool(ctx, db, input.school);
    const { settings, changed } = await d.updateSchoolSettings(db, d.systemActor(school._id, 'cli'), patch, ctx.now());
    if (ctx.json) {
      printJson(ctx, { id: String(school._id), settings, changed });
      return 0;
    }
    const st = textTranslator(ctx, localeOf(ctx, school));
    const lines = [
      st('cli.out.settingsTitle', { name: school.name }),
      st('cli.out.settings.lockAfterDays', { n: settings.lockAfterDays }),
      st('cli.out.settings.classWorkDueDays', { n: settings.classWorkDueDays }),
      st('cli.out.settings.writtenWorkDueDays', { n: settings.writtenWorkDueDays }),
      st('cli.out.settings.finalMarkWindowDays', { n: settings.finalMarkWindowDays }),
      st('cli.out.settings.markGraceMinutes', { n: settings.markGraceMinutes }),
      st('cli.out.settings.quietHours', { from: settings.quietHours.from, to: settings.quietHours.to }),
      settings.inviteTtlDays === undefined
        ? st('cli.out.settings.inviteTtlDefault')
        : st('cli.out.settings.inviteTtlDays', { n: settings.inviteTtlDays }),
    ];
    if (Object.keys(patch).length > 0) lines.push(changed.length ? st('cli.out.settingsChanged', { n: changed.length }) : st('cli.out.settingsUnchanged'));
    ctx.io.out(`${lines.join('\n')}\n`);
    return 0;
  });
}

async function importCommand(ctx: Ctx, args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { school: { type: 'string' }, 'dry-run': { type: 'boolean' } });
  const t0 = textTranslator(ctx, localeOf(ctx));
  if (values.help) {
    ctx.io.out(`${t0('cli.help.import', { kinds: KIND_NAMES.join(', ') })}\n`);
    return 0;
  }
  const [kindWord, file, extra] = positionals;
  if (!kindWord) throw new UsageError('cli.errors.missingOption', { option: 'kind' });
  const { kindFromWord } = await import('../domain/imports/kinds.js');
  const kind: ImportKind | undefined = kindFromWord(kindWord);
  if (!kind) throw new UsageError('cli.errors.unknownKind', { kind: kindWord, kinds: KIND_NAMES.join(', ') });
  if (!file) throw new UsageError('cli.errors.missingOption', { option: 'file' });
  if (extra) throw new UsageError('cli.errors.badArgs', { message: `unexpected "${extra}"` });
  const input = validate(z.object({ school: objectId }), values);
  let data: Buffer;
  try {
    data = await readFile(file);
  } catch {
    throw new DomainError('cli.errors.fileNotFound', { file });
  }
  return withDb(ctx, async (db, d) => {
    const school = await requireSchool(ctx, db, input.school);
    const t = textTranslator(ctx, localeOf(ctx, school));
    const report = await d.importFile(db, d.systemActor(school._id, 'cli'), {
      kind,
      data,
      filename: path.basename(file),
      dryRun: (values as Record<string, unknown>)['dry-run'] === true,
      now: ctx.now(),
    });
    if (ctx.json) printJson(ctx, report);
    else {
      const text = `${d.formatReport(report, t).join('\n')}\n`;
      if (report.ok) ctx.io.out(text);
      else ctx.io.err(text);
    }
    return report.ok ? 0 : 1;
  });
}

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

async function inviteCommand(ctx: Ctx, args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    school: { type: 'string' },
    role: { type: 'string' },
    person: { type: 'string' },
    class: { type: 'string' },
  });
  const t0 = textTranslator(ctx, localeOf(ctx));
  if (values.help) {
    ctx.io.out(`${t0('cli.help.invite', { roles: ROLE_NAMES.join(', ') })}\n`);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError('cli.errors.badArgs', { message: `unexpected "${positionals[0]}"` });
  const input = validate(
    z.object({
      school: objectId,
      role: z.enum(ROLE_NAMES),
      person: z.string().trim().min(1).optional(),
      class: z.string().trim().min(1).optional(),
    }),
    values,
  );
  if (input.person && input.class) throw new UsageError('cli.errors.badArgs', { message: '--person and --class exclude each other' });
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
        const inv = await d.createInvite(db, actor, { role: input.role, personId: p._id, now, defaultTtlDays });
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
    if (ctx.json) printJson(ctx, { invites: lines, skipped });
    else {
      if (lines.length === 0) ctx.io.err(`${t('cli.out.invitesNone')}\n`);
      else ctx.io.out(`${lines.map((l) => `${l.name}\t${l.link}`).join('\n')}\n`);
      if (skipped > 0) ctx.io.err(`${t('cli.out.invitesSkipped', { count: skipped })}\n`);
    }
    return 0;
  });
}

async function seedCommand(ctx: Ctx, args: string[]): Promise<number> {
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
  if (positionals.length > 0) throw new UsageError('cli.errors.badArgs', { message: `unexpected "${positionals[0]}"` });
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

// ---------------------------------------------------------------------------------------------
// Entry

const COMMANDS: Record<string, (ctx: Ctx, args: string[]) => Promise<number>> = {
  school: schoolCommand,
  import: importCommand,
  invite: inviteCommand,
  'seed:demo': seedCommand,
};

/** Runs one command; returns the exit code. Never throws for a user's mistake. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const i18n = await createI18n('ru');
  // --json / --lang are read here too, so that even an argument error is reported in the right form.
  const langIndex = argv.indexOf('--lang');
  const langArg = langIndex >= 0 ? argv[langIndex + 1] : argv.find((a) => a.startsWith('--lang='))?.slice(7);
  const lang = langSchema.safeParse(langArg);
  const ctx: Ctx = {
    io,
    json: argv.includes('--json'),
    lang: lang.success ? lang.data : undefined,
    i18n,
    now: io.now ?? (() => new Date()),
  };
  const t = textTranslator(ctx, localeOf(ctx));
  const [command, ...rest] = argv;
  try {
    if (langArg !== undefined && !lang.success) throw new UsageError('cli.errors.badOption', { option: 'lang', value: langArg });
    if (!command || command === '--help' || command === '-h' || command === 'help') {
      const text = `${t('cli.help.top', { kinds: KIND_NAMES.join(', ') })}\n`;
      if (command) io.out(text);
      else io.err(text);
      return command ? 0 : 2;
    }
    const run = COMMANDS[command];
    if (!run) throw new UsageError('cli.errors.unknownCommand', { command });
    return await run(ctx, rest);
  } catch (error) {
    const tt = textTranslator(ctx, localeOf(ctx));
    if (error instanceof UsageError) {
      io.err(`${tt(error.key, error.vars)}\n`);
      return 2;
    }
    if (error instanceof DomainError) {
      if (ctx.json) io.out(`${JSON.stringify({ error: { key: error.key, vars: error.vars, message: tt(error.key, error.vars) } })}\n`);
      io.err(`${tt(error.key, error.vars)}\n`);
      return 1;
    }
    io.err(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 1;
  }
}

async function main(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const writes: Array<Promise<void>> = [];
  const write = (stream: NodeJS.WriteStream) => (text: string) => {
    writes.push(new Promise((resolve) => stream.write(text, () => resolve())));
  };
  const onSignal = (signal: NodeJS.Signals) => {
    void (async () => {
      await stopOnSignal?.().catch(() => undefined);
      process.exit(signal === 'SIGINT' ? 130 : 143);
    })();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const code = await runCli(process.argv.slice(2), { out: write(process.stdout), err: write(process.stderr), env: process.env });
  await Promise.all(writes);
  process.exit(code);
}

const invokedDirectly = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) void main();
