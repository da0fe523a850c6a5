import { holdNoticeIntents } from '../domain/notices/intents.js';
import { tidyKeyboards } from './keyboards.js';
import { autoRetry } from '@grammyjs/auto-retry';
import type { BotRateLimiter } from '../notify/rate-limit.js';
import { sharedRateLimit } from './shared-rate-limit.js';
import { conversations } from '@grammyjs/conversations';
import { sequentialize } from '@grammyjs/runner';
import { type ApiClientOptions, Bot, type BotError, GrammyError, HttpError } from 'grammy';
import type { UserFromGetMe } from 'grammy/types';
import type { Config } from '../config.js';
import { DomainError } from '../domain/shared/errors.js';
import { translator } from '../i18n.js';
import type { BotContext, BotDeps } from './context.js';
import { mongoConversationStorage } from './conversation-storage.js';
import { absenceReportFeature } from './features/diary/absent.js';
import { acksFeature } from './features/diary/acks.js';
import { diaryFeature } from './features/diary/diary.js';
import { familyFeature } from './features/diary/children.js';
import { helpFeature } from './features/school/help.js';
import { importFeature } from './features/school/import.js';
import { invitesFeature } from './features/school/invites.js';
import { joinFeature } from './features/school/join.js';
import { languageFeature } from './features/school/language.js';
import { notifySettingsFeature } from './features/diary/notifications.js';
import { privacyFeature } from './features/school/privacy.js';
import { startFeature } from './features/school/start.js';
import { yearEndFeature } from './features/school/year-end.js';
import { attendanceFeature } from './features/journal/attendance.js';
import { homeworkFeature } from './features/journal/homework.js';
import { journalAdminFeature } from './features/journal/oversight.js';
import { calendarFeature } from './features/school/calendar.js';
import { periodMarksFeature } from './features/journal/period-marks.js';
import { transferMarksFeature } from './features/journal/arrivals.js';
import { marksFeature } from './features/journal/marks.js';
import { messagingFeature } from './features/messaging/messaging.js';
import { announcementsFeature } from './features/messaging/announcements.js';
import { todayFeature } from './features/journal/today.js';
import { topicFeature } from './features/journal/plan.js';
import { reportsFeature } from './features/reports/reports.js';
import { unhandledFeature } from './features/unhandled.js';
import { journalConversations } from './conversations/index.js';
import type { InFlight } from './in-flight.js';
import { actorMiddleware } from './middleware/actor.js';
import { localeMiddleware } from './middleware/locale.js';
import { guardWrites, isOutage, outageGuard, UpdateNotHandledError } from './middleware/outage.js';
import { updateSchemaMiddleware } from './middleware/update-schema.js';
import { privateChatsOnly } from './middleware/private-only.js';
import { sayRefusal } from './ui.js';

export interface CreateBotOptions {
  /** grammY HTTP client options: tests pass a fake `fetch`; TELEGRAM_API_ROOT sets `apiRoot`. */
  client?: ApiClientOptions;
  /** Skip `getMe` at start (tests, or when the bot info is known). */
  botInfo?: UserFromGetMe;
  /** Tracks updates in flight for a graceful shutdown. */
  inFlight?: InFlight;
  /**
   * The delivery worker's rate limiter for this token, when this process runs it: the bot's own
   * answers (conversations' too) share its 30-a-second budget (src/bot/shared-rate-limit.ts).
   */
  sharedLimiter?: () => BotRateLimiter | undefined;
  /** Per-update deadline before the person is told the journal is unavailable (middleware/outage.ts). */
  deadlineMs?: number;
}

/** Retries 429 (after `retry_after`) and 5xx/network errors on outgoing calls. */
export const retryTransformer = () => autoRetry({ maxRetryAttempts: 3, maxDelaySeconds: 60, rethrowHttpErrors: false });

/**
 * Middleware order (each step may rely on the ones above it):
 *  0. update schema — malformed updates stop here (middleware/update-schema.ts); the rest rely on its shape;
 *     outage guard  — a deadline per update: a stalled or stopped database gets the person a localized
 *                     "temporarily unavailable" within seconds, and a late handler writes nothing
 *                     (middleware/outage.ts); outside sequentialize, so queued updates get it too;
 *  1. sequentialize — updates of one chat are handled one at a time, in order (runner and webhook alike);
 *  2. private only  — updates from groups, supergroups and channels stop here (one notice per chat):
 *                     personal data is shown only in the person's private chat (R32);
 *     locale        — ctx.deps, ctx.locale, ctx.t (the account's chosen language, else Telegram's);
 *     actor         — ctx.actor: the bound person acting, with derived rights (domain/actor.ts);
 *  3. conversations — durable conversation state in MongoDB;
 *  4. features      — one Composer per feature, each a factory;
 *  5. unhandled     — every other message or button gets a helpful answer, never silence.
 * Errors from any step end in the error boundary (and `bot.catch` for polling): the log gets the error with the update id, the user a short apology.
 */
export function createBot(config: Config, deps: BotDeps, options: CreateBotOptions = {}): Bot<BotContext> {
  const client: ApiClientOptions = { ...options.client };
  if (config.telegramApiRoot && !client.apiRoot) client.apiRoot = config.telegramApiRoot;
  const bot = new Bot<BotContext>(config.botToken, { client, botInfo: options.botInfo });
  bot.api.config.use(retryTransformer());
  bot.api.config.use(tidyKeyboards());
  const shared = options.sharedLimiter;
  if (shared) bot.api.config.use(sharedRateLimit(shared));

  // handleUpdate (webhook, tests, runner) does not call bot.catch: the boundary catches for all of them.
  if (options.inFlight) bot.use(options.inFlight.middleware());
  // The families' notices of what this update saved are fanned out once it is answered (issue 12).
  bot.use((_ctx, next) => holdNoticeIntents(next));
  bot.use(updateSchemaMiddleware(deps));
  guardWrites(deps.db.conn);
  bot.use(outageGuard(deps, { deadlineMs: options.deadlineMs }));
  const guarded = bot.errorBoundary((err) => {
    // The outage guard answers these, in the person's language, and marks the update not handled.
    if (isOutage(err.error)) throw err.error;
    return handleBotError(err, deps);
  });
  guarded.use(sequentialize((ctx) => ctx.chatId?.toString() ?? ctx.from?.id.toString()));
  guarded.use(privateChatsOnly(deps));
  guarded.use(localeMiddleware(deps));
  guarded.use(actorMiddleware());
  guarded.use(
    conversations({
      storage: { type: 'key', adapter: mongoConversationStorage(deps.db.models), version: 1 },
      // Conversations build a fresh Api per step: give them the same retry behaviour as bot.api.
      plugins: [
        async (ctx, next) => {
          ctx.api.config.use(retryTransformer());
          ctx.api.config.use(tidyKeyboards());
          if (shared) ctx.api.config.use(sharedRateLimit(shared));
          await next();
        },
      ],
    }),
  );

  // Features: each is a factory returning a Composer; access checks live in src/domain, not here.
  guarded.use(startFeature());
  guarded.use(helpFeature());
  guarded.use(languageFeature());
  guarded.use(joinFeature());
  guarded.use(privacyFeature());
  guarded.use(familyFeature());
  guarded.use(invitesFeature());
  // Teacher–family messaging (R3, R24): before the features that take photos and documents, so that
  // what a user sends while composing (or as a reply to a delivered message) goes to the thread.
  guarded.use(messagingFeature());
  // Class announcements (issue 6): the draft's text and replies to a copy, before the features below.
  guarded.use(announcementsFeature());
  // The diary and notifications for families (R23–R25): diary, settings, acknowledgements, absence reports.
  guarded.use(diaryFeature());
  guarded.use(notifySettingsFeature());
  guarded.use(acksFeature());
  guarded.use(absenceReportFeature());

  // The journal (issue 4): its conversations first, then its screens.
  guarded.use(journalConversations(deps));
  guarded.use(todayFeature());
  guarded.use(attendanceFeature());
  guarded.use(marksFeature());
  guarded.use(topicFeature());
  guarded.use(homeworkFeature());
  guarded.use(journalAdminFeature());
  guarded.use(transferMarksFeature());
  // Period and year marks (R15–R17, R7).
  guarded.use(periodMarksFeature());
  // The school calendar: periods, holidays, mark windows (R5, R15).
  guarded.use(calendarFeature());
  // The year's end (R5, R7) and PE exemptions (R21).
  guarded.use(yearEndFeature());

  // Reports and printed documents (issue 14, R25–R29): figures, files, built in the background.
  guarded.use(reportsFeature());
  guarded.use(importFeature());
  guarded.use(unhandledFeature());

  bot.catch((err) => handleBotError(err, deps));
  return bot;
}

async function handleBotError(err: BotError<BotContext>, deps: BotDeps): Promise<void> {
  const ctx = err.ctx;
  const e = err.error;
  const updateId = ctx.update.update_id;
  // Already told and logged by the outage guard (polling: the runner hands it to bot.catch).
  if (e instanceof UpdateNotHandledError) return;
  const t = ctx.t ?? translator(deps.i18n, deps.config.defaultLocale);
  if (e instanceof DomainError) {
    // A user's mistake or a refused access: a clear answer, nothing changed, nothing to alarm about.
    deps.logger.info({ updateId, key: e.key }, 'Refused');
    try {
      ctx.t ??= t;
      await sayRefusal(ctx, e);
    } catch (replyError) {
      deps.logger.warn({ updateId, err: replyError }, 'Could not send the refusal');
    }
    return;
  }
  if (e instanceof GrammyError) {
    deps.logger.error({ updateId, method: e.method, code: e.error_code, description: e.description }, 'Bot API error');
  } else if (e instanceof HttpError) {
    deps.logger.error({ updateId, err: e.error }, 'Could not reach the Bot API');
    return; // replying would fail the same way
  } else {
    deps.logger.error({ updateId, err: e }, 'Unhandled error while handling an update');
  }
  try {
    if (ctx.callbackQuery) await ctx.answerCallbackQuery({ text: t('common.apology'), show_alert: true });
    else if (ctx.chat) await ctx.reply(t('common.apology'));
  } catch (replyError) {
    deps.logger.warn({ updateId, err: replyError }, 'Could not send the apology');
  }
}
