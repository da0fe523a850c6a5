/**
 * The operator's command line: `npm run cli -- <command>` (see `--help`).
 *
 *   school create --name "<name>" --timezone <IANA zone>   a school + a one-time link for its first admin
 *   school list
 *   school settings --school <id> [--lock-days N] …         the school's rules, shown or changed
 *   import <kind> <file> --school <id> [--dry-run]         the importer (all-or-nothing per file)
 *   invite --school <id> --role <role> [--person <code>] [--class <name>]
 *   seed:demo [--students N] [--school <id>] [--seed N]
 *   year show|period|remove-period|holiday|load|window --school <id> …   the calendar (commands/year.ts)
 *   year outcomes|close|confirm-timetable|archive|restore|pe-subject …     the year's end (commands/year-end.ts)
 *   report <kind> --school <id> [--class 5А] [--period q1] --format json|xlsx|pdf [--out FILE]   reports (commands/report.ts)
 *   webapp-link --telegram-id <id> [--base <url>]          the Mini App in a browser with signed test init data
 *
 * One file per command in commands/; this file reads the arguments, picks the command and turns
 * what went wrong into an exit code. Output goes to stdout (`--json` for programs), problems to
 * stderr with a non-zero exit code: 1 for a refused or failed operation (a rejected file, an
 * unknown school), 2 for bad arguments. The database is MONGODB_URI, else the same local server
 * the app starts (stopped on exit). The CLI acts as the deployment operator: a system actor with
 * full rights in the chosen school.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DomainError } from '../domain/shared/errors.js';
import { createI18n } from '../i18n.js';
import { importCommand } from './commands/import.js';
import { inviteCommand } from './commands/invite.js';
import { reportCommand } from './commands/report.js';
import { schoolCommand } from './commands/school.js';
import { seedCommand } from './commands/seed-demo.js';
import { webappLinkCommand } from './commands/webapp-link.js';
import { yearCommand } from './commands/year.js';
import { type CliIo, type Command, type Ctx, KIND_NAMES, langSchema, localeOf, textTranslator, UsageError } from './context.js';
import { stopLocalDatabase } from './database.js';

const COMMANDS: Record<string, Command> = {
  school: schoolCommand,
  import: importCommand,
  invite: inviteCommand,
  'seed:demo': seedCommand,
  year: yearCommand,
  report: reportCommand,
  'webapp-link': webappLinkCommand,
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
      await stopLocalDatabase().catch(() => undefined);
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
