import type { ConversationFlavor } from '@grammyjs/conversations';
import type { Context } from 'grammy';
import type { i18n } from 'i18next';
import type { Config, Locale } from '../config.js';
import type { Db } from '../db/index.js';
import type { Actor } from '../domain/school/actor.js';
import type { BoundPersons } from './middleware/actor.js';
import type { Translate } from '../i18n.js';
import type { Logger } from '../logger.js';

/** What every handler can reach. Built once per app; no globals. */
export interface BotDeps {
  config: Config;
  logger: Logger;
  i18n: i18n;
  db: Db;
  /** The clock used for every rule that depends on time (tests move it). */
  now: () => Date;
}

export interface AppFlavor {
  deps: BotDeps;
  locale: Locale;
  t: Translate;
  /** The bound persons' read, started by the locale middleware, finished by the actor middleware. */
  boundPersons?: Promise<BoundPersons>;
  /** Account.currentPersonId, read once by the locale middleware. */
  currentPersonId?: string;
  /** The person this Telegram account acts as (undefined: not joined yet). Set by actorMiddleware. */
  actor?: Actor;
  /** All persons bound to this account (several schools or roles); the actor is one of them. */
  profiles: Array<{ personId: string; schoolId: string; roles: string[] }>;
}

export type BotContext = ConversationFlavor<Context & AppFlavor>;
