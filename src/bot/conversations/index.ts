import { createConversation } from '@grammyjs/conversations';
import { Composer, type Context } from 'grammy';
import type { BotContext, BotDeps } from '../context.js';
import { bulkMarksConversation } from './bulk-marks.js';
import type { OuterCtx } from './common.js';
import { grantConversation } from './grant.js';
import { homeworkConversation } from './homework.js';
import { journalTextConversation } from './journal-text.js';
import { planUploadConversation } from './plan-upload.js';

/**
 * The journal's conversations (state in MongoDB through the conversations plugin). Installed
 * before the journal's features, which enter them by id.
 */
export function journalConversations(deps: BotDeps) {
  const composer = new Composer<BotContext>();
  composer.use(createConversation<OuterCtx, Context>(journalTextConversation(deps), 'journalText'));
  composer.use(createConversation<OuterCtx, Context>(bulkMarksConversation(deps), 'bulkMarks'));
  composer.use(createConversation<OuterCtx, Context>(homeworkConversation(deps), 'homework'));
  composer.use(createConversation<OuterCtx, Context>(planUploadConversation(deps), 'planUpload'));
  composer.use(createConversation<OuterCtx, Context>(grantConversation(deps), 'grant'));
  return composer;
}
