import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { type Api, GrammyError, HttpError } from 'grammy';
import type { Message } from 'grammy/types';
import type { i18n } from 'i18next';
import { Types } from 'mongoose';
import { LOCALES, type Locale } from '../config.js';
import type { Db } from '../db/index.js';
import type { OutboxDoc } from '../db/models/notify.js';
import { translator } from '../i18n.js';
import type { Logger } from '../logger.js';
import { markChatBlocked } from './blocked.js';
import {
  type Candidate,
  cancel,
  claim,
  defer,
  dropChat,
  dueOf,
  dueSchools,
  fail,
  markSending,
  markSent,
  recoverExpired,
  retryLater,
  unclaim,
} from './outbox-worker.js';
import { onOutboxWrite } from '../domain/notices/outbox.js';
import { BotRateLimiter, type RateLimits, TELEGRAM_LIMITS, type Ticket } from './rate-limit.js';
import { JOINABLE, RenderCache, renderMessage } from './render.js';
import { quietUntil } from '../domain/notices/quiet-hours.js';

/**
 * The delivery worker: one loop per process, supervised by the app (start/stop), not one job per
 * message. For each bot token it serves it must hold the bot's leadership lease (one sender per
 * token: the rate limits are per token); then it
 *
 *  1. reads the due messages of every school with some, a bounded number per school, and serves
 *     the schools in turn (round-robin), so one school's big announcement does not hold back
 *     another school's absences; quiet hours hold non-urgent messages until morning;
 *  2. claims a chat's due messages atomically (findOneAndUpdate, lease `lockedUntil`, one token),
 *     joins them into one message, renders it from the journal as it is now;
 *  3. waits for the rate limiter (30/s per bot, 1/s per chat), writes `sending`, calls Telegram,
 *     writes `sent`.
 *
 * Exactly once, as far as Telegram allows. Telegram has no idempotency key and cannot be asked
 * what was delivered, so a crash between the call and the `sent` write leaves a message whose
 * fate is unknown. The states make the window explicit and small:
 *   - `claimed` (never attempted): after a crash it is sent again — nothing lost, nothing doubled;
 *   - `sending` (the call may have happened): after a crash it is recorded as sent
 *     (`uncertain: true`) and not sent again — at-most-once for this window. A duplicate "new mark 5"
 *     reads like a second mark; a lost one is still in the diary and the weekly digest. Urgent
 *     messages (school announcements) are the exception: resent, at-least-once.
 * The only loss left is a crash after `sending` was stored but before the request left the
 * process (one database round trip); the duplicate window (the whole Telegram call) is closed.
 *
 * Errors: 429 → wait `retry_after` (the chat, and the bot for up to 5 s) and retry; 5xx and
 * network errors → back to the queue with exponential backoff; 403 → the chat is blocked: its
 * queue is dropped, the account marked, the class teacher told once; other 4xx → failed.
 */

export interface DeliveryEvent {
  type: 'claimed' | 'sending' | 'sent' | 'cancelled' | 'retry' | 'failed' | 'blocked' | 'rateLimited' | 'recovered' | 'deferred';
  ids?: string[];
  chatId?: number;
  count?: number;
  messageId?: number;
}

export interface DeliveryOptions {
  db: Db;
  logger: Logger;
  i18n: i18n;
  defaultLocale: Locale;
  /** Bot token key → an Api for it (without auto-retry: this worker handles 429 and 5xx itself). */
  bots: Record<string, Api>;
  /** The clock for due times, quiet hours and leases (tests move it). Rate limiting uses real time. */
  now?: () => Date;
  limits?: Partial<RateLimits>;
  /** How long a claimed message is ours (default 60 s); longer than any Telegram call may take. */
  leaseMs?: number;
  /** The bot leadership lease (default 20 s): how soon another process takes over after a crash. */
  leaderLeaseMs?: number;
  /** Polling when idle (default 500 ms); writes in this process wake the worker at once. */
  pollMs?: number;
  /** Messages being prepared or sent at once (default 40). */
  maxInFlight?: number;
  /**
   * Messages being claimed and rendered at once (default 8). Few enough that they finish in the
   * order they were chosen (the database is not flooded), so the round-robin order holds.
   */
  maxPreparing?: number;
  /** Due messages read per school per refill (default 100). */
  perSchool?: number;
  /** Notices joined into one message (default 20; 1 = never join). */
  maxBatchItems?: number;
  /** Attempts before a message is given up (default 10). */
  maxAttempts?: number;
  /** Sees every step (metrics, tests). Must not throw. */
  observer?: (e: DeliveryEvent) => void;
  workerId?: string;
}

export class WorkerKilled extends Error {
  constructor() {
    super('delivery worker killed');
    this.name = 'WorkerKilled';
  }
}

interface Batch {
  botKey: string;
  chatId: number;
  schoolId: Types.ObjectId;
  candidates: Candidate[];
}

export interface DeliveryStats {
  messages: number;
  notices: number;
  cancelled: number;
  retried: number;
  failed: number;
  blocked: number;
  rateLimited: number;
  recoveredAsSent: number;
  requeued: number;
}

const MAX_429_RETRIES = 5;
const RECOVERY_EVERY_MS = 10_000;
/** Re-read the outbox at least this often (messages written by other processes). */
const REFILL_EVERY_MS = 5_000;
/** …and, when the buffer runs low, not more often than this. */
const REFILL_MIN_GAP_MS = 250;
const CACHE_MS = 60_000;

export class DeliveryWorker {
  readonly id: string;
  readonly stats: DeliveryStats = {
    messages: 0,
    notices: 0,
    cancelled: 0,
    retried: 0,
    failed: 0,
    blocked: 0,
    rateLimited: 0,
    recoveredAsSent: 0,
    requeued: 0,
  };
  private readonly db: Db;
  private readonly log: Logger;
  private readonly now: () => Date;
  private readonly limiters = new Map<string, BotRateLimiter>();
  private readonly leaseMs: number;
  private readonly leaderLeaseMs: number;
  private readonly pollMs: number;
  private readonly maxInFlight: number;
  private readonly maxPreparing: number;
  private preparing = 0;
  private readonly perSchool: number;
  private readonly maxBatchItems: number;
  private readonly maxAttempts: number;
  private readonly cache = new RenderCache(CACHE_MS);
  private readonly translators: Record<Locale, ReturnType<typeof translator>>;

  private leaderUntil = new Map<string, number>();
  private buffer = new Map<string, Map<string, Batch>>();
  private schoolOrder: string[] = [];
  private rr = 0;
  private readonly activeChats = new Set<string>();
  private readonly active = new Set<Promise<void>>();
  private lastRefill = 0;
  private lastRecovery = 0;
  private refilling: Promise<void> | undefined;
  private refilledOnce = false;
  /** Messages handed to senders while a read was running: not taken again from its result. */
  private takenDuringRefill: Set<string> | undefined;
  private recovering: Promise<void> | undefined;
  private refillWanted = true;
  private lastRefillFoundNothing = false;
  private running: Promise<void> | undefined;
  private stopping = false;
  private dead = false;
  private wakeUp: (() => void) | undefined;
  private unsubscribe: (() => void) | undefined;
  private readonly quietCache = new Map<string, { at: number; tz: string; quiet?: { from?: string | null; to?: string | null } | null }>();
  private readonly localeCache = new Map<number, { at: number; locale?: string }>();

  constructor(private readonly opts: DeliveryOptions) {
    this.db = opts.db;
    this.log = opts.logger.child({ component: 'delivery' });
    this.now = opts.now ?? (() => new Date());
    this.id = opts.workerId ?? `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
    this.leaseMs = opts.leaseMs ?? 60_000;
    this.leaderLeaseMs = opts.leaderLeaseMs ?? 20_000;
    this.pollMs = opts.pollMs ?? 500;
    this.maxInFlight = opts.maxInFlight ?? 40;
    this.maxPreparing = opts.maxPreparing ?? 8;
    this.perSchool = opts.perSchool ?? 100;
    this.maxBatchItems = opts.maxBatchItems ?? 20;
    this.maxAttempts = opts.maxAttempts ?? 10;
    const limits = { ...TELEGRAM_LIMITS, ...opts.limits };
    for (const key of Object.keys(opts.bots)) this.limiters.set(key, new BotRateLimiter(limits));
    this.translators = Object.fromEntries(LOCALES.map((l) => [l, translator(opts.i18n, l)])) as Record<
      Locale,
      ReturnType<typeof translator>
    >;
  }

  /** Starts the loop in the background. */
  start(): void {
    if (this.running || this.dead) return;
    this.stopping = false;
    this.unsubscribe = onOutboxWrite(this.db, () => this.nudge());
    this.running = this.loop(false).finally(() => {
      this.running = undefined;
    });
  }

  /**
   * Graceful: stops taking messages, lets the sends in flight finish and records them, puts
   * claimed-but-unsent messages back, and hands the bot leadership over at once. Safe twice.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake();
    for (const l of this.limiters.values()) l.pump();
    await this.running;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    if (!this.dead) await this.resign().catch((err: unknown) => this.log.warn({ err }, 'Could not hand over leadership'));
  }

  /**
   * Simulates a crash (tests, benchmark): from now on the worker writes nothing and sends
   * nothing; claims, `sending` states and the leadership lease stay as a dead process leaves them.
   */
  kill(): void {
    this.dead = true;
    this.unsubscribe?.();
    this.wake();
    for (const l of this.limiters.values()) l.pump();
  }

  /** Delivers everything due now and returns (tests, scripts). */
  async runUntilIdle(timeoutMs = 30_000): Promise<void> {
    if (this.running) throw new Error('the worker is already running');
    const timer = setTimeout(() => {
      this.stopping = true;
      this.wake();
    }, timeoutMs);
    try {
      this.stopping = false;
      this.refillWanted = true;
      this.refilledOnce = false;
      await this.loop(true);
    } finally {
      clearTimeout(timer);
      this.stopping = false;
    }
  }

  /** New messages were written: look now instead of at the next poll. */
  nudge(): void {
    this.refillWanted = true;
    this.wake();
  }

  private wake(): void {
    const w = this.wakeUp;
    this.wakeUp = undefined;
    w?.();
  }

  private guard(): void {
    if (this.dead) throw new WorkerKilled();
  }

  private emit(e: DeliveryEvent): void {
    try {
      this.opts.observer?.(e);
    } catch {
      // observers must not break delivery
    }
  }

  // ───────────────────────────── the loop ─────────────────────────────

  private async loop(untilIdle: boolean): Promise<void> {
    while (!this.stopping && !this.dead) {
      try {
        await this.maintain();
        this.startRefill();
        // Waiting for the first read only: later reads run beside the sending.
        if (!this.refilledOnce) await this.refilling;
        this.dispatch();
        if (
          untilIdle &&
          this.active.size === 0 &&
          this.bufferSize() === 0 &&
          !this.refilling &&
          !this.refillWanted &&
          !this.recovering &&
          this.lastRefillFoundNothing
        ) {
          break;
        }
        await this.sleep();
      } catch (err) {
        if (this.dead || err instanceof WorkerKilled) break;
        this.log.error({ err }, 'Delivery loop error; retrying');
        await new Promise((r) => setTimeout(r, this.pollMs));
      }
    }
    await Promise.allSettled([...this.active, this.refilling, this.recovering]);
  }

  /**
   * Reads the due messages again — in the background, so sending never waits for it: when asked
   * to (new messages in this process), when the buffer runs low, and every few seconds (messages
   * written by other processes). One read at a time.
   */
  private startRefill(): void {
    if (this.refilling || this.dead) return;
    const since = Date.now() - this.lastRefill;
    const low = this.bufferSize() < this.maxInFlight && since > REFILL_MIN_GAP_MS;
    if (!this.refillWanted && !low && since < REFILL_EVERY_MS) return;
    this.refilling = this.refill()
      .catch((err: unknown) => {
        if (!(err instanceof WorkerKilled)) this.log.error({ err }, 'Could not read the outbox');
      })
      .finally(() => {
        this.refilling = undefined;
        this.refilledOnce = true;
        this.wake();
      });
  }

  private sleep(): Promise<void> {
    let ms = this.pollMs;
    for (const batches of this.buffer.values()) {
      for (const b of batches.values()) {
        if (this.activeChats.has(chatKey(b.botKey, b.chatId))) continue;
        ms = Math.min(ms, Math.max(1, this.limiter(b.botKey).chatReadyIn(b.chatId)));
      }
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wakeUp = undefined;
        resolve();
      }, ms);
      this.wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** Started and not stopping. */
  get isRunning(): boolean {
    return this.running !== undefined && !this.stopping;
  }

  /** The rate limiter of a bot token: the bot's own answers share its budget (src/bot/shared-rate-limit.ts). */
  rateLimiter(botKey = 'default'): BotRateLimiter | undefined {
    return this.limiters.get(botKey);
  }

  private limiter(botKey: string): BotRateLimiter {
    const l = this.limiters.get(botKey);
    if (!l) throw new Error(`no rate limiter for bot ${botKey}`);
    return l;
  }

  private bufferSize(): number {
    let n = 0;
    for (const m of this.buffer.values()) n += m.size;
    return n;
  }

  /** The bots this worker leads right now. */
  private ledBots(): string[] {
    const now = this.now().getTime();
    return [...this.leaderUntil].filter(([, until]) => until > now).map(([k]) => k);
  }

  private isLeader(botKey: string): boolean {
    return (this.leaderUntil.get(botKey) ?? 0) > this.now().getTime();
  }

  /** Leadership per bot token, and recovery of what a dead worker left behind. */
  private async maintain(): Promise<void> {
    const now = this.now();
    let tookOver = false;
    for (const botKey of Object.keys(this.opts.bots)) {
      const until = this.leaderUntil.get(botKey) ?? 0;
      if (until - now.getTime() > this.leaderLeaseMs / 2) continue;
      this.guard();
      try {
        const doc = await this.db.models.DeliveryLeader.findOneAndUpdate(
          { _id: botKey, $or: [{ owner: this.id }, { until: { $lte: now } }] },
          { $set: { owner: this.id, until: new Date(now.getTime() + this.leaderLeaseMs) } },
          { upsert: true, returnDocument: 'after' },
        ).lean();
        if (doc?.owner === this.id) {
          if (until <= now.getTime()) {
            tookOver = true;
            this.log.debug({ botKey, worker: this.id }, 'Delivering for this bot');
          }
          this.leaderUntil.set(botKey, doc.until.getTime());
        }
      } catch (e) {
        if ((e as { code?: number }).code !== 11000) throw e;
        this.leaderUntil.delete(botKey); // another process sends for this bot
      }
    }
    if (this.recovering || (!tookOver && Date.now() - this.lastRecovery < RECOVERY_EVERY_MS)) return;
    this.lastRecovery = Date.now();
    const bots = this.ledBots();
    if (bots.length === 0) return;
    this.guard();
    this.recovering = this.recover(bots, now)
      .catch((err: unknown) => {
        if (!(err instanceof WorkerKilled)) this.log.error({ err }, 'Recovery failed; will retry');
      })
      .finally(() => {
        this.recovering = undefined;
        this.wake();
      });
    // Taking over: what the last leader left is put right before anything new is sent.
    if (tookOver) await this.recovering;
  }

  private async recover(bots: string[], now: Date): Promise<void> {
    const r = await recoverExpired(this.db, bots, now, this.id);
    if (r.requeued + r.assumedSent + r.resent > 0) {
      this.stats.recoveredAsSent += r.assumedSent;
      this.stats.requeued += r.requeued + r.resent;
      this.refillWanted = true;
      this.log.warn({ ...r }, 'Recovered messages left by a stopped worker');
      this.emit({ type: 'recovered', count: r.requeued + r.assumedSent + r.resent });
    }
  }

  private async resign(): Promise<void> {
    const bots = [...this.leaderUntil.keys()];
    this.leaderUntil.clear();
    if (bots.length === 0) return;
    await this.db.models.DeliveryLeader.updateMany(
      { _id: { $in: bots }, owner: this.id },
      { $set: { until: new Date(0) } },
    );
  }

  private async schoolQuiet(schoolId: Types.ObjectId) {
    const key = String(schoolId);
    const hit = this.quietCache.get(key);
    if (hit && Date.now() - hit.at < CACHE_MS) return hit;
    const s = await this.db.models.School.findById(schoolId, { timezone: 1, 'settings.quietHours': 1 }).lean();
    const entry = { at: Date.now(), tz: s?.timezone ?? 'UTC', quiet: s?.settings?.quietHours };
    this.quietCache.set(key, entry);
    return entry;
  }

  /** Reads the due messages, a bounded number per school, grouped by chat. */
  private async refill(): Promise<void> {
    this.refillWanted = false;
    this.lastRefill = Date.now();
    const taken = new Set<string>();
    this.takenDuringRefill = taken;
    const bots = this.ledBots();
    if (bots.length === 0) {
      this.buffer.clear();
      this.lastRefillFoundNothing = true;
      return;
    }
    const now = this.now();
    this.guard();
    const schools = await dueSchools(this.db, bots, now);
    const next = new Map<string, Map<string, Batch>>();
    for (const schoolId of schools) {
      this.guard();
      const due = await dueOf(this.db, bots, schoolId, now, this.perSchool);
      const quiet = await this.schoolQuiet(schoolId);
      const until = quietUntil(now, quiet.tz, quiet.quiet);
      const hold: Types.ObjectId[] = [];
      const chats = new Map<string, Batch>();
      for (const c of due) {
        if (until && c.priority !== 'urgent') {
          hold.push(c._id);
          continue;
        }
        const botKey = c.botKey ?? 'default';
        const key = chatKey(botKey, c.chatId);
        const batch = chats.get(key) ?? { botKey, chatId: c.chatId, schoolId, candidates: [] };
        batch.candidates.push(c);
        chats.set(key, batch);
      }
      if (hold.length > 0 && until) {
        this.guard();
        await defer(this.db, hold, until);
        this.emit({ type: 'deferred', count: hold.length });
      }
      if (chats.size > 0) next.set(String(schoolId), chats);
    }
    // What was handed to senders while this read ran is not in the new buffer.
    for (const [school, chats] of next) {
      for (const [k, b] of chats) {
        b.candidates = b.candidates.filter((c) => !taken.has(String(c._id)));
        if (b.candidates.length === 0) chats.delete(k);
      }
      if (chats.size === 0) next.delete(school);
    }
    this.takenDuringRefill = undefined;
    this.buffer = next;
    // Keep the turn order stable across refills, new schools at the end.
    const order = this.schoolOrder.filter((s) => next.has(s));
    for (const s of next.keys()) if (!order.includes(s)) order.push(s);
    this.schoolOrder = order;
    this.lastRefillFoundNothing = next.size === 0;
  }

  /** Starts batches, schools in turn, while there is room and a chat is ready. */
  private dispatch(): void {
    while (this.active.size < this.maxInFlight && this.preparing < this.maxPreparing && !this.stopping && !this.dead) {
      const batch = this.nextBatch();
      if (!batch) return;
      const key = chatKey(batch.botKey, batch.chatId);
      this.activeChats.add(key);
      // The place in line is taken now, in round-robin order: slots are handed out in this order.
      const limiter = this.limiter(batch.botKey);
      const ticket = limiter.enqueue(batch.chatId, () => this.stopping || this.dead || !this.isLeader(batch.botKey));
      this.preparing++;
      const prepared = { done: false };
      const donePreparing = () => {
        if (prepared.done) return;
        prepared.done = true;
        this.preparing--;
        this.wake();
      };
      const task: Promise<void> = this.deliver(batch, ticket, donePreparing)
        .catch((err: unknown) => {
          if (!(err instanceof WorkerKilled)) this.log.error({ err, chatId: batch.chatId }, 'Delivery failed');
        })
        .finally(() => {
          donePreparing();
          limiter.leave(ticket);
          this.activeChats.delete(key);
          this.active.delete(task);
          this.wake();
        });
      this.active.add(task);
    }
  }

  private nextBatch(): Batch | undefined {
    const n = this.schoolOrder.length;
    for (let i = 0; i < n; i++) {
      const idx = (this.rr + i) % n;
      const schoolId = this.schoolOrder[idx] as string;
      const chats = this.buffer.get(schoolId);
      if (!chats) continue;
      for (const [key, b] of chats) {
        if (this.activeChats.has(key) || !this.isLeader(b.botKey)) continue;
        if (this.limiter(b.botKey).chatReadyIn(b.chatId) > 0) continue;
        const first = b.candidates[0];
        if (!first) {
          chats.delete(key);
          continue;
        }
        // Joinable notices of a chat go together; anything else goes alone.
        const take = JOINABLE.has(first.kind)
          ? b.candidates.filter((c) => JOINABLE.has(c.kind)).slice(0, this.maxBatchItems)
          : [first];
        const taken = new Set(take.map((c) => String(c._id)));
        for (const id of taken) this.takenDuringRefill?.add(id);
        b.candidates = b.candidates.filter((c) => !taken.has(String(c._id)));
        if (b.candidates.length === 0) chats.delete(key);
        if (chats.size === 0) this.buffer.delete(schoolId);
        this.rr = (idx + 1) % n;
        return { ...b, candidates: take };
      }
    }
    return undefined;
  }

  // ───────────────────────────── one message ─────────────────────────────

  private async deliver(batch: Batch, ticket: Ticket, donePreparing: () => void): Promise<void> {
    const { db } = this;
    const token = new Types.ObjectId().toHexString();
    const docs: OutboxDoc[] = [];
    for (const c of batch.candidates) {
      this.guard();
      const doc = await claim(db, c._id, { worker: this.id, token, now: this.now(), leaseMs: this.leaseMs });
      if (doc) docs.push(doc);
    }
    if (docs.length === 0) return;
    this.emit({ type: 'claimed', ids: docs.map((d) => String(d._id)), chatId: batch.chatId });

    const locale = await this.localeOf(batch.chatId, docs[0] as OutboxDoc);
    const rendered = await renderMessage({
      db,
      t: this.translators[locale],
      locale,
      now: this.now(),
      token,
      docs,
      cache: this.cache,
    });
    this.guard();
    if (rendered.overflow.length > 0) {
      await unclaim(db, rendered.overflow, token);
      this.refillWanted = true;
    }
    if (rendered.skipped.length > 0) {
      await cancel(db, rendered.skipped, token, 'nothing new to say');
      this.stats.cancelled += rendered.skipped.length;
      this.emit({ type: 'cancelled', ids: rendered.skipped.map(String), chatId: batch.chatId });
    }
    const items = rendered.items;
    const ids = items.map((i) => i.id);
    if (items.length === 0) return;

    const limiter = this.limiter(batch.botKey);
    donePreparing();
    let release = await limiter.wait(ticket);
    if (!release) {
      this.guard();
      await unclaim(db, ids, token);
      return;
    }
    try {
      this.guard();
      const marked = await markSending(db, items, token, this.now(), this.leaseMs);
      if (marked !== items.length) {
        // Someone took these messages from us (we lost the lease): send nothing, change nothing of theirs.
        this.log.warn({ chatId: batch.chatId, expected: items.length, marked }, 'Lost the claim before sending');
        await retryLater(db, ids, token, { retryAt: this.now(), error: 'lost claim', giveUp: false });
        return;
      }
      this.emit({ type: 'sending', ids: ids.map(String), chatId: batch.chatId });
      const api = this.opts.bots[batch.botKey] as Api;
      for (let attempt = 0; ; attempt++) {
        this.guard();
        let message: Message;
        try {
          message = await this.send(api, batch.chatId, rendered);
        } catch (e) {
          release();
          release = undefined;
          this.guard();
          const retry = await this.handleError(e, batch, docs, ids, token, attempt);
          if (!retry) return;
          release = await limiter.acquire(batch.chatId, () => this.stopping || this.dead);
          if (!release) {
            // Stopping while waiting out a 429: the message was not sent; back to the queue.
            await retryLater(db, ids, token, { retryAt: this.now(), error: '429 pending at shutdown', giveUp: false });
            return;
          }
          continue;
        }
        release();
        release = undefined;
        this.guard();
        await markSent(db, items, token, { now: this.now(), messageId: message.message_id });
        this.stats.messages++;
        this.stats.notices += items.length;
        this.emit({ type: 'sent', ids: ids.map(String), chatId: batch.chatId, messageId: message.message_id });
        await this.deleteIfRecalled(api, batch.chatId, docs, ids, message.message_id);
        return;
      }
    } finally {
      release?.();
    }
  }

  /**
   * A private message its sender recalled while this worker held it (R3): the recall flagged the
   * copy before reading which copies were sent, and this reads the flag after recording the copy
   * as sent — so one of the two always deletes it. Thread messages go alone (never joined).
   */
  private async deleteIfRecalled(api: Api, chatId: number, docs: OutboxDoc[], ids: Types.ObjectId[], messageId: number): Promise<void> {
    const threadCopy = docs.some((d) => d.kind === 'message' && typeof (d.payload as { threadMessageId?: unknown } | undefined)?.threadMessageId === 'string');
    if (!threadCopy) return;
    const recalled = await this.db.models.OutboxMessage.exists({ _id: { $in: ids }, recallRequested: true });
    if (!recalled) return;
    await api.deleteMessage(chatId, messageId).catch((e: unknown) => {
      this.log.warn({ chatId, err: e instanceof Error ? e.message : String(e) }, 'Could not delete a recalled message');
    });
  }

  private send(api: Api, chatId: number, r: Awaited<ReturnType<typeof renderMessage>>): Promise<Message> {
    const common = {
      parse_mode: 'HTML' as const,
      reply_markup: r.replyMarkup,
      disable_notification: r.disableNotification || undefined,
    };
    if (r.photo) return api.sendPhoto(chatId, r.photo, { ...common, caption: r.text.slice(0, 1024) });
    if (r.document) return api.sendDocument(chatId, r.document, { ...common, caption: r.text.slice(0, 1024) });
    if (r.voice) return api.sendVoice(chatId, r.voice, { ...common, caption: r.text.slice(0, 1024) });
    return api.sendMessage(chatId, r.text, { ...common, link_preview_options: { is_disabled: true } });
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
    const { db } = this;
    const now = this.now();
    const attempts = Math.max(...docs.map((d) => d.attempts ?? 1));
    const backoff = (n: number) => new Date(now.getTime() + Math.min(600_000, 1000 * 2 ** Math.max(0, n - 1)));
    if (e instanceof GrammyError) {
      if (e.error_code === 429) {
        const seconds = Math.max(1, e.parameters.retry_after ?? 1);
        const limiter = this.limiter(batch.botKey);
        limiter.pauseChat(batch.chatId, seconds * 1000);
        // The answer does not say whether the chat or the whole bot is over the limit: pause both,
        // the bot for at most 5 s, so one flooded chat does not hold every school.
        limiter.pauseAll(Math.min(seconds, 5) * 1000);
        this.stats.rateLimited++;
        this.emit({ type: 'rateLimited', chatId: batch.chatId });
        this.log.warn({ chatId: batch.chatId, retryAfter: seconds }, 'Telegram rate limit (429)');
        if (attempt < MAX_429_RETRIES) return true;
        await retryLater(db, ids, token, { retryAt: new Date(now.getTime() + seconds * 1000), error: '429', giveUp: false });
        return false;
      }
      if (e.error_code === 403) {
        await fail(db, ids, token, 'dropped', '403 blocked');
        await dropChat(db, batch.chatId, batch.botKey, '403 blocked');
        const changed = await markChatBlocked(db, batch.chatId, now);
        this.stats.blocked++;
        this.emit({ type: 'blocked', chatId: batch.chatId, ids: ids.map(String) });
        this.log.info({ chatId: batch.chatId, schoolId: String(batch.schoolId), changed }, 'Chat blocked the bot; stopped sending to it');
        return false;
      }
      if (e.error_code >= 500) {
        const giveUp = attempts >= this.maxAttempts;
        await retryLater(db, ids, token, { retryAt: backoff(attempts), error: `${e.error_code}`, giveUp });
        this.stats[giveUp ? 'failed' : 'retried']++;
        this.emit({ type: giveUp ? 'failed' : 'retry', chatId: batch.chatId, ids: ids.map(String) });
        this.log.warn({ chatId: batch.chatId, code: e.error_code, attempts }, 'Telegram server error; will retry');
        return false;
      }
      // 400 and the like: the same request will fail again (a bug or a chat that does not exist).
      await fail(db, ids, token, 'failed', `${e.error_code} ${e.description}`.slice(0, 200));
      this.stats.failed++;
      this.emit({ type: 'failed', chatId: batch.chatId, ids: ids.map(String) });
      this.log.error({ chatId: batch.chatId, code: e.error_code, description: e.description }, 'Message refused by Telegram');
      return false;
    }
    // Network: the request may not have reached Telegram; retried (at-least-once for this case).
    const giveUp = attempts >= this.maxAttempts;
    await retryLater(db, ids, token, {
      retryAt: backoff(attempts),
      error: e instanceof HttpError ? 'network' : String((e as Error)?.message ?? e).slice(0, 200),
      giveUp,
    });
    this.stats[giveUp ? 'failed' : 'retried']++;
    this.emit({ type: giveUp ? 'failed' : 'retry', chatId: batch.chatId, ids: ids.map(String) });
    this.log.warn({ chatId: batch.chatId, attempts, err: e instanceof HttpError ? e.message : e }, 'Could not reach Telegram; will retry');
    return false;
  }

  private async localeOf(chatId: number, doc: OutboxDoc): Promise<Locale> {
    const hit = this.localeCache.get(chatId);
    let chosen: string | undefined;
    if (hit && Date.now() - hit.at < CACHE_MS) chosen = hit.locale;
    else {
      const account = await this.db.models.Account.findOne({ telegramId: chatId }, { locale: 1 }).lean();
      chosen = account?.locale ?? undefined;
      this.localeCache.set(chatId, { at: Date.now(), locale: chosen });
    }
    if (!chosen) chosen = (await this.cache.school(this.db, doc.schoolId))?.locale ?? undefined;
    return (LOCALES as readonly string[]).includes(chosen ?? '') ? (chosen as Locale) : this.opts.defaultLocale;
  }
}

const chatKey = (botKey: string, chatId: number) => `${botKey}|${chatId}`;
