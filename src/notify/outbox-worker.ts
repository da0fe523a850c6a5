import type { Types } from 'mongoose';
import type { Db } from '../db/index.js';
import type { OutboxDoc } from '../db/models/notify.js';

/**
 * The delivery worker's steps on the outbox (the domain writes messages through
 * src/domain/notices/outbox.ts; only this side reads and moves them). Every state change is a
 * single-document atomic update (the stand-in and a sharded MongoDB alike have no transactions).
 *
 * The hot path addresses documents only by exact unique keys, each present only in one state:
 * `claimKey` (= the id) while pending, `leaseKey` (= token:id) while claimed or sending, and
 * `pendingKey` (= the thing) while pending. A state change is then one indexed compare-and-set
 * — on any server, including the stand-in, which uses an index only for an exact key match.
 */
type Id = Types.ObjectId;

export type Candidate = Pick<
  OutboxDoc,
  '_id' | 'schoolId' | 'chatId' | 'kind' | 'priority' | 'rank' | 'notBefore' | 'botKey' | 'collapseKey' | 'repeat' | 'sendToken'
>;

const CANDIDATE_FIELDS = {
  schoolId: 1,
  chatId: 1,
  kind: 1,
  priority: 1,
  rank: 1,
  notBefore: 1,
  botKey: 1,
  collapseKey: 1,
  repeat: 1,
  sendToken: 1,
};

/** Schools with messages due now for these bots (the worker serves them in turn: fair order). */
export async function dueSchools(db: Db, botKeys: string[], now: Date): Promise<Id[]> {
  const ids = await db.models.OutboxMessage.distinct('schoolId', {
    botKey: { $in: botKeys },
    status: 'pending',
    notBefore: { $lte: now },
  });
  return ids as Id[];
}

/** The next due messages of one school, most urgent and oldest first. */
export async function dueOf(db: Db, botKeys: string[], schoolId: Id, now: Date, limit: number): Promise<Candidate[]> {
  return (await db.models.OutboxMessage.find(
    { botKey: { $in: botKeys }, schoolId, status: 'pending', notBefore: { $lte: now } },
    CANDIDATE_FIELDS,
  )
    // Ties in the order they were written: the files of an announcement before its text.
    .sort({ rank: 1, notBefore: 1, _id: 1 })
    .limit(limit)
    .lean()) as Candidate[];
}

export const leaseKeyOf = (token: string, id: Id | string) => `${token}:${id}`;

/**
 * Back in the queue: claimable again (the collapse slot is not restored; render dedupes). The
 * token stays: the next claim sets a new one, except for a possible repeat, which keeps it.
 */
const requeueSet = (id: Id | string, extra: Record<string, unknown> = {}) => ({
  $set: { status: 'pending', claimKey: String(id), ...extra },
  $unset: { leaseKey: 1, lockedBy: 1, lockedUntil: 1 },
});

/**
 * Back in the queue after an attempt whose fate is unknown (the request may have reached
 * Telegram): sent again as a possible repeat, marked so in the recipient's language, with the
 * same token, so the buttons of whichever copy arrived keep working (acknowledgements, receipts).
 */
const requeueUncertain = (id: Id | string, extra: Record<string, unknown> = {}) => requeueSet(id, { repeat: true, ...extra });

/**
 * Claims one message: pending → claimed, with a lease and the token of the Telegram message it
 * will be part of. Atomic: of two workers, one wins (the claimKey exists once). Leaves the
 * collapse slot (pendingKey), so a correction after this moment becomes a new message.
 */
export async function claim(
  db: Db,
  id: Id,
  opts: { worker: string; token: string; sendToken?: string; now: Date; leaseMs: number },
): Promise<OutboxDoc | undefined> {
  const { OutboxMessage } = db.models;
  const doc = (await OutboxMessage.findOneAndUpdate(
    { claimKey: String(id) },
    {
      $set: {
        status: 'claimed',
        leaseKey: leaseKeyOf(opts.token, id),
        lockedBy: opts.worker,
        lockedUntil: new Date(opts.now.getTime() + opts.leaseMs),
        sendToken: opts.sendToken ?? opts.token,
      },
      $unset: { claimKey: 1, pendingKey: 1 },
      $inc: { attempts: 1 },
    },
    { returnDocument: 'after' },
  ).lean()) as OutboxDoc | null;
  if (!doc) return undefined;
  if (doc.notBefore > opts.now) {
    // Rescheduled (quiet hours) after the worker read it: not due after all.
    await OutboxMessage.updateOne({ leaseKey: leaseKeyOf(opts.token, id) }, { ...requeueSet(id), $inc: { attempts: -1 } });
    return undefined;
  }
  return doc;
}

type Op = { leaseKey: string; update: Record<string, unknown> };

async function byLease(db: Db, ops: Op[]): Promise<number> {
  if (ops.length === 0) return 0;
  const result = await db.models.OutboxMessage.bulkWrite(
    ops.map((o) => ({ updateOne: { filter: { leaseKey: o.leaseKey }, update: o.update } })),
    { ordered: false },
  );
  return result.modifiedCount;
}

/** Claimed but not sent (it did not fit, the worker is stopping): back to the queue, untouched. */
export async function unclaim(db: Db, ids: Id[], token: string): Promise<void> {
  await byLease(
    db,
    ids.map((id) => ({ leaseKey: leaseKeyOf(token, id), update: { ...requeueSet(id), $inc: { attempts: -1 } } })),
  );
}

/**
 * The point of no return: `sending` is written, with what the message says, right before the
 * Telegram call. After a crash, `claimed` means "never sent" and `sending` means "maybe sent".
 * Returns how many were still ours (a recovered lease is not: fencing by the lease key).
 */
export async function markSending(
  db: Db,
  rendered: ReadonlyArray<{ id: Id; snapshot?: unknown }>,
  token: string,
  now: Date,
  leaseMs: number,
): Promise<number> {
  const lockedUntil = new Date(now.getTime() + leaseMs);
  return byLease(
    db,
    rendered.map((r) => ({
      leaseKey: leaseKeyOf(token, r.id),
      update: { $set: { status: 'sending', attemptedAt: now, lockedUntil, rendered: r.snapshot ?? null } },
    })),
  );
}

/**
 * Telegram refused the request for now (429): nothing was sent, so the message leaves `sending`
 * while it waits — a crash during the wait is then a plain requeue, not an uncertain send.
 */
export async function backToClaimed(db: Db, ids: Id[], token: string, now: Date, leaseMs: number): Promise<void> {
  const lockedUntil = new Date(now.getTime() + leaseMs);
  await byLease(db, ids.map((id) => ({ leaseKey: leaseKeyOf(token, id), update: { $set: { status: 'claimed', lockedUntil } } })));
}

/** Delivered: `sent`, and what the recipient now knows about each thing (NoticeState). */
export async function markSent(
  db: Db,
  rendered: ReadonlyArray<{ id: Id; collapseKey?: string | null; snapshot?: unknown }>,
  token: string,
  opts: { now: Date; messageId?: number },
): Promise<void> {
  const set: Record<string, unknown> = { status: 'sent', sentAt: opts.now };
  if (opts.messageId !== undefined) set.messageId = opts.messageId;
  await Promise.all([
    byLease(
      db,
      rendered.map((r) => ({
        leaseKey: leaseKeyOf(token, r.id),
        update: { $set: set, $unset: { leaseKey: 1, lockedBy: 1, lockedUntil: 1 } },
      })),
    ),
    rememberTold(db, rendered, opts.now),
  ]);
}

export async function rememberTold(
  db: Db,
  rendered: ReadonlyArray<{ collapseKey?: string | null; snapshot?: unknown }>,
  now: Date,
): Promise<void> {
  const states = rendered.filter((r) => r.collapseKey && r.snapshot !== undefined && r.snapshot !== null);
  if (states.length === 0) return;
  await db.models.NoticeState.bulkWrite(
    states.map((r) => ({
      updateOne: {
        filter: { _id: r.collapseKey as string },
        update: { $set: { snapshot: r.snapshot, at: now } },
        upsert: true,
      },
    })),
    { ordered: false },
  );
}

const finish = (status: 'cancelled' | 'failed' | 'dropped', error: string) => ({
  $set: { status, lastError: error },
  $unset: { leaseKey: 1, lockedBy: 1, lockedUntil: 1 },
});

/** Nothing new to say at send time (a mark deleted inside its grace window): closed without a message. */
export async function cancel(db: Db, ids: Id[], token: string, reason: string): Promise<void> {
  await byLease(db, ids.map((id) => ({ leaseKey: leaseKeyOf(token, id), update: finish('cancelled', reason) })));
}

/**
 * A retryable failure: back to pending after `retryAt`; given up after too many attempts.
 * `uncertain` (5xx, network: the request may have been carried out) sends it again as a possible repeat.
 */
export async function retryLater(
  db: Db,
  ids: Id[],
  token: string,
  opts: { retryAt: Date; error: string; giveUp: boolean; uncertain?: boolean },
): Promise<void> {
  const requeue = opts.uncertain ? requeueUncertain : requeueSet;
  await byLease(
    db,
    ids.map((id) => ({
      leaseKey: leaseKeyOf(token, id),
      update: opts.giveUp ? finish('failed', opts.error) : requeue(id, { notBefore: opts.retryAt, lastError: opts.error }),
    })),
  );
}

export async function fail(db: Db, ids: Id[], token: string, status: 'failed' | 'dropped', error: string): Promise<void> {
  await byLease(db, ids.map((id) => ({ leaseKey: leaseKeyOf(token, id), update: finish(status, error) })));
}

/** Quiet hours began while it waited: hold until morning. */
export async function defer(db: Db, ids: Id[], until: Date): Promise<void> {
  if (ids.length === 0) return;
  await db.models.OutboxMessage.updateMany({ _id: { $in: ids }, status: 'pending' }, { $set: { notBefore: until } });
}

/** The chat blocked the bot: nothing more goes there until the user writes again. */
export async function dropChat(db: Db, chatId: number, botKey: string, error: string): Promise<number> {
  const { modifiedCount } = await db.models.OutboxMessage.updateMany(
    { chatId, botKey, status: 'pending' },
    { $set: { status: 'dropped', lastError: error }, $unset: { pendingKey: 1, claimKey: 1 } },
  );
  return modifiedCount;
}

export interface Recovered {
  /** Claimed by a dead worker, never sent: back in the queue. */
  requeued: number;
  /** `sending` when the worker died (the request may have reached Telegram): sent again, marked as a possible repeat. */
  resent: number;
}

/**
 * Messages a dead or replaced worker left behind. `claimed` was never attempted: back to the
 * queue as it was. `sending` is the ambiguous case — the Telegram call may or may not have
 * happened, and Telegram cannot be asked — resolved for delivery: it is sent again, marked as a
 * possible repeat (at-least-once: a missed absence notice defeats the product, a marked repeat is
 * harmless). A message whose fate is known (`sent`, a definite refusal) is never touched here.
 */
export async function recoverExpired(db: Db, botKeys: string[], now: Date, leader: string): Promise<Recovered> {
  const { OutboxMessage } = db.models;
  // Only the bot's leader sends for it (delivery.ts): whatever another worker holds for these
  // bots, or anything with a lapsed lease, was left behind.
  const orphans = (await OutboxMessage.find(
    {
      botKey: { $in: botKeys },
      status: { $in: ['claimed', 'sending'] },
      $or: [{ lockedUntil: { $lt: now } }, { lockedBy: { $ne: leader } }],
    },
    { status: 1, leaseKey: 1 },
  ).lean()) as Array<Pick<OutboxDoc, '_id' | 'status' | 'leaseKey'>>;
  const out: Recovered = { requeued: 0, resent: 0 };
  for (const doc of orphans) {
    if (!doc.leaseKey) continue;
    const uncertain = doc.status === 'sending';
    const res = await OutboxMessage.updateOne({ leaseKey: doc.leaseKey }, uncertain ? requeueUncertain(doc._id) : requeueSet(doc._id));
    if (res.modifiedCount === 1) out[uncertain ? 'resent' : 'requeued']++;
  }
  return out;
}
