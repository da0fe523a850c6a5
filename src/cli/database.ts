import type { Connection } from 'mongoose';
import type { Db } from '../db/index.js';
import type { School } from '../domain/school/schools.js';
import { DomainError } from '../domain/shared/errors.js';
import type { Translate } from '../i18n.js';
import { type Ctx, localeOf, textTranslator } from './context.js';

/**
 * The database and domain modules are loaded only by commands that use them: mongoose and the
 * importer take seconds to load, and `--help` or a typo should answer at once.
 */
async function loadDomain() {
  const [connection, dbIndex, localServer, localShare, actor, seed, imports, report, invites, inviteCode, people, schools, rules, logger, pino] =
    await Promise.all([
      import('../db/connection.js'),
      import('../db/index.js'),
      import('../db/local-server.js'),
      import('../db/local-share.js'),
      import('../domain/school/actor.js'),
      import('../domain/demo/seed.js'),
      import('../domain/imports/index.js'),
      import('../domain/imports/report.js'),
      import('../domain/school/invites/create.js'),
      import('../domain/school/invites/code.js'),
      import('../domain/school/people.js'),
      import('../domain/school/schools.js'),
      import('../domain/school/rules.js'),
      import('../logger.js'),
      import('pino'),
    ]);
  return {
    ...connection,
    ...dbIndex,
    ...localServer,
    ...localShare,
    ...actor,
    ...seed,
    ...imports,
    ...report,
    ...invites,
    ...inviteCode,
    ...people,
    ...schools,
    ...rules,
    ...logger,
    pino: pino.default,
  };
}
export type Domain = Awaited<ReturnType<typeof loadDomain>>;

let stopOnSignal: (() => Promise<void>) | undefined;

/** Stops the local database server a command started, if any (on Ctrl-C). */
export const stopLocalDatabase = async (): Promise<void> => stopOnSignal?.();

/**
 * MONGODB_URI; else the local server of the bot running on the same DATA_DIR (its
 * DATA_DIR/mongo.uri, src/db/local-share.ts), left running; else the same local server the app
 * starts (stopped when the command ends).
 */
export async function withDb<T>(ctx: Ctx, run: (db: Db, d: Domain) => Promise<T>): Promise<T> {
  const d = await loadDomain();
  const env = ctx.io.env;
  let uri = env['MONGODB_URI']?.trim();
  let stopLocal: (() => Promise<void>) | undefined;
  if (!uri) {
    const dataDir = env['DATA_DIR'] || './data';
    const running = await d.findRunningLocalMongo(dataDir);
    if (running) {
      uri = running.uri;
      ctx.io.err(`${textTranslator(ctx, localeOf(ctx))('cli.out.sharedDatabase', { pid: running.pid })}\n`);
    } else {
      const local = await startLocal(d, dataDir, env['LOG_LEVEL']);
      uri = local.uri;
      stopLocal = () => local.stop();
      stopOnSignal = stopLocal;
    }
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

/** The CLI's own local server; a database in use or none at all is a message, not a stack trace. */
async function startLocal(d: Domain, dataDir: string, level: string | undefined) {
  const logger = d.createLogger(level ?? 'warn', d.pino.destination(2));
  try {
    return await d.startLocalMongo({ persistent: true, dataDir, logger });
  } catch (error) {
    if (error instanceof d.DatabaseInUseError) throw new DomainError('cli.errors.databaseInUse', { dir: dataDir });
    if (error instanceof d.NoDatabaseError) throw new DomainError('cli.errors.noDatabase', { message: error.message });
    throw error;
  }
}

/** BOT_USERNAME, else `getMe` when BOT_TOKEN is set and Telegram answers; else the placeholder `<bot>`. */
export async function botUsername(ctx: Ctx, t: Translate): Promise<string> {
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

export async function requireSchool(ctx: Ctx, db: Db, id: string): Promise<School> {
  const { getSchool } = await import('../domain/school/schools.js');
  const school = await getSchool(db, id);
  if (!school) throw new DomainError('cli.errors.schoolNotFound', { id });
  // Later messages (refusals included) speak the school's language unless --lang says otherwise.
  ctx.schoolLocale = school.locale;
  return school;
}

export const inviteTtl = (env: NodeJS.ProcessEnv) => {
  const n = Number(env['INVITE_TTL_DAYS']);
  return Number.isInteger(n) && n >= 1 && n <= 365 ? n : undefined;
};
