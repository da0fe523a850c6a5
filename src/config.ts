import { z } from 'zod';

/**
 * Every setting comes from the environment and is validated once, here.
 * A bad or missing value stops start-up with one message naming every bad variable.
 */
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const LOCALES = ['ru', 'en'] as const;
export type Locale = (typeof LOCALES)[number];

const emptyToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const optionalString = <T extends z.ZodType>(schema: T) => z.preprocess(emptyToUndefined, schema.optional());
const booleanFlag = z.preprocess(
  emptyToUndefined,
  z
    .enum(['1', '0', 'true', 'false', 'yes', 'no'], { message: 'expected 1/0, true/false or yes/no' })
    .optional()
    .transform((v) => v === '1' || v === 'true' || v === 'yes'),
);
const intIn = (min: number, max: number, def: number) =>
  z.preprocess(emptyToUndefined, z.coerce.number().int().min(min).max(max).default(def));

const schema = z
  .object({
    NODE_ENV: z.preprocess(emptyToUndefined, z.enum(['development', 'production', 'test']).default('development')),
    BOT_TOKEN: z
      .string({ message: 'required: the token from @BotFather, like 123456:ABC-DEF…' })
      .regex(/^\d+:[A-Za-z0-9_-]{20,}$/, 'expected a token from @BotFather, like 123456:ABC-DEF…'),
    BOT_MODE: z.preprocess(
      emptyToUndefined,
      z.enum(['polling', 'webhook'], { message: 'expected "polling" or "webhook"' }).default('polling'),
    ),
    WEBHOOK_URL: optionalString(z.url({ protocol: /^https$/, message: 'expected a public https:// URL' })),
    WEBHOOK_SECRET: optionalString(
      z.string().regex(/^[A-Za-z0-9_-]{16,256}$/, 'expected 16–256 characters of A-Z, a-z, 0-9, _ and -'),
    ),
    // Older names of WEB_HOST / WEB_PORT, still read when the new ones are not set.
    WEBHOOK_HOST: optionalString(z.string()),
    WEBHOOK_PORT: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).max(65535).optional()),
    WEB_HOST: optionalString(z.string()),
    WEB_PORT: z.preprocess(emptyToUndefined, z.coerce.number().int().min(0).max(65535).optional()),
    WEBAPP_URL: optionalString(z.url({ protocol: /^https$/, message: 'expected the public https:// URL of /app/' })),
    WEBAPP_INIT_DATA_MAX_AGE: intIn(60, 30 * 86_400, 86_400),
    BOT_USERNAME: optionalString(
      z.string().regex(/^@?[A-Za-z][A-Za-z0-9_]{3,31}$/, 'expected the bot\'s username, e.g. school_journal_bot'),
    ),
    TELEGRAM_API_ROOT: optionalString(z.url({ message: 'expected a URL such as http://127.0.0.1:8081' })),
    MONGODB_URI: optionalString(
      z.string().regex(/^mongodb(\+srv)?:\/\//, 'expected a mongodb:// or mongodb+srv:// connection string'),
    ),
    MONGODB_ALLOW_DOWNLOAD: booleanFlag,
    DATA_DIR: z.preprocess(emptyToUndefined, z.string().default('./data')),
    LOG_LEVEL: z.preprocess(
      emptyToUndefined,
      z.enum(LOG_LEVELS, { message: `expected one of ${LOG_LEVELS.join(', ')}` }).default('info'),
    ),
    DEFAULT_LOCALE: z.preprocess(
      emptyToUndefined,
      z.enum(LOCALES, { message: `expected one of ${LOCALES.join(', ')}` }).default('ru'),
    ),
    INVITE_TTL_DAYS: intIn(1, 365, 14),
    JOBS_PROCESS_EVERY_MS: intIn(100, 60_000, 1000),
    SHUTDOWN_TIMEOUT_MS: intIn(1000, 120_000, 15_000),
  });

/** Cross-field rules, checked on the raw values so they are reported together with every other problem. */
function crossFieldProblems(source: NodeJS.ProcessEnv): string[] {
  const raw = (name: string) => {
    const v = source[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const problems: string[] = [];
  if (raw('BOT_MODE') === 'webhook') {
    if (!raw('WEBHOOK_URL')) problems.push('WEBHOOK_URL: required when BOT_MODE=webhook');
    if (!raw('WEBHOOK_SECRET')) problems.push('WEBHOOK_SECRET: required when BOT_MODE=webhook');
  }
  if (raw('NODE_ENV') === 'production' && !raw('MONGODB_URI')) {
    problems.push('MONGODB_URI: required when NODE_ENV=production (no embedded database in production)');
  }
  return problems;
}

export type Env = z.infer<typeof schema>;

export interface Config {
  env: Env['NODE_ENV'];
  botToken: string;
  mode: Env['BOT_MODE'];
  webhook: { url?: string; secret?: string };
  /**
   * The one web server (src/web/server.ts): the webhook in webhook mode and the Mini App under
   * /app/. WEB_HOST/WEB_PORT (or the older WEBHOOK_HOST/WEBHOOK_PORT); the host defaults to
   * 0.0.0.0 in webhook mode (Telegram must reach it, usually through a reverse proxy) and to
   * 127.0.0.1 in polling mode.
   */
  web: {
    host: string;
    port: number;
    /** WEBAPP_URL: the public https URL of /app/; when set, the bot offers the Mini App. */
    appUrl?: string;
    /** How old Telegram's init data may be, in seconds (WEBAPP_INIT_DATA_MAX_AGE, default 24 h). */
    initDataMaxAgeSeconds: number;
  };
  /** The bot's @username for invite links printed without asking Telegram (the CLI); else getMe. */
  botUsername?: string;
  telegramApiRoot?: string;
  mongoUri?: string;
  mongoAllowDownload: boolean;
  dataDir: string;
  logLevel: Env['LOG_LEVEL'];
  defaultLocale: Locale;
  inviteTtlDays: number;
  jobsProcessEveryMs: number;
  shutdownTimeoutMs: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}\nSee .env.example for every variable.`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(source);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((issue) => {
        const name = issue.path.join('.') || '(environment)';
        const message = issue.code === 'invalid_type' && source[name] === undefined ? 'required' : issue.message;
        return `${name}: ${message}`;
      });
  problems.push(...crossFieldProblems(source));
  if (!parsed.success || problems.length > 0) throw new ConfigError([...new Set(problems)]);
  const e = parsed.data;
  return {
    env: e.NODE_ENV,
    botToken: e.BOT_TOKEN,
    mode: e.BOT_MODE,
    webhook: { url: e.WEBHOOK_URL, secret: e.WEBHOOK_SECRET },
    web: {
      host: e.WEB_HOST ?? e.WEBHOOK_HOST ?? (e.BOT_MODE === 'webhook' ? '0.0.0.0' : '127.0.0.1'),
      port: e.WEB_PORT ?? e.WEBHOOK_PORT ?? 8080,
      appUrl: e.WEBAPP_URL,
      initDataMaxAgeSeconds: e.WEBAPP_INIT_DATA_MAX_AGE,
    },
    botUsername: e.BOT_USERNAME?.replace(/^@/, ''),
    telegramApiRoot: e.TELEGRAM_API_ROOT,
    mongoUri: e.MONGODB_URI,
    mongoAllowDownload: e.MONGODB_ALLOW_DOWNLOAD,
    dataDir: e.DATA_DIR,
    logLevel: e.LOG_LEVEL,
    defaultLocale: e.DEFAULT_LOCALE,
    inviteTtlDays: e.INVITE_TTL_DAYS,
    jobsProcessEveryMs: e.JOBS_PROCESS_EVERY_MS,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
  };
}
