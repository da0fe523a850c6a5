import { Types } from 'mongoose';
import type { Db } from '../../db/index.js';
import type { MessageThreadDoc } from '../../db/models/messaging.js';
import type { ThreadMessageKind } from '../shared/vocabulary.js';
import { publishMessage } from '../notices/events.js';
import type { Actor } from '../school/actor.js';
import { appendAudit } from '../school/audit.js';
import { toObjectId } from '../school/people.js';
import { AccessDenied } from '../shared/errors.js';
import { type Label, labelOf, type Side } from './contacts.js';
import { historyPage } from './inbox.js';
import { threadFor } from './threads.js';

/**
 * Safety in private threads (R3, R31): the teacher mutes a thread, either side reports one, and the
 * admin reads a reported one (and only that).
 */

/**
 * The teacher mutes a thread: the family's messages are still kept (and shown in /inbox) but no
 * longer delivered to the teacher; the family is told so with its next message, once per mute.
 */
export async function setThreadMuted(db: Db, actor: Actor, threadId: string, muted: boolean): Promise<void> {
  const { thread, side } = await threadFor(db, actor, threadId);
  if (side !== 'teacher') throw new AccessDenied();
  await db.models.MessageThread.updateOne(
    { _id: thread._id },
    { $set: { mutedByTeacher: muted }, $unset: { mutedToldAt: 1 } },
  );
}

/**
 * Either side reports a thread: the school's admins get a notice (through the outbox) with the
 * thread id and both participants by role and name, and the audit trail records it.
 * Returns how many admins were notified.
 */
export async function reportThread(db: Db, actor: Actor, threadId: string, now: Date): Promise<number> {
  const { thread, side } = await threadFor(db, actor, threadId);
  const [family, teacher] = await Promise.all([labelOf(db, thread, 'family'), labelOf(db, thread, 'teacher')]);
  await appendAudit(db, actor, now, {
    action: 'messaging.thread.reported',
    entity: { type: 'MessageThread', id: thread._id },
    studentId: thread.studentId,
    after: { by: side, parentId: String(thread.parentId), teacherId: String(thread.teacherId) },
  });
  const admins = await db.models.Person.find(
    { schoolId: thread.schoolId, roles: 'admin', active: { $ne: false }, telegramId: { $exists: true } },
    { telegramId: 1 },
  ).lean();
  const recipients = admins.flatMap((a) => (typeof a.telegramId === 'number' ? [{ personId: a._id, telegramId: a.telegramId }] : []));
  if (recipients.length === 0) return 0;
  return publishMessage(db, {
    schoolId: thread.schoolId,
    key: `report:${String(thread._id)}:${String(actor.personId)}:${now.getTime()}`,
    recipients,
    text: '',
    at: now,
    extra: {
      reportThreadId: String(thread._id),
      noticeKey: side === 'teacher' ? 'messaging.reportNotice.byTeacher' : 'messaging.reportNotice.byFamily',
      noticeVars: { id: String(thread._id) },
      noticeLabels: { family, teacher },
    },
  });
}

export interface ReportedThreadPage {
  threadId: string;
  family: Label;
  teacher: Label;
  page: number;
  pages: number;
  /** Oldest first within the page; a recalled message keeps its text for the admin, marked recalled. */
  messages: Array<{ side: Side; kind: ThreadMessageKind; text?: string; sentAt: Date; recalled: boolean }>;
}

/**
 * The admin reads a conversation someone reported (R31: what was written must be provable), and
 * only a reported one: private conversations stay private otherwise. Read-only; each opening of
 * its first page is recorded in the audit trail.
 */
export async function readReportedThread(db: Db, actor: Actor, threadId: string, page: number, now: Date): Promise<ReportedThreadPage> {
  if (!actor.personId || !actor.roles.has('admin') || !Types.ObjectId.isValid(threadId)) throw new AccessDenied();
  const thread = (await db.models.MessageThread.findOne({ _id: toObjectId(threadId), schoolId: actor.schoolId }).lean()) as MessageThreadDoc | null;
  if (!thread) throw new AccessDenied();
  const reported = await db.models.AuditEntry.exists({
    schoolId: actor.schoolId,
    action: 'messaging.thread.reported',
    'entity.id': thread._id,
  });
  if (!reported) throw new AccessDenied();
  const [{ docs, page: p, pages }, family, teacher] = await Promise.all([
    historyPage(db, thread._id, page),
    labelOf(db, thread, 'family'),
    labelOf(db, thread, 'teacher'),
  ]);
  if (p === 0) {
    await appendAudit(db, actor, now, {
      action: 'messaging.thread.viewed',
      entity: { type: 'MessageThread', id: thread._id },
      studentId: thread.studentId,
    });
  }
  return {
    threadId: String(thread._id),
    family,
    teacher,
    page: p,
    pages,
    messages: docs.reverse().map((m) => ({
      side: String(m.fromPersonId) === String(thread.teacherId) ? ('teacher' as const) : ('family' as const),
      kind: m.kind as ThreadMessageKind,
      text: m.text ?? undefined,
      sentAt: m.sentAt,
      recalled: Boolean(m.recalledAt),
    })),
  };
}
