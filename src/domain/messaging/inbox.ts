import { Types } from 'mongoose';
import type { Db } from '../../db/index.js';
import type { MessageThreadDoc } from '../../db/models/messaging.js';
import type { ThreadMessageKind } from '../shared/vocabulary.js';
import type { Actor } from '../school/actor.js';
import { assertConsent, shortName, toObjectId } from '../school/people.js';
import { AccessDenied } from '../shared/errors.js';
import { isFamilyOf, type Label, labelOf, otherSide, type Side, studentOf, teacherName } from './contacts.js';
import { threadFor } from './threads.js';

/**
 * Reading (R3, R24): the actor's inbox with what they have not read, a thread's history by pages,
 * and the diary's messages about one child.
 */
type Id = Types.ObjectId;

export const PAGE_SIZE = 10;

/** One page of a thread's history, newest first (page 0: the newest), the page clamped to those there are. */
export async function historyPage(db: Db, threadId: Id, page: number) {
  const total = await db.models.ThreadMessage.countDocuments({ threadId });
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  const p = Math.min(Math.max(0, Math.floor(page)), pages - 1);
  const docs = await db.models.ThreadMessage.find({ threadId })
    .sort({ sentAt: -1, _id: -1 })
    .skip(p * PAGE_SIZE)
    .limit(PAGE_SIZE)
    .lean();
  return { docs, page: p, pages };
}

export interface InboxEntry {
  threadId: string;
  /** The other side, as the actor sees it. */
  with: Label;
  unread: number;
  lastAt: Date;
}

/** The actor's threads, newest first, with what they have not read; with `studentId`, those about that child only. */
export async function listInbox(db: Db, actor: Actor, limit = 30, studentId?: Id): Promise<InboxEntry[]> {
  if (!actor.personId) throw new AccessDenied();
  const me = actor.personId;
  const about = studentId ? { studentId } : {};
  const [asFamily, asTeacher] = await Promise.all([
    db.models.MessageThread.find({ schoolId: actor.schoolId, parentId: me, ...about }).sort({ lastAt: -1 }).limit(limit).lean(),
    actor.roles.has('teacher') && !studentId
      ? db.models.MessageThread.find({ schoolId: actor.schoolId, teacherId: me }).sort({ lastAt: -1 }).limit(limit).lean()
      : [],
  ]);
  const entries: Array<{ thread: MessageThreadDoc; side: Side }> = [
    ...(asFamily as MessageThreadDoc[]).filter((t) => isFamilyOf(actor, t.studentId)).map((thread) => ({ thread, side: 'family' as const })),
    ...(asTeacher as MessageThreadDoc[]).map((thread) => ({ thread, side: 'teacher' as const })),
  ]
    .sort((a, b) => b.thread.lastAt.getTime() - a.thread.lastAt.getTime())
    .slice(0, limit);
  // The labels are independent reads: in parallel (a teacher's inbox holds up to 30 threads).
  return Promise.all(
    entries.map(async ({ thread, side }) => ({
      threadId: String(thread._id),
      with: await labelOf(db, thread, otherSide(side)),
      unread: thread.unread?.[side] ?? 0,
      lastAt: thread.lastAt,
    })),
  );
}

export interface ThreadPage {
  threadId: string;
  with: Label;
  page: number;
  pages: number;
  /** Oldest first within the page; page 0 holds the newest messages. */
  messages: Array<{ mine: boolean; kind: ThreadMessageKind; text?: string; sentAt: Date; recalled: boolean }>;
  /** The reader's side; whether the teacher muted the thread. */
  side: Side;
  muted: boolean;
}

/** One page of a thread's history (page 0: the newest); marks the thread read for the actor. */
export async function readThread(db: Db, actor: Actor, threadId: string, page = 0): Promise<ThreadPage> {
  const { thread, side } = await threadFor(db, actor, threadId);
  const { docs, page: p, pages } = await historyPage(db, thread._id, page);
  if ((thread.unread?.[side] ?? 0) > 0) {
    await db.models.MessageThread.updateOne({ _id: thread._id }, { $set: { [`unread.${side}`]: 0 } });
  }
  const me = String(actor.personId);
  return {
    threadId: String(thread._id),
    with: await labelOf(db, thread, otherSide(side)),
    page: p,
    pages,
    side,
    muted: Boolean(thread.mutedByTeacher),
    messages: docs.reverse().map((m) => ({
      mine: String(m.fromPersonId) === me,
      kind: m.kind as ThreadMessageKind,
      text: m.recalledAt ? undefined : (m.text ?? undefined),
      sentAt: m.sentAt,
      recalled: Boolean(m.recalledAt),
    })),
  };
}

// ───────────────────────────── the diary's messages (R24) ─────────────────────────────

export interface ChildAnnouncement {
  announcementId: string;
  from: string;
  text: string;
  at: Date;
  urgent: boolean;
  read: boolean;
}

export interface ChildMessages {
  /** The child's name as the diary shows it ("Матвей Иванов"). */
  student: string;
  threads: InboxEntry[];
  announcements: ChildAnnouncement[];
}

/**
 * R24: the diary shows the messages with teachers — the reader's conversations about this child
 * (a parent's, or the student's own) and the announcements the parent got about the child, newest
 * first. Only the family: a parent of the child (who accepted the notice, R32) or the student.
 */
export async function childMessages(db: Db, actor: Actor, studentId: string, limit = 10): Promise<ChildMessages> {
  if (!actor.personId || !Types.ObjectId.isValid(studentId)) throw new AccessDenied();
  const sid = toObjectId(studentId);
  if (!isFamilyOf(actor, sid)) throw new AccessDenied();
  await assertConsent(db, actor);
  const [student, threads, receipts] = await Promise.all([
    studentOf(db, actor.schoolId, sid),
    listInbox(db, actor, limit, sid),
    db.models.AnnouncementReceipt.find({ schoolId: actor.schoolId, parentId: actor.personId, studentId: sid }, { announcementId: 1, readAt: 1 }).lean(),
  ]);
  const read = new Map(receipts.map((r) => [String(r.announcementId), Boolean(r.readAt)]));
  const announcements = receipts.length
    ? await db.models.Announcement.find({ _id: { $in: receipts.map((r) => r.announcementId) }, schoolId: actor.schoolId })
        .sort({ createdAt: -1 })
        .limit(limit)
        .lean()
    : [];
  const senders = await db.models.Person.find(
    { _id: { $in: announcements.map((a) => a.senderId) } },
    { firstName: 1, lastName: 1, middleName: 1 },
  ).lean();
  const senderName = new Map(senders.map((p) => [String(p._id), teacherName(p)]));
  return {
    student: student ? shortName(student) : '—',
    threads,
    announcements: announcements.map((a) => ({
      announcementId: String(a._id),
      from: senderName.get(String(a.senderId)) ?? '—',
      text: a.text,
      at: a.createdAt,
      urgent: Boolean(a.urgent),
      read: read.get(String(a._id)) ?? false,
    })),
  };
}
