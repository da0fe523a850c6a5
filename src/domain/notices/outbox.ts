import { Types } from 'mongoose';
import type { Db } from '../../db/index.js';
import { dbSignal } from '../../db/signal.js';
import { type NoticeKind, PRIORITY_RANK, type Priority } from '../shared/vocabulary.js';

/**
 * The outbox, the domain's half: durable messages waiting for Telegram. Writing one is the promise
 * that it will be delivered; the delivery worker of the notify layer (which reads the domain, never
 * the other way round) keeps the promise. The domain only writes intent here and never reads what
 * the worker does.
 *
 * A new document is pending and claimable at once (`claimKey` = its id); `pendingKey` (= the
 * thing) holds the collapse slot while it waits, under a unique index.
 */
type Id = Types.ObjectId;

export interface Notice {
  key: string;
  collapseKey?: string;
  schoolId: Id;
  botKey?: string | null;
  chatId: number;
  recipientId?: Id;
  studentId?: Id;
  kind: NoticeKind;
  ref?: { markId?: Id; lessonId?: Id; periodMarkId?: Id; reportId?: Id };
  payload?: Record<string, unknown>;
  event?: string;
  priority?: Priority;
  notBefore: Date;
}

export type EnqueueResult = 'created' | 'collapsed' | 'duplicate';

const isDuplicate = (e: unknown) => (e as { code?: number })?.code === 11000;
const onIndex = (e: unknown, field: string) => {
  const err = e as { keyPattern?: Record<string, unknown>; message?: string };
  return Boolean(err.keyPattern?.[field]) || String(err.message ?? '').includes(`${field}_1`);
};

/** A new pending outbox document for a notice (claimable at once: `claimKey` = its id). */
function outboxDoc(notice: Notice) {
  const priority = notice.priority ?? 'normal';
  const _id = new Types.ObjectId();
  return {
    _id,
    claimKey: String(_id),
    key: notice.key,
    collapseKey: notice.collapseKey,
    pendingKey: notice.collapseKey,
    botKey: notice.botKey || 'default',
    schoolId: notice.schoolId,
    chatId: notice.chatId,
    recipientId: notice.recipientId,
    studentId: notice.studentId,
    kind: notice.kind,
    ref: notice.ref,
    payload: notice.payload,
    events: notice.event ? [notice.event] : undefined,
    priority,
    rank: PRIORITY_RANK[priority],
    notBefore: notice.notBefore,
    status: 'pending' as const,
  };
}

/**
 * Adds a message, or joins the pending one about the same thing (collapseKey): a mark corrected
 * inside its grace window is one message, rendered with the final value at send time.
 * Publishing the same event twice (same key) adds nothing.
 */
export async function enqueue(db: Db, notice: Notice, opts: { fresh?: boolean } = {}): Promise<EnqueueResult> {
  const { OutboxMessage } = db.models;
  for (let attempt = 0; attempt < 3; attempt++) {
    // A thing just created has nothing pending to join: insert first (the unique pendingKey
    // still catches a race), which saves a query per recipient on the hot path.
    if (notice.collapseKey && !(opts.fresh && attempt === 0)) {
      const joined = await OutboxMessage.findOneAndUpdate(
        { pendingKey: notice.collapseKey },
        { $addToSet: { events: notice.event ?? 'again' } },
        { projection: { _id: 1 } },
      ).lean();
      if (joined) return 'collapsed';
    }
    try {
      await OutboxMessage.create(outboxDoc(notice));
      return 'created';
    } catch (e) {
      if (!isDuplicate(e)) throw e;
      // Someone else created the pending message about this thing a moment ago: join it.
      if (notice.collapseKey && onIndex(e, 'pendingKey')) continue;
      return 'duplicate';
    }
  }
  return 'collapsed';
}

/**
 * Many messages at once (an announcement to a whole school): one bulk insert instead of one
 * round trip per recipient. Only for notices without a collapseKey (nothing to join). A notice
 * whose key exists already is skipped (idempotent, as `enqueue`). Returns how many were added.
 */
export async function enqueueMany(db: Db, notices: Notice[]): Promise<number> {
  if (notices.length === 0) return 0;
  if (notices.some((n) => n.collapseKey)) throw new Error('enqueueMany: notices with a collapseKey go through enqueue');
  const docs = notices.map(outboxDoc);
  try {
    await db.models.OutboxMessage.insertMany(docs, { ordered: false });
    return docs.length;
  } catch (e) {
    // Some keys existed already (the same message published twice): the rest were inserted.
    const raw = (e as { writeErrors?: unknown }).writeErrors;
    const errors = (Array.isArray(raw) ? raw : raw ? [raw] : []) as Array<{ code?: number; err?: { code?: number } }>;
    const codeOf = (w: { code?: number; err?: { code?: number } }) => w.code ?? w.err?.code;
    if (errors.length === 0 || errors.some((w) => codeOf(w) !== 11000)) throw e;
    return docs.length - errors.length;
  }
}

// ───────────────────────────── wake-ups ─────────────────────────────

/**
 * In-process wake-up: the delivery worker in this process starts at once instead of at its next
 * poll (a worker in another process still finds the message by polling).
 */
const outboxWrites = dbSignal();

export function onOutboxWrite(db: Db, listener: () => void): () => void {
  return outboxWrites.on(db, listener);
}

export function signalOutbox(db: Db): void {
  outboxWrites.emit(db, undefined);
}
