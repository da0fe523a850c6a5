import { performance } from 'node:perf_hooks';

/**
 * Telegram's limits for one bot token: about 30 messages a second overall and 1 a second into
 * one chat. One limiter per bot token (a deployment may serve several, each with its own budget).
 *
 * It is a token bucket of depth 1 per slot rather than one of depth 30: Telegram (and the fake
 * in the tests) counts messages over a rolling second, so a full bucket spent at once and
 * refilled at 30/s would put 31 messages into one second. Instead each of the 30 slots is held
 * from the moment a request starts until `window + margin` after its answer arrived; answers are
 * seen after Telegram counted the message, so no rolling second ever holds more than 30.
 * The same rule with one slot per chat gives 1 message a second per chat.
 */
export interface RateLimits {
  /** Messages per rolling window over all chats (Telegram: 30 per second). */
  perWindow: number;
  windowMs: number;
  /** Minimum gap between two messages into one chat (Telegram: 1 s). */
  perChatGapMs: number;
  /** Safety added to every window (timer and clock jitter). */
  marginMs: number;
}

export const TELEGRAM_LIMITS: RateLimits = { perWindow: 30, windowMs: 1000, perChatGapMs: 1000, marginMs: 5 };

interface ChatState {
  busy: boolean;
  lastDone: number;
  pausedUntil: number;
}

export type Release = () => void;

/** A slot of the token's budget shared by every process (src/notify/shared-budget.ts). */
export type SharedTake = (kind: 'reply' | 'notice', halted: () => boolean, chatId?: number) => Promise<Release | undefined>;

/** A place in line for one message (taken in fair order when the message is chosen). */
export interface Ticket {
  readonly chatId: number;
  readonly cancelled: () => boolean;
  readonly since: number;
  waiting: boolean;
  done: boolean;
  /** An answer to someone using the bot: goes before the queued broadcasts, needs only the overall budget. */
  priority?: boolean;
  resolve?: (release: Release | undefined) => void;
}

/**
 * How long the line waits for a message still being prepared (rendered) before letting the
 * ones behind it go first. Rendering takes milliseconds; the wait keeps the order fair.
 */
export const HOLD_MS = 500;

export class BotRateLimiter {
  private inFlight = 0;
  /** Times the recent answers arrived, oldest first. */
  private done: number[] = [];
  private pausedUntil = 0;
  private readonly chats = new Map<number, ChatState>();
  private lastPrune = 0;
  /** Messages in the order they were chosen (round-robin across schools): slots go in this order. */
  private line: Ticket[] = [];
  private timer: NodeJS.Timeout | undefined;
  private shared: SharedTake | undefined;

  constructor(
    readonly limits: RateLimits = TELEGRAM_LIMITS,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  private prune(now: number): void {
    const horizon = now - this.limits.windowMs - this.limits.marginMs;
    while (this.done.length > 0 && (this.done[0] as number) <= horizon) this.done.shift();
    if (now - this.lastPrune > 5_000) {
      this.lastPrune = now;
      for (const [id, c] of this.chats) {
        if (!c.busy && c.pausedUntil <= now && now - c.lastDone > this.limits.perChatGapMs * 2) this.chats.delete(id);
      }
    }
  }

  /** ms until this chat may get its next message (ignoring the overall budget). */
  chatReadyIn(chatId: number): number {
    const c = this.chats.get(chatId);
    if (!c) return 0;
    if (c.busy) return this.limits.perChatGapMs;
    const now = this.clock();
    return Math.max(0, c.lastDone + this.limits.perChatGapMs + this.limits.marginMs - now, c.pausedUntil - now);
  }

  /** ms until the bot's overall budget has room. */
  private globalWait(now: number): number {
    this.prune(now);
    let wait = Math.max(0, this.pausedUntil - now);
    if (this.inFlight + this.done.length >= this.limits.perWindow) {
      const oldest = this.done[0];
      const freeAt = oldest !== undefined ? oldest + this.limits.windowMs + this.limits.marginMs : now + 5;
      wait = Math.max(wait, freeAt - now, 1);
    }
    return wait;
  }

  /** ms until a message into this chat may start (0: now). */
  waitFor(chatId: number): number {
    return Math.ceil(Math.max(this.chatReadyIn(chatId), this.globalWait(this.clock())));
  }

  /** Takes a slot now (whatever the line). Call the release when the answer (or an error) arrived. */
  take(chatId: number): Release {
    const c = this.chats.get(chatId) ?? { busy: false, lastDone: Number.NEGATIVE_INFINITY, pausedUntil: 0 };
    c.busy = true;
    this.chats.set(chatId, c);
    this.inFlight++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const now = this.clock();
      this.inFlight--;
      this.done.push(now);
      c.busy = false;
      c.lastDone = now;
      this.pump();
    };
  }

  /** Joins the line: call when the message is chosen, before preparing it. */
  enqueue(chatId: number, cancelled: () => boolean = () => false): Ticket {
    const ticket: Ticket = { chatId, cancelled, since: this.clock(), waiting: false, done: false };
    this.line.push(ticket);
    return ticket;
  }

  /** The message is ready: waits for its turn and a slot. Undefined when cancelled (nothing taken). */
  wait(ticket: Ticket): Promise<Release | undefined> {
    if (ticket.done) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      ticket.waiting = true;
      ticket.resolve = resolve;
      this.pump();
    });
  }

  /** Leaves the line without sending. Safe to call for a ticket already served. */
  leave(ticket: Ticket): void {
    if (ticket.done) return;
    ticket.done = true;
    this.line = this.line.filter((x) => x !== ticket);
    ticket.resolve?.(undefined);
    this.pump();
  }

  /**
   * A slot for the bot's answer to someone using it (a reply, an edited screen): ahead of every
   * queued broadcast message, and without the 1-a-second gap per chat (a conversation may get
   * two quick answers), but within the overall budget, so broadcasts and answers together never
   * exceed it.
   */
  acquireForReply(chatId: number, opts: { shared?: boolean } = {}): Promise<Release | undefined> {
    const ticket: Ticket = { chatId, cancelled: () => false, since: this.clock(), waiting: true, done: false, priority: true };
    const firstOrdinary = this.line.findIndex((t) => !t.priority);
    if (firstOrdinary < 0) this.line.push(ticket);
    else this.line.splice(firstOrdinary, 0, ticket);
    const local = new Promise<Release | undefined>((resolve) => {
      ticket.resolve = resolve;
      this.pump();
    });
    return this.shared && opts.shared !== false ? local.then((r) => this.alsoShared(r, 'reply', () => false, chatId)) : local;
  }

  /** Every process's messages count against one budget (shared-budget.ts): slots of it for this token. */
  sharing(
    budget: { take(botKey: string, kind: 'reply' | 'notice', halted: () => boolean, chatId?: number): Promise<Release | undefined> } | undefined,
    botKey: string,
  ): this {
    this.shared = budget ? (kind, halted, chatId) => budget.take(botKey, kind, halted, chatId) : undefined;
    return this;
  }

  /**
   * With this process's slot in hand, a slot of the token's shared budget too (the same rule
   * across processes). Undefined, with the local slot given back, when `halted` first. Should the
   * database fail, this process's own limit still holds: the message goes with the local slot.
   */
  async alsoShared(local: Release | undefined, kind: 'reply' | 'notice', halted: () => boolean, chatId?: number): Promise<Release | undefined> {
    if (!local || !this.shared) return local;
    let shared: Release | undefined;
    try {
      shared = await this.shared(kind, halted, chatId);
    } catch {
      return local;
    }
    if (!shared) {
      local();
      return undefined;
    }
    return () => {
      shared();
      local();
    };
  }

  /** A shortcut for a ticket that goes to the end of the line and waits (retries). */
  acquire(chatId: number, cancelled: () => boolean = () => false): Promise<Release | undefined> {
    return this.wait(this.enqueue(chatId, cancelled));
  }

  /**
   * Hands out slots in line order: the first in line gets the next free slot; someone behind may
   * go first only when the one ahead waits for its own chat (not for the overall budget), or has
   * been preparing for longer than HOLD_MS.
   */
  pump(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const now = this.clock();
    let next = Number.POSITIVE_INFINITY;
    for (let i = 0; i < this.line.length; i++) {
      const t = this.line[i] as Ticket;
      if (t.cancelled()) {
        t.done = true;
        this.line.splice(i--, 1);
        t.resolve?.(undefined);
        continue;
      }
      if (!t.waiting) {
        const held = now - t.since;
        if (held < HOLD_MS) {
          next = Math.min(next, HOLD_MS - held);
          break;
        }
        continue;
      }
      const global = this.globalWait(now);
      const chat = t.priority ? 0 : this.chatReadyIn(t.chatId);
      if (global === 0 && chat === 0) {
        t.done = true;
        this.line.splice(i--, 1);
        t.resolve?.(this.take(t.chatId));
        continue;
      }
      next = Math.min(next, Math.max(global, chat));
      if (global > 0) break;
    }
    if (this.line.length > 0) {
      const ms = Number.isFinite(next) ? Math.max(1, Math.ceil(next)) : HOLD_MS;
      this.timer = setTimeout(() => this.pump(), Math.min(ms, 250));
    }
  }

  /** 429 for this chat: nothing goes there for `ms`. */
  pauseChat(chatId: number, ms: number): void {
    const c = this.chats.get(chatId) ?? { busy: false, lastDone: Number.NEGATIVE_INFINITY, pausedUntil: 0 };
    c.pausedUntil = Math.max(c.pausedUntil, this.clock() + ms);
    this.chats.set(chatId, c);
  }

  /** 429 for the whole bot: nothing goes anywhere for `ms`. */
  pauseAll(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.clock() + ms);
  }
}
