import { Types } from 'mongoose';
import type { Db } from '../../db/index.js';
import type { AnnouncementDoc } from '../../db/models/announcements.js';
import { publishMessage } from '../notices/events.js';
import type { Actor } from '../school/actor.js';
import { AccessDenied, DomainError } from '../shared/errors.js';
import { type MessageContent, sendMessage, startThread, takeRateSlot, teacherName } from './threads.js';
import { toObjectId } from '../school/people.js';
import { STUDYING_STATUS } from '../../db/models/people.js';

/**
 * Class announcements (issue 6, R23, R24). A class teacher writes to all parents of their class or
 * of chosen students; the deputy and the admin to any class, a whole grade level or the whole
 * school. A photo or a document may go with the text (its caption). Each parent gets one copy through the
 * outbox (rate limits, blocked chats; `urgent` goes through quiet hours) with a "Read" button. The
 * sender (or the admin) sees who got it, who read it, and reminds those who have not.
 *
 * Access is checked here, so a forged button or command cannot skip it. A reply to a copy goes
 * only to the sender, as a private thread (src/domain/messaging.ts).
 */
type Id = Types.ObjectId;

export const MAX_ANNOUNCEMENT_TEXT = 4096;
/** With a photo or a document the text is its caption (Telegram: 1024 with the header). */
export const MAX_ANNOUNCEMENT_CAPTION = 900;
/** Files one announcement may carry. With two or more, each goes as its own message before the text. */
export const MAX_ANNOUNCEMENT_FILES = 10;

/** The outbox key of an announcement's copies (publishMessage prefixes `msg:` and suffixes the person). */
const copyKey = (announcementId: string, reminder: number) =>
  reminder === 0 ? `ann:${announcementId}` : `ann:${announcementId}:r${reminder}`;

/** May the actor announce to this class: its class teacher, the deputy, the admin. */
export async function canAnnounceTo(db: Db, actor: Actor, classId: Id | string): Promise<boolean> {
  if (!actor.personId) return false;
  const id = toObjectId(classId);
  const exists = await db.models.SchoolClass.exists({ _id: id, schoolId: actor.schoolId });
  if (!exists) return false;
  if (actor.roles.has('admin') || actor.roles.has('deputy')) return true;
  return actor.roles.has('teacher') && actor.classTeacherOf.has(String(id));
}

export interface AnnounceGroup {
  groupId: string;
  /** "Английский язык 1" */
  name: string;
  className: string;
}

/**
 * May the actor announce to the parents of this group (an English group, a profile group): its
 * teacher, the class teacher of its class, the deputy, the admin. Returns the group, or undefined.
 */
export async function groupForAnnouncement(
  db: Db,
  actor: Actor,
  groupId: Id | string,
): Promise<{ _id: Id; classId: Id; name: string; studentIds: Id[] } | undefined> {
  if (!actor.personId || !Types.ObjectId.isValid(String(groupId))) return undefined;
  const group = await db.models.Group.findOne(
    { _id: toObjectId(groupId), schoolId: actor.schoolId },
    { classId: 1, name: 1, studentIds: 1 },
  ).lean();
  if (!group) return undefined;
  const allowed =
    actor.roles.has('admin') ||
    actor.roles.has('deputy') ||
    (actor.roles.has('teacher') && (actor.teachesGroupIds.has(String(group._id)) || actor.classTeacherOf.has(String(group.classId))));
  return allowed ? { _id: group._id, classId: group.classId, name: group.name, studentIds: group.studentIds ?? [] } : undefined;
}

/**
 * The groups the actor may announce to: with `classId`, that class's groups (its class teacher,
 * the deputy, the admin); without, the groups a teacher teaches.
 */
export async function announceableGroups(db: Db, actor: Actor, classId?: string): Promise<AnnounceGroup[]> {
  if (!actor.personId) throw new AccessDenied();
  let filter: Record<string, unknown>;
  if (classId !== undefined) {
    if (!(await canAnnounceTo(db, actor, classId))) throw new AccessDenied();
    filter = { schoolId: actor.schoolId, classId: toObjectId(classId) };
  } else {
    if (!actor.roles.has('teacher') || actor.teachesGroupIds.size === 0) return [];
    filter = { schoolId: actor.schoolId, _id: { $in: [...actor.teachesGroupIds].map((id) => new Types.ObjectId(id)) } };
  }
  const groups = await db.models.Group.find(filter, { name: 1, classId: 1 }).lean();
  const classes = await db.models.SchoolClass.find({ _id: { $in: groups.map((g) => g.classId) } }, { name: 1 }).lean();
  const names = new Map(classes.map((c) => [String(c._id), c.name]));
  return groups
    .map((g) => ({ groupId: String(g._id), name: g.name, className: names.get(String(g.classId)) ?? '—' }))
    .sort((a, b) => a.className.localeCompare(b.className, 'ru', { numeric: true }) || a.name.localeCompare(b.name, 'ru', { numeric: true }));
}

export interface AnnounceClass {
  classId: string;
  name: string;
}

/** The classes the actor may announce to (class teacher: theirs; deputy, admin: all). */
export async function announceableClasses(db: Db, actor: Actor): Promise<AnnounceClass[]> {
  if (!actor.personId) throw new AccessDenied();
  const all = actor.roles.has('admin') || actor.roles.has('deputy');
  const filter = all
    ? { schoolId: actor.schoolId }
    : { schoolId: actor.schoolId, _id: { $in: [...actor.classTeacherOf].map((id) => new Types.ObjectId(id)) } };
  if (!all && !actor.roles.has('teacher')) return [];
  const classes = await db.models.SchoolClass.find(filter, { name: 1, grade: 1 }).lean();
  return classes
    .sort((a, b) => (a.grade ?? 0) - (b.grade ?? 0) || a.name.localeCompare(b.name, 'ru'))
    .map((c) => ({ classId: String(c._id), name: c.name }));
}

/** Students of a class, for picking (access checked). */
export async function classStudents(db: Db, actor: Actor, classId: string): Promise<Array<{ studentId: string; name: string }>> {
  if (!(await canAnnounceTo(db, actor, classId))) throw new AccessDenied();
  const students = await db.models.Person.find(
    { schoolId: actor.schoolId, roles: 'student', 'student.classId': toObjectId(classId), 'student.status': STUDYING_STATUS },
    { firstName: 1, lastName: 1 },
  ).lean();
  return students
    .map((s) => ({ studentId: String(s._id), name: `${s.lastName} ${s.firstName}` }))
    .sort((a, b) => a.name.localeCompare(b.name, 'ru'));
}

interface Copy {
  personId: Id;
  telegramId: number;
  studentId: Id;
}

async function header(db: Db, a: Pick<AnnouncementDoc, 'senderId' | 'audience'>) {
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

async function publishCopies(db: Db, a: AnnouncementDoc, copies: Copy[], reminder: number, now: Date): Promise<number> {
  if (copies.length === 0) return 0;
  const head = await header(db, a);
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

/**
 * Sends an announcement: one receipt and one outbox copy per parent of the class (or of the chosen
 * students). A parent with two children in the audience gets one copy.
 */
export interface AnnouncementAttachment {
  kind: 'photo' | 'document';
  fileId: string;
}

/** The deputy and the admin announce to a grade level or the whole school; class teachers do not. */
export const canAnnounceWide = (actor: Actor) => Boolean(actor.personId) && (actor.roles.has('admin') || actor.roles.has('deputy'));

/** The grade levels of the school (for the deputy and the admin). */
export async function announceableGrades(db: Db, actor: Actor): Promise<number[]> {
  if (!canAnnounceWide(actor)) throw new AccessDenied();
  const grades = await db.models.SchoolClass.distinct('grade', { schoolId: actor.schoolId });
  return (grades as unknown[]).filter((g): g is number => typeof g === 'number').sort((a, b) => a - b);
}

/** The classes of the audience: one class, a grade level's classes or all; access checked. */
async function audienceClasses(
  db: Db,
  actor: Actor,
  input: { classId?: string; groupId?: string; grade?: number; wholeSchool?: boolean; studentIds?: string[] },
): Promise<{ classIds: Id[]; groupStudents?: Id[] }> {
  const kinds = [input.classId !== undefined, input.groupId !== undefined, input.grade !== undefined, input.wholeSchool === true].filter(
    Boolean,
  ).length;
  if (kinds !== 1) throw new AccessDenied();
  if (input.groupId !== undefined) {
    // A group's parents: the group's students only (chosen students belong to a class announcement).
    const group = await groupForAnnouncement(db, actor, input.groupId);
    if (!group || input.studentIds?.length) throw new AccessDenied();
    if (group.studentIds.length === 0) throw new DomainError('announce.errors.noFamilies');
    return { classIds: [group.classId], groupStudents: group.studentIds };
  }
  if (input.classId !== undefined) {
    if (!(await canAnnounceTo(db, actor, input.classId))) throw new AccessDenied();
    return { classIds: [toObjectId(input.classId)] };
  }
  // Chosen students belong to a class announcement only.
  if (!canAnnounceWide(actor) || input.studentIds?.length) throw new AccessDenied();
  const filter = input.wholeSchool ? { schoolId: actor.schoolId } : { schoolId: actor.schoolId, grade: input.grade };
  const classes = await db.models.SchoolClass.find(filter, { _id: 1 }).lean();
  if (classes.length === 0) throw new DomainError('announce.errors.noFamilies');
  return { classIds: classes.map((c) => c._id) };
}

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
  if (text.length > max) throw new DomainError('announce.errors.tooLong', { max, length: text.length });
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
  const parents = await db.models.Person.find(
    { _id: { $in: [...byParent.values()].map((g) => g.parentId) }, schoolId: actor.schoolId },
    { telegramId: 1, active: 1 },
  ).lean();
  const reachable = new Map(
    parents
      .filter((p) => p.active !== false && typeof p.telegramId === 'number')
      .map((p) => [String(p._id), p.telegramId as number]),
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
  const copies = [...byParent.values()].flatMap((g) => {
    const telegramId = reachable.get(String(g.parentId));
    return telegramId === undefined ? [] : [{ personId: g.parentId, telegramId, studentId: g.studentId }];
  });
  const queued = await publishCopies(db, announcement.toObject() as AnnouncementDoc, copies, 0, input.now);
  return { announcementId: String(announcement._id), recipients: byParent.size, queued };
}

/** The parent who got a copy records the read. Idempotent; anyone else is refused. */
export async function markRead(db: Db, actor: Actor, announcementId: string, now = new Date()): Promise<{ already: boolean }> {
  if (!actor.personId) throw new AccessDenied();
  const filter = { announcementId: toObjectId(announcementId), parentId: actor.personId, schoolId: actor.schoolId };
  const receipt = await db.models.AnnouncementReceipt.findOne(filter, { readAt: 1 }).lean();
  if (!receipt) throw new AccessDenied();
  if (receipt.readAt) return { already: true };
  const res = await db.models.AnnouncementReceipt.updateOne(
    { _id: receipt._id, readAt: { $exists: false } },
    { $set: { readAt: now, status: 'delivered' } },
  );
  return { already: res.modifiedCount === 0 };
}

async function ownAnnouncement(db: Db, actor: Actor, announcementId: string): Promise<AnnouncementDoc> {
  if (!actor.personId) throw new AccessDenied();
  const a = (await db.models.Announcement.findOne({
    _id: toObjectId(announcementId),
    schoolId: actor.schoolId,
  }).lean()) as AnnouncementDoc | null;
  if (!a) throw new AccessDenied();
  if (String(a.senderId) !== String(actor.personId) && !actor.roles.has('admin')) throw new AccessDenied();
  return a;
}

export type RecipientState = 'read' | 'delivered' | 'pending' | 'failed';

export interface AnnouncementStatus {
  announcementId: string;
  text: string;
  urgent: boolean;
  className: string;
  /** A group announcement: the group's name. */
  groupName?: string;
  /** A grade-level announcement. */
  grade?: number;
  /** A whole-school announcement. */
  wholeSchool?: boolean;
  total: number;
  read: number;
  delivered: number;
  pending: number;
  notDelivered: number;
  /** Every recipient, by name: "Иванова Мария (Иванов Матвей)". */
  recipients: Array<{ parentId: string; name: string; state: RecipientState }>;
}

/** Who got it, who read it (the sender or the admin). `delivered` counts copies Telegram accepted, read or not. */
export async function announcementStatus(db: Db, actor: Actor, announcementId: string): Promise<AnnouncementStatus> {
  const a = await ownAnnouncement(db, actor, announcementId);
  const receipts = await db.models.AnnouncementReceipt.find({ announcementId: a._id }).lean();
  const keys: string[] = [];
  for (const r of receipts) {
    for (let k = 0; k <= (a.reminders ?? 0); k++) keys.push(`msg:${copyKey(String(a._id), k)}:${String(r.parentId)}`);
  }
  const copies = keys.length
    ? await db.models.OutboxMessage.find({ key: { $in: keys } }, { recipientId: 1, status: 1 }).lean()
    : [];
  const outbox = new Map<string, string[]>();
  for (const c of copies) {
    const list = outbox.get(String(c.recipientId)) ?? [];
    list.push(c.status ?? 'pending');
    outbox.set(String(c.recipientId), list);
  }
  const people = await db.models.Person.find(
    { _id: { $in: receipts.flatMap((r) => [r.parentId, r.studentId]) } },
    { firstName: 1, lastName: 1 },
  ).lean();
  const nameOf = new Map(people.map((p) => [String(p._id), `${p.lastName} ${p.firstName}`]));
  const updates: Array<{ id: Id; status: 'delivered' | 'failed' }> = [];
  const recipients = receipts.map((r) => {
    const statuses = outbox.get(String(r.parentId)) ?? [];
    let state: RecipientState;
    if (r.readAt) state = 'read';
    else if (statuses.includes('sent')) state = 'delivered';
    else if (statuses.length === 0 || statuses.every((s) => s === 'failed' || s === 'dropped' || s === 'cancelled')) state = 'failed';
    else state = 'pending';
    const stored = state === 'read' || state === 'delivered' ? 'delivered' : state === 'failed' ? 'failed' : 'pending';
    if (stored !== r.status && stored !== 'pending') updates.push({ id: r._id, status: stored });
    return {
      parentId: String(r.parentId),
      name: `${nameOf.get(String(r.parentId)) ?? '—'} (${nameOf.get(String(r.studentId)) ?? '—'})`,
      state,
    };
  });
  if (updates.length) {
    await db.models.AnnouncementReceipt.bulkWrite(
      updates.map((u) => ({ updateOne: { filter: { _id: u.id }, update: { $set: { status: u.status } } } })),
      { ordered: false },
    );
  }
  recipients.sort((x, y) => x.name.localeCompare(y.name, 'ru'));
  const count = (s: RecipientState) => recipients.filter((r) => r.state === s).length;
  const { className, groupName } = await header(db, a) as { className: string; groupName?: string };
  return {
    announcementId: String(a._id),
    text: a.text,
    urgent: Boolean(a.urgent),
    className,
    ...(groupName ? { groupName } : {}),
    ...(typeof a.audience?.grade === 'number' ? { grade: a.audience.grade } : {}),
    ...(a.audience?.wholeSchool ? { wholeSchool: true } : {}),
    total: recipients.length,
    read: count('read'),
    delivered: count('read') + count('delivered'),
    pending: count('pending'),
    notDelivered: count('failed'),
    recipients,
  };
}

/** Sends the announcement again to those who have not read it (the sender or the admin). */
export async function remindUnread(db: Db, actor: Actor, announcementId: string, now: Date): Promise<number> {
  const a = await ownAnnouncement(db, actor, announcementId);
  const unread = await db.models.AnnouncementReceipt.find(
    { announcementId: a._id, readAt: { $exists: false } },
    { parentId: 1, studentId: 1 },
  ).lean();
  if (unread.length === 0) return 0;
  const parents = await db.models.Person.find(
    { _id: { $in: unread.map((r) => r.parentId) }, schoolId: a.schoolId },
    { telegramId: 1, active: 1 },
  ).lean();
  const reachable = new Map(
    parents.filter((p) => p.active !== false && typeof p.telegramId === 'number').map((p) => [String(p._id), p.telegramId as number]),
  );
  const copies = unread.flatMap((r) => {
    const telegramId = reachable.get(String(r.parentId));
    return telegramId === undefined ? [] : [{ personId: r.parentId, telegramId, studentId: r.studentId }];
  });
  if (copies.length === 0) return 0;
  const updated = (await db.models.Announcement.findOneAndUpdate(
    { _id: a._id },
    { $inc: { reminders: 1 } },
    { returnDocument: 'after' },
  ).lean()) as AnnouncementDoc | null;
  if (!updated) throw new AccessDenied();
  return publishCopies(db, updated, copies, updated.reminders ?? 1, now);
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
