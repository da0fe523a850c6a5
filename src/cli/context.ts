import { parseArgs } from 'node:util';
import { z } from 'zod';
import { LOCALES, type Locale } from '../config.js';
import type { Db } from '../db/index.js';
import type { createI18n, Translate } from '../i18n.js';

/**
 * What every command of the operator's command line shares: the run's context, output in the
 * right language and form, and argument parsing with usage errors (exit code 2).
 */

/** For help texts without loading the domain; a test keeps them equal to IMPORT_KINDS and ROLES. */
export const KIND_NAMES = ['students', 'staff', 'subjects', 'classes', 'groups', 'load', 'timetable'] as const;
export const ROLE_NAMES = ['admin', 'secretary', 'deputy', 'teacher', 'parent', 'student'] as const;

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  env: NodeJS.ProcessEnv;
  now?: () => Date;
}

export interface Ctx {
  io: CliIo;
  json: boolean;
  lang?: Locale;
  i18n: Awaited<ReturnType<typeof createI18n>>;
  now: () => Date;
  db?: Db;
  schoolLocale?: string | null;
}

export type Command = (ctx: Ctx, args: string[]) => Promise<number>;

/** Bad arguments: exit code 2, with the command's help hint. */
export class UsageError extends Error {
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

export const objectId = z.string().regex(/^[0-9a-f]{24}$/i);
export const langSchema = z.enum(LOCALES);

/** Plain-text translator: no HTML escaping (the bot's messages are HTML, the terminal is not). */
export function textTranslator(ctx: Ctx, locale: Locale): Translate {
  const fixed = ctx.i18n.getFixedT(locale);
  return (key, vars) => String(fixed(key, { ...(vars ?? {}), interpolation: { escapeValue: false } })).replace(/<\/?b>/g, '');
}

export function localeOf(ctx: Ctx, school?: { locale?: string | null }): Locale {
  if (ctx.lang) return ctx.lang;
  const fromSchool = langSchema.safeParse(school?.locale ?? ctx.schoolLocale);
  if (fromSchool.success) return fromSchool.data;
  // The operator's language if their locale names one of ours; else the deployment's default
  // (ru unless DEFAULT_LOCALE says otherwise) — as the school's output is, so one run speaks one
  // language (issue 11: errors were English, the rest Russian, under LANG=C).
  const env = ctx.io.env;
  const named = (env['LC_ALL'] || env['LC_MESSAGES'] || env['LANG'] || '').toLowerCase().slice(0, 2);
  const fromEnv = langSchema.safeParse(named);
  if (fromEnv.success) return fromEnv.data;
  const fallback = langSchema.safeParse(env['DEFAULT_LOCALE']);
  return fallback.success ? fallback.data : 'ru';
}

export const printJson = (ctx: Ctx, value: unknown) => ctx.io.out(`${JSON.stringify(value, null, 2)}\n`);

export function parse(args: string[], options: Record<string, { type: 'string' | 'boolean'; short?: string }>) {
  const all: Record<string, { type: 'string' | 'boolean'; short?: string }> = { ...GLOBAL_OPTIONS, ...options };
  // `--grace-minutes -3`: node reads "-3" as an option ("argument is ambiguous"); a value that
  // looks like a negative number is the option's value, checked (and refused) like any other.
  const glued: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const next = args[i + 1];
    const name = arg.startsWith('--') ? arg.slice(2) : undefined;
    if (name && all[name]?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      glued.push(`${arg}=${next}`);
      i++;
    } else glued.push(arg);
  }
  try {
    return parseArgs({ args: glued, options: all, allowPositionals: true, strict: true });
  } catch (error) {
    throw usageErrorOf(error);
  }
}

/** node's parseArgs errors in the operator's language (its own messages are English only). */
function usageErrorOf(error: unknown): UsageError {
  const e = error as { code?: string; message?: string };
  const option = /'(-{1,2}[^' ]+)/.exec(e.message ?? '')?.[1];
  if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && option) return new UsageError('cli.errors.unknownOption', { option });
  if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && option) return new UsageError('cli.errors.optionValue', { option });
  if (e.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    const value = /'([^']*)'/.exec(e.message ?? '')?.[1] ?? '';
    return new UsageError('cli.errors.unexpectedArg', { value });
  }
  return new UsageError('cli.errors.badArgs', { message: e.message ?? String(error) });
}

export function validate<T extends z.ZodType>(schema: T, values: unknown): z.infer<T> {
  const parsed = schema.safeParse(values);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const option = String(issue.path[0] ?? '');
  const given = (values as Record<string, unknown>)[option];
  if (given === undefined) throw new UsageError('cli.errors.missingOption', { option });
  throw new UsageError('cli.errors.badOption', { option, value: String(given) });
}

/** A command that takes no positional arguments refuses the first one it is given. */
export function noPositionals(positionals: string[]): void {
  if (positionals.length > 0) throw new UsageError('cli.errors.unexpectedArg', { value: positionals[0] });
}
