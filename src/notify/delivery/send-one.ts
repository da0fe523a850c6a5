import { type Api, GrammyError, HttpError } from 'grammy';
import type { Message } from 'grammy/types';
import type { i18n } from 'i18next';
import { Types } from 'mongoose';
import { LOCALES, type Locale } from '../../config.js';
import type { Db } from '../../db/index.js';
import type { OutboxDoc } from '../../db/models/notify.js';
import { type Translate, translator } from '../../i18n.js';
import { htmlLength, TELEGRAM_CAPTION_MAX } from '../../domain/shared/text-limits.js';
import type { Logger } from '../../logger.js';
import { markChatBlocked } from '../blocked.js';
import { backToClaimed, cancel, claim, dropChat, fail, markSending, markSent, retryLater, unclaim } from '../outbox-worker.js';
import type { BotRateLimiter, Ticket } from '../rate-limit.js';
import { RenderCache, renderMessage } from '../render.js';
import { type Batch, CACHE_MS, type DeliveryEvent, type DeliveryStats } from './types.js';

const MAX_429_RETRIES = 5;

/** What sending one message needs from the worker. */
export interface SenderDeps {
  db: Db;
  log: Logger;
  now: () => Date;
  workerId: string;
  leaseMs: number;
  maxAttempts: number;
  bots: Record<string, Api>;
  i18n: i18n;
  defaultLocale: Locale;
  stats: DeliveryStats;
  limiter(botKey: string): BotRateLimiter;
  /** Throws once the worker is killed (a simulated crash writes nothing more). */
  guard(): void;
  emit(e: DeliveryEvent): void;
  /** Stopping or killed: stop waiting for a slot. */
  halted(): boolean;
  /** Messages went back to the queue: read it again soon. */
  wantRefill(): void;
}

/**
 * One Telegram message for one chat: claim its notices, render them in the recipient's language,
 * wait for the rate limiter, write `sending`, call Telegram, write `sent` — or record why not.
 */
export class MessageSender {
  private readonly cache = new RenderCache(CACHE_MS);
  private readonly translators: Record<Locale, Translate>;

  constructor(private readonly d: SenderDeps) {
    this.translators = Object.fromEntries(LOCALES.map((l) => [l, translator(d.i18n, l)])) as Record<Locale, Translate>;
  }

  async deliver(batch: Batch, ticket: Ticket, donePreparing: () => void): Promise<void> {
    const { db } = this.d;
    // The lease token is always new (fencing); a possible repeat keeps the token of the message it
    // repeats (the buttons of either copy then act on the same notices).
    const token = new Types.ObjectId().toHexString();
    const first = batch.candidates[0];
    const sendToken = first?.repeat && first.sendToken ? first.sendToken : token;
    const docs: OutboxDoc[] = [];
    for (const c of batch.candidates) {
      this.d.guard();
      const doc = await claim(db, c._id, { worker: this.d.workerId, token, sendToken, now: this.d.now(), leaseMs: this.d.leaseMs });
      if (doc) docs.push(doc);
    }
    if (docs.length === 0) return;
    this.d.emit({ type: 'claimed', ids: docs.map((d) => String(d._id)), chatId: batch.chatId });

    const locale = await this.localeOf(batch.chatId, docs[0] as OutboxDoc);
    const rendered = await renderMessage({
      db,
      t: this.translators[locale],
      locale,
      now: this.d.now(),
      token: sendToken,
      docs,
      cache: this.cache,
    });
    this.d.guard();
    if (rendered.overflow.length > 0) {
      await unclaim(db, rendered.overflow, token);
      this.d.wantRefill();
    }
    if (rendered.skipped.length > 0) {
      await cancel(db, rendered.skipped, token, 'nothing new to say');
      this.d.stats.cancelled += rendered.skipped.length;
      this.d.emit({ type: 'cancelled', ids: rendered.skipped.map(String), chatId: batch.chatId });
    }
    const items = rendered.items;
    const ids = items.map((i) => i.id);
    if (items.length === 0) return;

    const limiter = this.d.limiter(batch.botKey);
    donePreparing();
    // This process's turn and slot first, then a slot of the token's budget shared by all processes.
    let release = await limiter.alsoShared(await limiter.wait(ticket), 'notice', () => this.d.halted(), ticket.chatId);
    if (!release) {
      this.d.guard();
      await unclaim(db, ids, token);
      return;
    }
    try {
      const api = this.d.bots[batch.botKey] as Api;
      for (let attempt = 0; ; attempt++) {
        // `sending` only for the one request: the uncertain window after a crash is one HTTP call.
        if (!(await this.toSending(batch, items, ids, token))) return;
        let message: Message;
        try {
          message = await this.send(api, batch.chatId, rendered);
        } catch (e) {
          release();
          release = undefined;
          this.d.guard();
          const retry = await this.handleError(e, batch, docs, ids, token, attempt);
          if (!retry) return;
          release = await limiter.alsoShared(await limiter.acquire(batch.chatId, () => this.d.halted()), 'notice', () => this.d.halted(), batch.chatId);
          if (!release) {
            // Stopping while waiting out a 429: the message was not sent; back to the queue.
            this.d.guard();
            await retryLater(db, ids, token, { retryAt: this.d.now(), error: '429 pending at shutdown', giveUp: false });
            return;
          }
          continue;
        }
        release();
        release = undefined;
        this.d.guard();
        await markSent(db, items, token, { now: this.d.now(), messageId: message.message_id });
        this.d.stats.messages++;
        this.d.stats.notices += items.length;
        if (docs.some((d) => d.repeat)) this.d.stats.repeats++;
        this.d.emit({ type: 'sent', ids: ids.map(String), chatId: batch.chatId, messageId: message.message_id });
        await this.deleteIfRecalled(api, batch.chatId, docs, ids, message.message_id);
        return;
      }
    } finally {
      release?.();
    }
  }

  /** Writes `sending` right before the request; false (after putting them back) when the claim was lost. */
  private async toSending(batch: Batch, items: ReadonlyArray<{ id: Types.ObjectId; snapshot?: unknown }>, ids: Types.ObjectId[], token: string): Promise<boolean> {
    this.d.guard();
    const marked = await markSending(this.d.db, items, token, this.d.now(), this.d.leaseMs);
    if (marked === items.length) {
      this.d.emit({ type: 'sending', ids: ids.map(String), chatId: batch.chatId });
      this.d.guard();
      return true;
    }
    // Someone took these messages from us (we lost the lease): send nothing, change nothing of theirs.
    this.d.log.warn({ chatId: batch.chatId, expected: items.length, marked }, 'Lost the claim before sending');
    await retryLater(this.d.db, ids, token, { retryAt: this.d.now(), error: 'lost claim', giveUp: false });
    return false;
  }

  /**
   * A private message its sender recalled while this worker held it (R3): the recall flagged the
   * copy before reading which copies were sent, and this reads the flag after recording the copy
   * as sent — so one of the two always deletes it. Thread messages go alone (never joined).
   */
  private async deleteIfRecalled(api: Api, chatId: number, docs: OutboxDoc[], ids: Types.ObjectId[], messageId: number): Promise<void> {
    const threadCopy = docs.some((d) => d.kind === 'message' && typeof (d.payload as { threadMessageId?: unknown } | undefined)?.threadMessageId === 'string');
    if (!threadCopy) return;
    const recalled = await this.d.db.models.OutboxMessage.exists({ _id: { $in: ids }, recallRequested: true });
    if (!recalled) return;
    await api.deleteMessage(chatId, messageId).catch((e: unknown) => {
      this.d.log.warn({ chatId, err: e instanceof Error ? e.message : String(e) }, 'Could not delete a recalled message');
    });
  }

  private send(api: Api, chatId: number, r: Awaited<ReturnType<typeof renderMessage>>): Promise<Message> {
    const common = {
      parse_mode: 'HTML' as const,
      reply_markup: r.replyMarkup,
      disable_notification: r.disableNotification || undefined,
    };
    if (r.photo) return api.sendPhoto(chatId, r.photo, { ...common, caption: this.caption(chatId, r.text) });
    if (r.document) return api.sendDocument(chatId, r.document, { ...common, caption: this.caption(chatId, r.text) });
    if (r.voice) return api.sendVoice(chatId, r.voice, { ...common, caption: this.caption(chatId, r.text) });
    return api.sendMessage(chatId, r.text, { ...common, link_preview_options: { is_disabled: true } });
  }

  /**
   * The renderers keep captions within Telegram's 1024 (counted after the HTML is parsed), since
   * the senders' limits leave room for the header. Cutting the HTML here could break a tag and
   * lose the whole message: a longer caption is a bug, logged, and sent as it is (Telegram refuses it, recorded as failed).
   */
  private caption(chatId: number, html: string): string {
    if (htmlLength(html) > TELEGRAM_CAPTION_MAX) this.d.log.error({ chatId, length: htmlLength(html) }, 'Caption over 1024 characters');
    return html;
  }

  /** Returns true to retry the send now (after a 429 pause); otherwise the outcome is recorded. */
  private async handleError(
    e: unknown,
    batch: Batch,
    docs: OutboxDoc[],
    ids: Types.ObjectId[],
    token: string,
    attempt: number,
  ): Promise<boolean> {
    const { db } = this.d;
    const now = this.d.now();
    const attempts = Math.max(...docs.map((d) => d.attempts ?? 1));
    const backoff = (n: number) => new Date(now.getTime() + Math.min(600_000, 1000 * 2 ** Math.max(0, n - 1)));
    if (e instanceof GrammyError) {
      if (e.error_code === 429) {
        const seconds = Math.max(1, e.parameters.retry_after ?? 1);
        const limiter = this.d.limiter(batch.botKey);
        limiter.pauseChat(batch.chatId, seconds * 1000);
        // The answer does not say whether the chat or the whole bot is over the limit: pause both,
        // the bot for at most 5 s, so one flooded chat does not hold every school.
        limiter.pauseAll(Math.min(seconds, 5) * 1000);
        this.d.stats.rateLimited++;
        this.d.emit({ type: 'rateLimited', chatId: batch.chatId });
        this.d.log.warn({ chatId: batch.chatId, retryAfter: seconds }, 'Telegram rate limit (429)');
        // A 429 is a definite "not sent": out of `sending` while it waits, so a crash now is no repeat.
        if (attempt < MAX_429_RETRIES) {
          await backToClaimed(db, ids, token, now, this.d.leaseMs);
          return true;
        }
        await retryLater(db, ids, token, { retryAt: new Date(now.getTime() + seconds * 1000), error: '429', giveUp: false });
        return false;
      }
      if (e.error_code === 403) {
        await fail(db, ids, token, 'dropped', '403 blocked');
        await dropChat(db, batch.chatId, batch.botKey, '403 blocked');
        const changed = await markChatBlocked(db, batch.chatId, now);
        this.d.stats.blocked++;
        this.d.emit({ type: 'blocked', chatId: batch.chatId, ids: ids.map(String) });
        this.d.log.info({ chatId: batch.chatId, schoolId: String(batch.schoolId), changed }, 'Chat blocked the bot; stopped sending to it');
        return false;
      }
      if (e.error_code >= 500) {
        const giveUp = attempts >= this.d.maxAttempts;
        // The server failed somewhere along the way: whether the message went out is not known.
        await retryLater(db, ids, token, { retryAt: backoff(attempts), error: `${e.error_code}`, giveUp, uncertain: true });
        this.d.stats[giveUp ? 'failed' : 'retried']++;
        this.d.emit({ type: giveUp ? 'failed' : 'retry', chatId: batch.chatId, ids: ids.map(String) });
        this.d.log.warn({ chatId: batch.chatId, code: e.error_code, attempts }, 'Telegram server error; will retry');
        return false;
      }
      // 400 and the like: the same request will fail again (a bug or a chat that does not exist).
      await fail(db, ids, token, 'failed', `${e.error_code} ${e.description}`.slice(0, 200));
      this.d.stats.failed++;
      this.d.emit({ type: 'failed', chatId: batch.chatId, ids: ids.map(String) });
      this.d.log.error({ chatId: batch.chatId, code: e.error_code, description: e.description }, 'Message refused by Telegram');
      return false;
    }
    // Network: the request may or may not have reached Telegram; sent again as a possible repeat.
    const giveUp = attempts >= this.d.maxAttempts;
    await retryLater(db, ids, token, {
      retryAt: backoff(attempts),
      error: e instanceof HttpError ? 'network' : String((e as Error)?.message ?? e).slice(0, 200),
      giveUp,
      uncertain: true,
    });
    this.d.stats[giveUp ? 'failed' : 'retried']++;
    this.d.emit({ type: giveUp ? 'failed' : 'retry', chatId: batch.chatId, ids: ids.map(String) });
    this.d.log.warn({ chatId: batch.chatId, attempts, err: e instanceof HttpError ? e.message : e }, 'Could not reach Telegram; will retry');
    return false;
  }

  /**
   * The recipient's language: chosen with /language, else Telegram's, else the school's, else the
   * deployment's. Read for every message (one indexed read): a cached answer would keep writing
   * in the old language for a while after /language (issue 11 item 4).
   */
  private async localeOf(chatId: number, doc: OutboxDoc): Promise<Locale> {
    const account = await this.d.db.models.Account.findOne({ telegramId: chatId }, { locale: 1, telegramLocale: 1 }).lean();
    let chosen: string | undefined = account?.locale ?? account?.telegramLocale ?? undefined;
    if (!chosen) chosen = (await this.cache.school(this.d.db, doc.schoolId))?.locale ?? undefined;
    return (LOCALES as readonly string[]).includes(chosen ?? '') ? (chosen as Locale) : this.d.defaultLocale;
  }
}
