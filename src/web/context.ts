import type { BotDeps } from '../bot/context.js';
import type { Locale } from '../config.js';
import type { Actor } from '../domain/school/actor.js';
import type { Translate } from '../i18n.js';
import type { InitDataUser } from './init-data.js';

/** What the web server needs from the app: the same deps the bot has (config, db, i18n, clock). */
export type WebDeps = Pick<BotDeps, 'config' | 'logger' | 'i18n' | 'db' | 'now'>;

/** The person behind a checked init data: the same Actor the bot builds, and their language. */
export interface Session {
  user: InitDataUser;
  actor: Actor;
  personId: string;
  locale: Locale;
  t: Translate;
}

export type WebEnv = { Variables: { session: Session } };
