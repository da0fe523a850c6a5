import { randomBytes } from 'node:crypto';
import type { Db } from '../db/index.js';

/**
 * A bot token's 30 messages a second, shared by every process that uses the token (issue 12):
 * the budget lives in MongoDB, not in a process's memory, so any number of processes behind a
 * load balancer stay within Telegram's limit together.
 *
 * The budget is `slots` documents per token (`rate_slots`), each a place for one message in flight,
 * with the same rule as the in-process limiter (rate-limit.ts): a slot is held from the moment a
 * request starts until `window + margin` after its answer arrived (Telegram counts a message
 * between the two), so no rolling second ever holds more than `slots` messages from all processes.
 * Taking a slot is one atomic findOneAndUpdate (`freeAt <= now` → held); giving it back is one
 * update fenced by the holder's random id. A process that dies holding one loses it for `holdMs`.
 *
 * Answers to people first: the first `replyShare` slots are reserved for answers for `quietMs`
 * after an answer used (or waited for) one; while nobody is answered the queued notices may use
 * every slot. An answer takes the reserved slots first, a notice the others first, and a notice
 * that finds nothing free waits a little longer than an answer does, so a freed slot goes to the answer.
 *
 * One a second per chat, across processes: a slot records the chat (and kind) of its message, and
 * keeps them while held and for the window after the answer. Having taken a slot, a notice that
 * finds another slot with its chat (an answer to that person from any process) gives its own back
 * unused and waits until that one is free; an answer does the same only for a notice to its chat
 * (a conversation may get two quick answers). Cost: one read per message.
 *
 * Clocks: `freeAt` is each process's wall clock, so processes on several machines need synchronised
 * clocks (NTP keeps them within a few ms; `marginMs` covers that).
 */
export interface SharedBudgetOptions {
  slots: number;
  windowMs: number;
  marginMs: number;
  /** Slots kept for answers while people are being answered. */
  replyShare: number;
  /** How long after the last answer the reserved slots stay reserved. */
  quietMs: number;
  /** A slot whose holder never gave it back (a crash) is free again after this long. */
  holdMs: number;
}

export const SHARED_BUDGET: SharedBudgetOptions = {
  slots: 30,
  windowMs: 1000,
  marginMs: 5,
  replyShare: 2,
  quietMs: 5_000,
  holdMs: 35_000,
};

/** The shared budget for the in-process limits (the same window, slots and margin). */
export const budgetOf = (l: { perWindow: number; windowMs: number; marginMs: number }): Partial<SharedBudgetOptions> => ({
  slots: l.perWindow,
  windowMs: l.windowMs,
  marginMs: l.marginMs,
});

export type SlotKind = 'reply' | 'notice';
export type Release = () => void;

/** How much longer a notice waits than an answer before trying again for a freed slot. */
const NOTICE_LAG_MS = 15;
const MAX_WAIT_MS = 250;

export class SharedBudget {
  readonly opts: SharedBudgetOptions;
  private readonly ready = new Map<string, Promise<void>>();
  /** Round trips to the database, for the benchmarks (take, give back, look up, reserve, the chat's check). */
  readonly roundTrips = { take: 0, release: 0, wait: 0, chat: 0 };

  constructor(
    private readonly db: Db,
    opts: Partial<SharedBudgetOptions> = {},
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {
    this.opts = { ...SHARED_BUDGET, ...opts };
  }

  /** The token's slot documents exist (created once, by whichever process comes first). */
  private ensure(botKey: string): Promise<void> {
    let p = this.ready.get(botKey);
    if (!p) {
      p = this.db.models.RateSlot.bulkWrite(
        Array.from({ length: this.opts.slots }, (_, idx) => ({
          updateOne: {
            filter: { _id: `${botKey}:${idx}` },
            update: { $setOnInsert: { bot: botKey, idx, freeAt: new Date(0) } },
            upsert: true,
          },
        })),
        { ordered: false },
      ).then(
        () => undefined,
        (err: unknown) => {
          this.ready.delete(botKey);
          throw err;
        },
      );
      this.ready.set(botKey, p);
    }
    return p;
  }

  private eligible(botKey: string, kind: SlotKind, now: number): Record<string, unknown> {
    if (kind === 'reply') return { bot: botKey };
    return {
      bot: botKey,
      $or: [{ idx: { $gte: this.opts.replyShare } }, { replyAt: { $exists: false } }, { replyAt: { $lte: new Date(now - this.opts.quietMs) } }],
    };
  }

  /** One try: a slot now, or undefined. `chatId`: the chat the message goes to (kept on the slot). */
  async tryTake(botKey: string, kind: SlotKind, chatId?: number): Promise<Release | undefined> {
    const got = await this.takeSlot(botKey, kind, chatId);
    return got ? this.releaser(got.id, got.holder) : undefined;
  }

  private async takeSlot(botKey: string, kind: SlotKind, chatId?: number): Promise<{ id: string; holder: string } | undefined> {
    await this.ensure(botKey);
    const now = Date.now();
    const holder = randomBytes(6).toString('hex');
    const set: Record<string, unknown> = { freeAt: new Date(now + this.opts.holdMs), holder, chat: chatId ?? null, kind };
    if (kind === 'reply') set.replyAt = new Date(now);
    this.roundTrips.take++;
    const slot = await this.db.models.RateSlot.findOneAndUpdate(
      { ...this.eligible(botKey, kind, now), freeAt: { $lte: new Date(now) } },
      { $set: set },
      { sort: { idx: kind === 'reply' ? 1 : -1 }, projection: { _id: 1 } },
    ).lean();
    return slot ? { id: String(slot._id), holder } : undefined;
  }

  private releaser(id: string, holder: string): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.roundTrips.release++;
      const freeAt = new Date(Date.now() + this.opts.windowMs + this.opts.marginMs);
      this.db.models.RateSlot.updateOne({ _id: id, holder }, { $set: { freeAt }, $unset: { holder: 1 } }).catch(this.onError);
    };
  }

  /**
   * With a slot in hand for a message to `chatId`: when another slot carries the same chat (a
   * message to it in flight or in its last window), this slot is given back unused and the time
   * that one is free is returned. A notice yields to any message to its chat; an answer only to a
   * notice (answers to one person in a row are the conversation's own pace). Both sides look after
   * taking their slot, so of two that meet at least one sees the other; when both do, the notice
   * yields on its next try too, and the answer goes.
   */
  private async chatBusyUntil(botKey: string, kind: SlotKind, chatId: number, mine: { id: string; holder: string }): Promise<number | undefined> {
    this.roundTrips.chat++;
    const other = await this.db.models.RateSlot.findOne(
      { bot: botKey, chat: chatId, _id: { $ne: mine.id }, freeAt: { $gt: new Date() }, ...(kind === 'reply' ? { kind: 'notice' } : {}) },
      { freeAt: 1 },
    )
      .sort({ freeAt: -1 })
      .lean();
    if (!other) return undefined;
    // Unused: free again at once (nothing was sent with it).
    await this.db.models.RateSlot.updateOne({ _id: mine.id, holder: mine.holder }, { $set: { freeAt: new Date(), chat: null }, $unset: { holder: 1 } }).catch(
      this.onError,
    );
    return other.freeAt.getTime();
  }

  /** Waits for a slot; undefined when `halted` turns true first. */
  async take(botKey: string, kind: SlotKind, halted: () => boolean = () => false, chatId?: number): Promise<Release | undefined> {
    let reserved = false;
    for (;;) {
      if (halted()) return undefined;
      const got = await this.takeSlot(botKey, kind, chatId);
      if (got) {
        const busyUntil = chatId !== undefined ? await this.chatBusyUntil(botKey, kind, chatId, got) : undefined;
        if (busyUntil === undefined) return this.releaser(got.id, got.holder);
        // A held slot says "in flight" (free in `holdMs`): look again soon; a released one, when it is free.
        const lag = kind === 'notice' ? NOTICE_LAG_MS : 0;
        await new Promise((r) => setTimeout(r, Math.min(MAX_WAIT_MS, Math.max(1, busyUntil - Date.now())) + lag));
        continue;
      }
      const now = Date.now();
      if (kind === 'reply' && !reserved) {
        // Someone is waiting to be answered: notices stop borrowing the reserved slots.
        reserved = true;
        this.roundTrips.wait++;
        await this.db.models.RateSlot.updateMany(
          { bot: botKey, idx: { $lt: this.opts.replyShare } },
          { $set: { replyAt: new Date(now) } },
        );
      }
      this.roundTrips.wait++;
      const next = await this.db.models.RateSlot.findOne(this.eligible(botKey, kind, now), { freeAt: 1 })
        .sort({ freeAt: 1 })
        .lean();
      const freeIn = next ? next.freeAt.getTime() - Date.now() : MAX_WAIT_MS;
      const lag = kind === 'notice' ? NOTICE_LAG_MS : 0;
      await new Promise((r) => setTimeout(r, Math.min(MAX_WAIT_MS, Math.max(1, freeIn) + lag)));
    }
  }
}
