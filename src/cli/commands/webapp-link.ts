import { z } from 'zod';
import { signInitData, webAppLink } from '../../web/init-data.js';
import { type Ctx, localeOf, noPositionals, parse, printJson, textTranslator, UsageError, validate } from '../context.js';

const TOKEN = /^\d+:[A-Za-z0-9_-]{20,}$/;

/**
 * `webapp-link --telegram-id <id> [--base http://127.0.0.1:PORT] [--first-name <name>] [--language ru|en]`:
 * a link that opens the Mini App in any browser as that Telegram account — init data signed with
 * the configured BOT_TOKEN, exactly as Telegram signs it, valid for WEBAPP_INIT_DATA_MAX_AGE (24 h).
 * For development and the demo: anyone holding the link acts as that account until it expires.
 */
export async function webappLinkCommand(ctx: Ctx, args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    'telegram-id': { type: 'string' },
    base: { type: 'string' },
    'first-name': { type: 'string' },
    language: { type: 'string' },
  });
  const t = textTranslator(ctx, localeOf(ctx));
  if (values.help) {
    ctx.io.out(`${t('cli.help.webappLink')}\n`);
    return 0;
  }
  noPositionals(positionals);
  const env = ctx.io.env;
  const port = env.WEB_PORT || env.WEBHOOK_PORT || '8080';
  const input = validate(
    z.object({
      'telegram-id': z.string().regex(/^[1-9]\d{0,15}$/),
      base: z.url({ protocol: /^https?$/ }).default(`http://127.0.0.1:${port}`),
      'first-name': z.string().trim().min(1).max(64).default('Test'),
      language: z.enum(['ru', 'en']).optional(),
    }),
    values,
  );
  const token = env.BOT_TOKEN ?? '';
  if (!TOKEN.test(token)) throw new UsageError('cli.errors.missingOption', { option: 'BOT_TOKEN' });
  const initData = signInitData(token, {
    id: Number(input['telegram-id']),
    first_name: input['first-name'],
    language_code: input.language ?? localeOf(ctx),
  }, ctx.now());
  const url = webAppLink(input.base, initData);
  if (ctx.json) printJson(ctx, { url, initData });
  else ctx.io.out(`${url}\n`);
  return 0;
}
