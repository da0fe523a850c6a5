import type { Types } from 'mongoose';
import type { Db } from '../../db/index.js';
import type { AnnouncementDoc } from '../../db/models/announcements.js';
import { STUDYING_STATUS } from '../shared/vocabulary.js';
import { publishMessage } from '../notices/events.js';
import type { Actor } from '../school/actor.js';
import { toObjectId } from '../school/people.js';
import { AccessDenied, DomainError } from '../shared/errors.js';
import { telegramLength } from '../shared/text-limits.js';
import { audienceClasses } from './announcement-audiences.js';
import { teacherName } from './contacts.js';
import { type MessageContent, sendMessage, takeRateSlot } from './send.js';
import { startThread } from './threads.js';

/**
 * Class announcements (issue 6, R23, R24). A class teacher writes to all parents of their class or
 * of chosen students; the deputy and the admin to any class, a whole grade level or the whole
 * school. A photo or a document may go with the text (its caption). Each parent gets one copy through the
 * outbox (rate limits, blocked chats; `urgent` goes through quiet hours) with a "Read" button. The
 * sender (or the admin) sees who got it, who read it, and reminds those who have not
 * (./announcement-receipts.ts).
 *
 * Access is checked in ./announcement-audiences.ts, so a forged button or command cannot skip it.
 * A reply to a copy goes only to the sender, as a private thread (./threads.ts).
 */
type Id = Types.ObjectId;

/**
 * What an announcement may say so that each copy, with the header the renderer adds (at most
 * COPY_HEADER_MAX), fits one message (4096) — or one caption (1024) with a single file. Counted
 * in UTF-16 units as Telegram counts; longer is refused before sending (issue 11 item 6).
 */
export const MAX_ANNOUNCEMENT_TEXT = 3800;
export const MAX_ANNOUNCEMENT_CAPTION = 800;
/** Files one announcement may carry. With two or more, each goes as its own message before the text. */
export const MAX_ANNOUNCEMENT_FILES = 10;

/** The outbox key of an announcement's copies (publishMessage prefixes `msg:` and suffixes the person). */
export const copyKey = (announcementId: string, reminder: number) =>
  reminder === 0 ? `ann:${announcementId}` : `ann:${announcementId}:r${reminder}`;

export interface Copy {
  personId: Id;
  telegramId: number;
  studentId: Id;
}

export async function announcementHeader(db: Db, a: Pick<AnnouncementDoc, 'senderId' | 'audience'>) {
  const [sender, cls, group] = await Promise.all([
    db.models.Person.findById(a.senderId, { firstName: 1, lastName: 1, middleName: 1 }).lean(),
    db.models.SchoolClass.findById(a.audience?.classIds?.[0], { name: 1 }).lean(),
    a.audience?.groupId ? db.models.Group.findById(a.audience.groupId, { name: 1 }).lean() : null,
  ]);
  return {
    name: sender ? teacherName(sender) : '—',
    className: cls?.name ?? '—',
    ...(group ? { groupName: group.name } : {}),
    ...(a.audience?.wholeSchool ? { wholeSchool: true } : {}),
    ...(typeof a.audience?.grade === 'number' ? { grade: a.audience.grade } : {}),
  };
}

export async function publishCopies(db: Db, a: AnnouncementDoc, copies: Copy[], reminder: number, now: Date): Promise<number> {
  if (copies.length === 0) return 0;
  const head = await announcementHeader(db, a);
  const files = a.attachments ?? [];
  const kinds = a.attachmentKinds?.length ? a.attachmentKinds : a.attachmentKind ? [a.attachmentKind] : [];
  const common = {
    schoolId: a.schoolId,
    recipients: copies,
    priority: a.urgent ? ('urgent' as const) : ('normal' as const),
    at: now,
  };
  // Several files: each its own message, before the text (the outbox keeps a chat's order:
  // inserted first, sent first); the text with the Read button comes last. A reminder repeats
  // only the text.
  if (files.length > 1 && reminder === 0) {
    for (const [i, fileId] of files.entries()) {
      await publishMessage(db, {
        ...common,
        key: `${copyKey(String(a._id), 0)}:f${i}`,
        text: '',
        extra: { announcementId: String(a._id), header: head, fileOnly: true, fileNo: i + 1, fileCount: files.length, fileId, fileKind: kinds[i] ?? 'document' },
      });
    }
  }
  return publishMessage(db, {
    ...common,
    key: copyKey(String(a._id), reminder),
    text: a.text,
    extra: {
      announcementId: String(a._id),
      header: head,
      urgent: Boolean(a.urgent),
      reminder: reminder > 0,
      ...(files.length === 1 && files[0] && kinds[0] ? { fileId: files[0], fileKind: kinds[0] } : {}),
      ...(files.length > 1 ? { fileCount: files.length } : {}),
    },
  });
}

export interface SentAnnouncement {
  announcementId: string;
  /** Parents the announcement is for (one receipt each). */
  recipients: number;
  /** Copies written to the outbox (parents with Telegram). */
  queued: number;
}

export interface AnnouncementAttachment {
  kind: 'photo' | 'document';
  fileId: string;
}

/** The Telegram chats of these parents who can get a copy (active, in the bot), by parent id. */
export async function reachableParents(db: Db, schoolId: Id, parentIds: Id[]): Promise<Map<string, number>> {
  const parents = await db.models.Person.find({ _id: { $in: parentIds }, schoolId }, { telegramId: 1, active: 1 }).lean();
  return new Map(
    parents.filter((p) => p.active !== false && typeof p.telegramId === 'number').map((p) => [String(p._id), p.telegramId as number]),
  );
}

/** One copy per parent who can get it, about the child the receipt is for. */
export const copiesFor = (receipts: Array<{ parentId: Id; studentId: Id }>, reachable: Map<string, number>): Copy[] =>
  receipts.flatMap((r) => {
    const telegramId = reachable.get(String(r.parentId));
    return telegramId === undefined ? [] : [{ personId: r.parentId, telegramId, studentId: r.studentId }];
  });

/**
 * Sends an announcement: one receipt and one outbox copy per parent of the class (or of the chosen
 * students). A parent with two children in the audience gets one copy.
 */
export async function sendAnnouncement(
  db: Db,
  actor: Actor,
  input: {
    classId?: string;
    /** A group of a class (e.g. an English group): its students' parents. */
    groupId?: string;
    grade?: number;
    wholeSchool?: boolean;
    studentIds?: string[];
    text: string;
    /** One file: the text is its caption. Several (up to 10): each its own message, then the text. */
    attachments?: AnnouncementAttachment[];
    /** One file (as `attachments: [file]`). */
    attachment?: AnnouncementAttachment;
    urgent?: boolean;
    now: Date;
  },
): Promise<SentAnnouncement> {
  if (!actor.personId) throw new AccessDenied();
  const { classIds, groupStudents } = await audienceClasses(db, actor, input);
  const text = input.text ?? '';
  if (text.trim() === '') throw new DomainError('announce.errors.empty');
  const files = input.attachments ?? (input.attachment ? [input.attachment] : []);
  if (files.length > MAX_ANNOUNCEMENT_FILES) throw new DomainError('announce.errors.tooManyFiles', { max: MAX_ANNOUNCEMENT_FILES });
  const max = files.length === 1 ? MAX_ANNOUNCEMENT_CAPTION : MAX_ANNOUNCEMENT_TEXT;
  if (telegramLength(text) > max) throw new DomainError('announce.errors.tooLong', { max, length: telegramLength(text) });
  const chosen = input.studentIds?.length ? input.studentIds.map((id) => toObjectId(id)) : undefined;
  const students = await db.models.Person.find(
    {
      schoolId: actor.schoolId,
      roles: 'student',
      'student.classId': { $in: classIds },
      'student.status': STUDYING_STATUS,
      ...(chosen ? { _id: { $in: chosen } } : groupStudents ? { _id: { $in: groupStudents } } : {}),
    },
    { _id: 1 },
  ).lean();
  // A chosen student outside the class is a forged choice.
  if (chosen && students.length !== new Set(chosen.map(String)).size) throw new AccessDenied();
  const guardianships = students.length
    ? await db.models.Guardianship.find(
        { schoolId: actor.schoolId, studentId: { $in: students.map((s) => s._id) } },
        { parentId: 1, studentId: 1 },
      ).lean()
    : [];
  const byParent = new Map<string, { parentId: Id; studentId: Id }>();
  for (const g of guardianships) if (!byParent.has(String(g.parentId))) byParent.set(String(g.parentId), g);
  if (byParent.size === 0) throw new DomainError('announce.errors.noFamilies');
  const reachable = await reachableParents(
    db,
    actor.schoolId,
    [...byParent.values()].map((g) => g.parentId),
  );

  // An announcement counts against the sender's 20 a minute like a private message (R3).
  await takeRateSlot(db, actor.personId, input.now);
  const announcement = await db.models.Announcement.create({
    schoolId: actor.schoolId,
    senderId: actor.personId,
    audience: {
      classIds,
      studentIds: chosen,
      ...(input.groupId !== undefined ? { groupId: toObjectId(input.groupId) } : {}),
      ...(input.grade !== undefined ? { grade: input.grade } : {}),
      ...(input.wholeSchool ? { wholeSchool: true } : {}),
    },
    text,
    attachments: files.map((f) => f.fileId),
    attachmentKind: files[0]?.kind,
    attachmentKinds: files.map((f) => f.kind),
    urgent: Boolean(input.urgent),
    createdAt: input.now,
  });
  await db.models.AnnouncementReceipt.insertMany(
    [...byParent.values()].map((g) => ({
      schoolId: actor.schoolId,
      announcementId: announcement._id,
      parentId: g.parentId,
      studentId: g.studentId,
      status: reachable.has(String(g.parentId)) ? 'pending' : 'failed',
    })),
    { ordered: false },
  );
  const copies = copiesFor([...byParent.values()], reachable);
  const queued = await publishCopies(db, announcement.toObject() as AnnouncementDoc, copies, 0, input.now);
  return { announcementId: String(announcement._id), recipients: byParent.size, queued };
}

/**
 * The announcement a delivered Telegram message is a copy of, if the one replying is its
 * recipient: the sender and the child the copy was about.
 */
export async function announcementOfDelivered(
  db: Db,
  actor: Actor,
  chatId: number,
  telegramMessageId: number,
): Promise<{ announcementId: string; senderId: string; studentId: string } | undefined> {
  if (!actor.personId) return undefined;
  const doc = await db.models.OutboxMessage.findOne(
    { chatId, messageId: telegramMessageId, kind: 'message' },
    { payload: 1, recipientId: 1, studentId: 1 },
  ).lean();
  const payload = (doc?.payload ?? {}) as Record<string, unknown>;
  if (!doc || typeof payload.announcementId !== 'string' || !doc.studentId) return undefined;
  if (String(doc.recipientId) !== String(actor.personId)) return undefined;
  const a = await db.models.Announcement.findOne(
    { _id: toObjectId(payload.announcementId), schoolId: actor.schoolId },
    { senderId: 1 },
  ).lean();
  if (!a) return undefined;
  return { announcementId: String(a._id), senderId: String(a.senderId), studentId: String(doc.studentId) };
}

/**
 * A reply to an announcement copy goes only to its sender: a private thread between the parent
 * and the sender about the child. The receipt lets the parent reach the sender even when the
 * sender (a deputy, the admin) does not teach the child.
 */
export async function replyToAnnouncement(
  db: Db,
  actor: Actor,
  chatId: number,
  telegramMessageId: number,
  content: MessageContent,
  now: Date,
): Promise<{ threadId: string } | undefined> {
  const found = await announcementOfDelivered(db, actor, chatId, telegramMessageId);
  if (!found) return undefined;
  const { threadId } = await startThread(db, actor, { studentId: found.studentId, teacherId: found.senderId }, now, {
    viaAnnouncementId: found.announcementId,
  });
  await sendMessage(db, actor, threadId, content, now);
  return { threadId };
}
