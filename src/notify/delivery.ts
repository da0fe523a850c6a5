import { failureLog } from '../db/outage-log.js';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { Db } from '../db/index.js';
import type { Logger } from '../logger.js';
import { onOutboxWrite } from '../domain/notices/outbox.js';
import { type DueBuffer, DueReader, takeTogether } from './delivery/due.js';
import { Leadership } from './delivery/leadership.js';
import { MessageSender } from './delivery/send-one.js';
import {
  type Batch,
  chatKey,
  type DeliveryEvent,
  type DeliveryOptions,
  type DeliveryStats,
  RECOVERY_EVERY_MS,
  REFILL_EVERY_MS,
  REFILL_MIN_GAP_MS,
  WorkerKilled,
} from './delivery/types.js';
import { recoverExpired } from './outbox-worker.js';
import { BotRateLimiter, TELEGRAM_LIMITS } from './rate-limit.js';
import { budgetOf, SharedBudget } from './shared-budget.js';

export { type DeliveryEvent, type DeliveryOptions, type DeliveryStats, WorkerKilled } from './delivery/types.js';

/**
 * The delivery worker: one loop per process, supervised by the app (start/stop), not one job per
 * message. For each bot token it serves it must hold the bot's leadership lease (one sender per
 * token: the rate limits are per token); then it
 *
 *  1. reads the due messages of every school, a bounded number per school, round-robin (one school's
 *     announcement does not hold back another's absences); quiet hours hold non-urgent ones;
 *  2. claims a chat's due messages atomically (lease `lockedUntil`, one token), joins and renders them;
 *  3. waits for the rate limiter (30/s per bot, 1/s per chat), writes `sending`, calls Telegram, `sent`.
 *
 * At least once, and exactly once whenever the outcome is known. Telegram has no idempotency key
 * and cannot be asked what was delivered, so a crash during the call leaves a message whose fate
 * is unknown. The states make the window explicit and small:
 *   - `claimed` (never attempted): after a crash it is sent again — nothing lost, nothing doubled;
 *   - `sending` (written right before the one HTTP request; a 429 puts it back to `claimed` while
 *     it waits): after a crash it is sent again with a line marking it as a possible repeat, in
 *     the recipient's language, under the same button token. Nothing is lost; a repeat is visible.
 *   - `sent` (Telegram answered ok) or a definite refusal (4xx) is never sent again: 0 silent
 *     duplicates. 5xx and network errors are uncertain too: retried as possible repeats.
 *
 * Errors: 429 → wait `retry_after` (the chat, and the bot for up to 5 s) and retry; 5xx and
 * network errors → back to the queue with exponential backoff; 403 → the chat is blocked: its
 * queue is dropped, the account marked, the class teacher told once; other 4xx → failed.
 */

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
    resentUncertain: 0,
    requeued: 0,
    repeats: 0,
  };
  private readonly db: Db;
  private readonly log: Logger;
  /** One warning per database outage, not an error per poll (issue 12). */
  private readonly failures: ReturnType<typeof failureLog>;
  private readonly now: () => Date;
  private readonly limiters = new Map<string, BotRateLimiter>();
  /** The tokens' budgets shared with the other processes (undefined: `sharedBudget: false`). */
  readonly budget: SharedBudget | undefined;
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private readonly maxInFlight: number;
  private readonly maxPreparing: number;
  private preparing = 0;
  private readonly maxBatchItems: number;
  private readonly leadership: Leadership;
  private readonly sender: MessageSender;
  private readonly due: DueReader;

  private buffer: DueBuffer = new Map();
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

  constructor(private readonly opts: DeliveryOptions) {
    this.db = opts.db;
    this.log = opts.logger.child({ component: 'delivery' });
    const ping = () => this.db.conn.db?.command({ ping: 1 }, { timeoutMS: 2_000 }) ?? Promise.reject(new Error('not connected'));
    this.failures = failureLog(this.log, ping, { what: 'Notification delivery', waiting: 'notifications wait in the outbox until it is back' });
    this.now = opts.now ?? (() => new Date());
    this.id = opts.workerId ?? `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
    this.leaseMs = opts.leaseMs ?? 60_000;
    this.leadership = new Leadership(this.db, this.id, opts.leaderLeaseMs ?? 20_000, this.log);
    this.pollMs = opts.pollMs ?? 500;
    this.maxInFlight = opts.maxInFlight ?? 40;
    this.maxPreparing = opts.maxPreparing ?? 8;
    this.due = new DueReader(this.db, opts.perSchool ?? 100, () => this.guard(), (e) => this.emit(e));
    this.maxBatchItems = opts.maxBatchItems ?? 20;
    const limits = { ...TELEGRAM_LIMITS, ...opts.limits };
    // The token's 30 a second hold across processes: each limiter also takes a slot of the shared budget.
    this.budget = opts.sharedBudget === false ? undefined : new SharedBudget(this.db, { ...budgetOf(limits), ...opts.sharedBudget }, (err) => this.failures.failed(err, 'Could not give a rate slot back', 'warn'));
    for (const key of Object.keys(opts.bots)) this.limiters.set(key, new BotRateLimiter(limits).sharing(this.budget, key));
    this.sender = new MessageSender({
      db: this.db,
      log: this.log,
      now: this.now,
      workerId: this.id,
      leaseMs: this.leaseMs,
      maxAttempts: opts.maxAttempts ?? 10,
      bots: opts.bots,
      i18n: opts.i18n,
      defaultLocale: opts.defaultLocale,
      stats: this.stats,
      limiter: (botKey) => this.limiter(botKey),
      guard: () => this.guard(),
      emit: (e) => this.emit(e),
      halted: () => this.stopping || this.dead,
      wantRefill: () => {
        this.refillWanted = true;
      },
    });
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
    if (!this.dead) await this.leadership.resign().catch((err: unknown) => this.log.warn({ err }, 'Could not hand over leadership'));
    this.failures.stop();
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
    // A message written while it runs (a blocked chat's notice to its teacher) is read before it stops.
    const off = onOutboxWrite(this.db, () => this.nudge());
    try {
      this.stopping = false;
      this.refillWanted = true;
      this.refilledOnce = false;
      await this.loop(true);
    } finally {
      off();
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
        this.failures.failed(err, 'Delivery loop error; retrying');
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
        if (!(err instanceof WorkerKilled)) this.failures.failed(err, 'Could not read the outbox');
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
    return this.leadership.led(this.now().getTime());
  }

  private isLeader(botKey: string): boolean {
    return this.leadership.leads(botKey, this.now().getTime());
  }

  /** Leadership per bot token, and recovery of what a dead worker left behind. */
  private async maintain(): Promise<void> {
    const now = this.now();
    const tookOver = await this.leadership.renew(Object.keys(this.opts.bots), now, () => this.guard());
    if (this.recovering || (!tookOver && Date.now() - this.lastRecovery < RECOVERY_EVERY_MS)) return;
    this.lastRecovery = Date.now();
    const bots = this.ledBots();
    if (bots.length === 0) return;
    this.guard();
    this.recovering = this.recover(bots, now)
      .catch((err: unknown) => {
        if (!(err instanceof WorkerKilled)) this.failures.failed(err, 'Recovery failed; will retry');
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
    if (r.requeued + r.resent > 0) {
      this.stats.resentUncertain += r.resent;
      this.stats.requeued += r.requeued;
      this.refillWanted = true;
      this.log.warn({ ...r }, 'Recovered messages left by a stopped worker');
      this.emit({ type: 'recovered', count: r.requeued + r.resent });
    }
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
    const next = await this.due.read(bots, this.now());
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
      const task: Promise<void> = this.sender.deliver(batch, ticket, donePreparing)
        .catch((err: unknown) => {
          if (!(err instanceof WorkerKilled)) this.failures.failed(err, 'Delivery failed');
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
        const take = takeTogether(first, b.candidates, this.maxBatchItems);
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
}
