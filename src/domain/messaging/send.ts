import { Types } from 'mongoose';
import type { Db } from '../../db/index.js';
import type { MessageThreadDoc } from '../../db/models/messaging.js';
import type { ThreadMessageKind } from '../shared/vocabulary.js';
import { publishMessage } from '../notices/events.js';
import type { Actor } from '../school/actor.js';
import { toObjectId } from '../school/people.js';
import { AccessDenied, DomainError } from '../shared/errors.js';
import { telegramLength } from '../shared/text-limits.js';
import { labelOf, otherSide, type Side } from './contacts.js';
import { officeHoursHold } from './office-hours.js';
import { threadFor } from './threads.js';

/**
 * Sending a message in a thread (R3): checked, counted against the sender's rate limit, kept, and
 * enqueued for the other side through the outbox with a header naming the sender by role and
 * name; and taking it back within 10 minutes.
 */
type Id = Types.ObjectId;

/**
 * What one message may hold so the copy, with its header (at most 200 characters and a new line),
 * fits one Telegram message (4096) or caption (1024): longer is refused, never cut at delivery.
 */
export const MAX_MESSAGE_TEXT = 3800; // ≤ textBudget(false) (shared/text-limits.ts)
export const MAX_MESSAGE_CAPTION = 800; // ≤ textBudget(true)
export const RATE_LIMIT_PER_MINUTE = 20;

export interface MessageContent {
  kind: ThreadMessageKind;
  text?: string;
  fileId?: string;
}

// ───────────────────────────── sending ─────────────────────────────

export interface SentMessage {
  messageId: string;
  threadId: string;
  delivered: number;
  /** The teacher muted the thread: the message is kept, not delivered (said once after each mute). */
  mutedNotice?: boolean;
  /** Outside the teacher's office hours: delivered when they begin (said once a day per thread). */
  heldUntil?: Date;
}

/**
 * Takes one of the sender's 20 slots of the last minute, or refuses (R3). One conditional update
 * on the sender's rate document: the slot is free when fewer than 20 times are kept or the oldest
 * of the last 20 is over a minute old; `$push … $slice` keeps the last 20. Two messages sent at
 * once cannot both take the last slot (a refused upsert is a duplicate key, not a second insert).
 */
export async function takeRateSlot(db: Db, senderId: Id, now: Date): Promise<void> {
  const n = RATE_LIMIT_PER_MINUTE;
  const cutoff = new Date(now.getTime() - 60_000);
  const filter = { _id: `msg:${String(senderId)}`, $or: [{ [`times.${n - 1}`]: { $exists: false } }, { 'times.0': { $lte: cutoff } }] };
  const update = { $push: { times: { $each: [now], $slice: -n } }, $set: { lastAt: now } };
  try {
    await db.models.SendRate.updateOne(filter, update, { upsert: true });
  } catch (e) {
    if ((e as { code?: number }).code !== 11000) throw e;
    // The row exists and is full — or two first messages raced to create it: try once more
    // without inserting; only a full row refuses.
    const again = await db.models.SendRate.updateOne(filter, update);
    if (again.matchedCount === 1) return;
    throw new DomainError('messaging.errors.rateLimited', { n });
  }
}

function checkContent(content: MessageContent): void {
  const text = content.text ?? '';
  const max = content.kind === 'text' ? MAX_MESSAGE_TEXT : MAX_MESSAGE_CAPTION;
  if (telegramLength(text) > max) throw new DomainError('messaging.errors.tooLong', { max, length: telegramLength(text) });
  if (content.kind === 'text' ? text.trim() === '' : !content.fileId) throw new DomainError('messaging.errors.empty');
}

/**
 * Appends a message to the thread and enqueues it for the other side. Refused (nothing changes):
 * an empty message, a text over 3800 characters (a caption over 800), more than 20 a minute from one sender.
 */
export async function sendMessage(
  db: Db,
  actor: Actor,
  threadId: string,
  content: MessageContent,
  now: Date,
): Promise<SentMessage> {
  const [sent] = await sendMessages(db, actor, [threadId], content, now);
  if (!sent) throw new AccessDenied();
  return sent;
}

/**
 * One message to several threads of the actor (a teacher writing to both parents of a student):
 * every thread is checked, the message counts once against the rate limit, each thread gets its
 * own record (the same `batchId`, so a recall takes all of them back) and its own delivery.
 */
export async function sendMessages(
  db: Db,
  actor: Actor,
  threadIds: string[],
  content: MessageContent,
  now: Date,
): Promise<SentMessage[]> {
  if (threadIds.length === 0 || threadIds.length > 10) throw new AccessDenied();
  const threads = [];
  for (const id of threadIds) threads.push(await threadFor(db, actor, id));
  checkContent(content);
  const sender = actor.personId as Id;
  await takeRateSlot(db, sender, now);
  const batchId = threads.length > 1 ? new Types.ObjectId() : undefined;
  const out: SentMessage[] = [];
  for (const { thread, side } of threads) out.push(await appendMessage(db, thread, side, sender, content, now, batchId));
  return out;
}

async function appendMessage(
  db: Db,
  thread: MessageThreadDoc,
  side: Side,
  sender: Id,
  content: MessageContent,
  now: Date,
  batchId: Id | undefined,
): Promise<SentMessage> {
  const text = content.text ?? '';
  const message = await db.models.ThreadMessage.create({
    schoolId: thread.schoolId,
    threadId: thread._id,
    fromPersonId: sender,
    kind: content.kind,
    text: text || undefined,
    fileId: content.fileId,
    sentAt: now,
    ...(batchId ? { batchId } : {}),
  });
  const other = otherSide(side);
  // Whoever writes has read the thread so far.
  await db.models.MessageThread.updateOne(
    { _id: thread._id },
    { $set: { lastAt: now, [`unread.${side}`]: 0 }, $inc: { [`unread.${other}`]: 1 } },
  );

  const out: SentMessage = { messageId: String(message._id), threadId: String(thread._id), delivered: 0 };
  if (other === 'teacher' && thread.mutedByTeacher) {
    // Told once after each mute: the first message after it claims the notice.
    const told = await db.models.MessageThread.updateOne(
      { _id: thread._id, mutedByTeacher: true, mutedToldAt: { $exists: false } },
      { $set: { mutedToldAt: now } },
    );
    if (told.modifiedCount === 1) out.mutedNotice = true;
    return out;
  }
  const held = other === 'teacher' ? await officeHoursHold(db, thread, now) : undefined;
  out.delivered = await deliver(db, thread, side, other, message._id, content, now, held?.until);
  if (held) {
    const told = await db.models.MessageThread.updateOne(
      { _id: thread._id, officeHoursToldOn: { $ne: held.today } },
      { $set: { officeHoursToldOn: held.today } },
    );
    if (told.modifiedCount === 1) out.heldUntil = held.until;
  }
  return out;
}

async function deliver(
  db: Db,
  thread: MessageThreadDoc,
  from: Side,
  to: Side,
  messageId: Id,
  content: MessageContent,
  now: Date,
  notBefore?: Date,
): Promise<number> {
  const recipientId = to === 'teacher' ? thread.teacherId : thread.parentId;
  const person = await db.models.Person.findOne(
    { _id: recipientId, schoolId: thread.schoolId },
    { telegramId: 1, active: 1 },
  ).lean();
  if (!person || typeof person.telegramId !== 'number' || person.active === false) return 0;
  const header = await labelOf(db, thread, from);
  return publishMessage(db, {
    schoolId: thread.schoolId,
    key: `thread:${String(messageId)}`,
    recipients: [{ personId: recipientId, telegramId: person.telegramId, studentId: thread.studentId }],
    text: content.text ?? '',
    at: now,
    notBefore,
    extra: {
      threadId: String(thread._id),
      threadMessageId: String(messageId),
      header,
      fileId: content.fileId,
      fileKind: content.kind === 'text' ? undefined : content.kind,
    },
  });
}

/**
 * The thread a delivered Telegram message belongs to (a reply with reply-to), if the one replying
 * is its recipient. Remembers the Telegram message id on the stored message.
 */
export async function threadOfDelivered(db: Db, actor: Actor, chatId: number, telegramMessageId: number): Promise<string | undefined> {
  const doc = await db.models.OutboxMessage.findOne(
    { chatId, messageId: telegramMessageId, kind: 'message' },
    { payload: 1, recipientId: 1 },
  ).lean();
  const payload = (doc?.payload ?? {}) as Record<string, unknown>;
  if (!doc || typeof payload.threadId !== 'string') return undefined;
  if (String(doc.recipientId) !== String(actor.personId)) return undefined;
  if (typeof payload.threadMessageId === 'string' && Types.ObjectId.isValid(payload.threadMessageId)) {
    await db.models.ThreadMessage.updateOne(
      { _id: toObjectId(payload.threadMessageId), deliveredMessageId: { $exists: false } },
      { $set: { deliveredMessageId: telegramMessageId } },
    );
  }
  return payload.threadId;
}

// ───────────────────────────── recall (R3) ─────────────────────────────

export const RECALL_WINDOW_MS = 10 * 60_000;

export interface RecallResult {
  threadId: string;
  /** Delivered copies to delete from the recipients' chats (the caller talks to Telegram). */
  deletes: Array<{ chatId: number; messageId: number; botKey: string }>;
  /** Copies that had not gone yet: cancelled in the outbox. */
  cancelled: number;
}

/**
 * The sender takes a message back within 10 minutes: the record keeps `recalledAt` (history shows
 * "[message recalled]"), copies waiting in the outbox are cancelled, and the delivered ones are
 * returned for the caller to delete. Later, or by anyone else, it is refused.
 */
export async function recallMessage(db: Db, actor: Actor, messageId: string, now: Date): Promise<RecallResult> {
  if (!actor.personId || !Types.ObjectId.isValid(messageId)) throw new AccessDenied();
  const message = await db.models.ThreadMessage.findOne({ _id: toObjectId(messageId), schoolId: actor.schoolId }).lean();
  if (!message || String(message.fromPersonId) !== String(actor.personId)) throw new AccessDenied();
  const { thread } = await threadFor(db, actor, String(message.threadId));
  if (message.recalledAt) throw new DomainError('messaging.errors.alreadyRecalled');
  if (now.getTime() - message.sentAt.getTime() > RECALL_WINDOW_MS) {
    throw new DomainError('messaging.errors.recallTooLate', { minutes: RECALL_WINDOW_MS / 60_000 });
  }
  // A message written to several family members at once is taken back from all of them.
  const batch = message.batchId
    ? await db.models.ThreadMessage.find(
        { batchId: message.batchId, fromPersonId: actor.personId, schoolId: actor.schoolId },
        { _id: 1, threadId: 1 },
      ).lean()
    : [{ _id: message._id, threadId: message.threadId }];
  const ids = batch.map((m) => m._id);
  const res = await db.models.ThreadMessage.updateMany(
    { _id: { $in: ids }, recalledAt: { $exists: false } },
    { $set: { recalledAt: now } },
  );
  if (res.modifiedCount === 0) throw new DomainError('messaging.errors.alreadyRecalled');
  const keys = ids.map((id) => `msg:thread:${String(id)}:`);
  const threads = await db.models.MessageThread.find({ _id: { $in: batch.map((m) => m.threadId) } }, { teacherId: 1, parentId: 1 }).lean();
  const people = [...new Set(threads.flatMap((t) => [String(t.teacherId), String(t.parentId)]))];
  const copyKeys = keys.flatMap((k) => people.map((p) => `${k}${p}`));
  // First flag every copy: a worker that holds one (claimed, or already calling Telegram) reads the
  // flag after it records the copy as sent and deletes it then. Only afterwards read the statuses,
  // so each copy is either seen here as sent or seen by the worker as recalled (or both: a second
  // delete of a deleted message fails harmlessly).
  await db.models.OutboxMessage.updateMany({ key: { $in: copyKeys } }, { $set: { recallRequested: true } });
  const copies = await db.models.OutboxMessage.find(
    { key: { $in: copyKeys } },
    { status: 1, chatId: 1, messageId: 1, botKey: 1 },
  ).lean();
  const out: RecallResult = { threadId: String(thread._id), deletes: [], cancelled: 0 };
  for (const c of copies) {
    if (c.status === 'pending') {
      // Only while still claimable: a worker that has it renders nothing for a recalled message.
      const r = await db.models.OutboxMessage.updateOne(
        { claimKey: String(c._id) },
        { $set: { status: 'cancelled', lastError: 'recalled' }, $unset: { claimKey: 1, pendingKey: 1 } },
      );
      out.cancelled += r.modifiedCount;
    } else if (c.status === 'sent' && typeof c.messageId === 'number') {
      out.deletes.push({ chatId: c.chatId, messageId: c.messageId, botKey: c.botKey });
    }
  }
  return out;
}
