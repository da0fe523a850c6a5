import { parse, sign, validate } from '@telegram-apps/init-data-node';

/**
 * Telegram's init data (https://core.telegram.org/bots/webapps#validating-data-received-via-the-mini-app):
 * checked on every API request with the bot token (the signature) and its age; signed here too,
 * for the CLI's `webapp-link` (open the Mini App in any browser) and the tests.
 */
export interface InitDataUser {
  id: number;
  firstName: string;
  lastName?: string;
  languageCode?: string;
}

export type InitDataProblem = 'missing' | 'invalid' | 'expired';

export class InitDataError extends Error {
  constructor(readonly problem: InitDataProblem) {
    super(`init data ${problem}`);
    this.name = 'InitDataError';
  }
}

/** Init data signed with `botToken`, as Telegram would hand it to the Mini App. */
export function signInitData(
  botToken: string,
  user: { id: number; first_name?: string; last_name?: string; language_code?: string },
  authDate: Date = new Date(),
): string {
  return sign(
    { user: { first_name: user.first_name ?? 'User', ...user }, chat_type: 'sender', chat_instance: '1' },
    botToken,
    authDate,
  );
}

/** The link that opens the Mini App in a browser with test init data (see src/cli/commands/webapp-link.ts). */
export function webAppLink(base: string, initData: string): string {
  const hash = new URLSearchParams({ tgWebAppData: initData, tgWebAppVersion: '8.0', tgWebAppPlatform: 'web' });
  return `${base.replace(/\/+$/, '')}/app/#${hash.toString()}`;
}

/** The `Authorization: tma <initData>` header → the Telegram user, or InitDataError. */
export function userFromAuthorization(header: string | undefined, botToken: string, maxAgeSeconds: number): InitDataUser {
  const match = /^tma\s+(.+)$/i.exec(header?.trim() ?? '');
  if (!match?.[1]) throw new InitDataError('missing');
  const raw = match[1];
  try {
    validate(raw, botToken, { expiresIn: maxAgeSeconds });
  } catch (e) {
    throw new InitDataError(/expired/i.test((e as Error)?.name ?? '') ? 'expired' : 'invalid');
  }
  const data = parse(raw);
  const user = data.user;
  if (!user || typeof user.id !== 'number') throw new InitDataError('invalid');
  return { id: user.id, firstName: user.first_name, lastName: user.last_name, languageCode: user.language_code };
}
