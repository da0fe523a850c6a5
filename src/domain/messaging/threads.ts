import { Types } from 'mongoose';
import type { Db } from '../../db/index.js';
import type { MessageThreadDoc } from '../../db/models/messaging.js';
import type { Actor } from '../school/actor.js';
import { toObjectId } from '../school/people.js';
import { AccessDenied, DomainError } from '../shared/errors.js';
import { isFamilyOf, type Label, labelOf, listFamilyContacts, otherSide, type Side, studentOf, teachersOf } from './contacts.js';

/**
 * Private teacher–family messaging (R3, R24, R31). A thread joins one family member (a parent, or
 * the student themself), one teacher and one child. Who may open one follows ./contacts.ts; every
 * function checks access itself; the bot only parses and renders.
 *
 * The other side learns of a message through the outbox (rate limits, blocked chats): ./send.ts.
 */
type Id = Types.ObjectId;

export interface ThreadRef {
  threadId: string;
  created: boolean;
}

async function openThread(db: Db, schoolId: Id, parentId: Id, teacherId: Id, studentId: Id, now: Date): Promise<ThreadRef> {
  const key = { schoolId, parentId, teacherId, studentId };
  const existing = await db.models.MessageThread.findOne(key, { _id: 1 }).lean();
  if (existing) return { threadId: String(existing._id), created: false };
  try {
    const doc = await db.models.MessageThread.create({ ...key, lastAt: now, unread: { family: 0, teacher: 0 } });
    return { threadId: String(doc._id), created: true };
  } catch (e) {
    if ((e as { code?: number }).code !== 11000) throw e;
    const again = await db.models.MessageThread.findOne(key, { _id: 1 }).lean();
    if (!again) throw e;
    return { threadId: String(again._id), created: false };
  }
}

/** The actor got a copy of this announcement (a receipt) and `teacherId` sent it. */
async function announcementAllows(db: Db, actor: Actor, announcementId: string, teacherId: string): Promise<boolean> {
  if (!actor.personId || !Types.ObjectId.isValid(announcementId) || !Types.ObjectId.isValid(teacherId)) return false;
  const a = await db.models.Announcement.findOne({ _id: toObjectId(announcementId), schoolId: actor.schoolId }, { senderId: 1 }).lean();
  if (!a || String(a.senderId) !== teacherId) return false;
  const receipt = await db.models.AnnouncementReceipt.exists({
    announcementId: a._id,
    parentId: actor.personId,
    schoolId: actor.schoolId,
  });
  return Boolean(receipt);
}

/**
 * Opens (or finds) a thread. A parent or student: with `teacherId`, who must teach the child or
 * lead its class (or, with `viaAnnouncementId`, sent that announcement and the parent has its
 * receipt). A teacher: with `parentId`, a guardian of a child the teacher teaches.
 */
export async function startThread(
  db: Db,
  actor: Actor,
  input: { studentId: string; teacherId?: string; parentId?: string },
  now = new Date(),
  opts: { viaAnnouncementId?: string } = {},
): Promise<ThreadRef> {
  if (!actor.personId) throw new AccessDenied();
  const studentId = toObjectId(input.studentId);
  const student = await studentOf(db, actor.schoolId, studentId);
  if (!student) throw new AccessDenied();
  const teachers = await teachersOf(db, actor.schoolId, student);
  if (input.teacherId && isFamilyOf(actor, studentId)) {
    // A reply to an announcement goes to its sender (a deputy, the admin) even if they do not teach the child.
    const viaAnnouncement =
      opts.viaAnnouncementId !== undefined && (await announcementAllows(db, actor, opts.viaAnnouncementId, input.teacherId));
    if (!viaAnnouncement && !teachers.has(input.teacherId)) throw new DomainError('messaging.errors.notYourTeacher');
    return openThread(db, actor.schoolId, actor.personId, toObjectId(input.teacherId), studentId, now);
  }
  if (input.parentId && actor.roles.has('teacher') && teachers.has(String(actor.personId))) {
    const parentId = toObjectId(input.parentId);
    const isGuardian = await db.models.Guardianship.exists({ schoolId: actor.schoolId, parentId, studentId });
    const isSelf = String(parentId) === String(studentId);
    if (!isGuardian && !isSelf) throw new AccessDenied();
    return openThread(db, actor.schoolId, parentId, actor.personId, studentId, now);
  }
  throw new AccessDenied();
}

/** The thread and the actor's side in it; refuses anyone else (R4). */
export async function threadFor(db: Db, actor: Actor, threadId: string): Promise<{ thread: MessageThreadDoc; side: Side }> {
  if (!actor.personId || !Types.ObjectId.isValid(threadId)) throw new AccessDenied();
  const thread = (await db.models.MessageThread.findOne({
    _id: toObjectId(threadId),
    schoolId: actor.schoolId,
  }).lean()) as MessageThreadDoc | null;
  if (!thread) throw new AccessDenied();
  const me = String(actor.personId);
  if (String(thread.teacherId) === me) return { thread, side: 'teacher' };
  if (String(thread.parentId) === me && isFamilyOf(actor, thread.studentId)) return { thread, side: 'family' };
  throw new AccessDenied();
}

/** The other side of a thread as the actor sees it; refuses anyone who is not in the thread. */
export async function threadPartner(db: Db, actor: Actor, threadId: string): Promise<Label> {
  const { thread, side } = await threadFor(db, actor, threadId);
  return labelOf(db, thread, otherSide(side));
}

/**
 * A teacher writes to all of a student's parents at once: one thread per parent in the bot
 * (access checked as for one). Refused when no parent has joined the bot yet.
 */
export async function startFamilyThreads(db: Db, actor: Actor, studentId: string, now = new Date()): Promise<string[]> {
  const card = await listFamilyContacts(db, actor, studentId);
  const joined = card.contacts.filter((c) => c.joined);
  if (joined.length === 0) throw new DomainError('messaging.teacherWrite.noneJoined', { student: card.student });
  const ids: string[] = [];
  for (const c of joined) ids.push((await startThread(db, actor, { studentId, parentId: c.personId }, now)).threadId);
  return ids;
}
