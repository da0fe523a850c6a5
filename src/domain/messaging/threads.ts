import { Types } from 'mongoose';
import type { Db } from '../../db/index.js';
import type { MessageThreadDoc, ThreadMessageKind } from '../../db/models/messaging.js';
import { publishMessage } from '../notices/events.js';
import { addDays, instantOf, isoWeekday, localDate, parseTime } from '../shared/zoned.js';
import type { Actor } from '../school/actor.js';
import { appendAudit } from '../school/audit.js';
import { AccessDenied, DomainError } from '../shared/errors.js';
import { assertConsent, shortName, toObjectId } from '../school/people.js';

/**
 * Private teacher–family messaging (R3, R24, R31). A thread joins one family member (a parent, or
 * the student themself), one teacher and one child. Who may write to whom follows the timetable's
 * truth: a family writes only to the class teacher or a teacher who teaches the child (teaching
 * load of the child's class or groups); a teacher opens a thread only with the family of a child
 * they teach. Every function checks access itself; the bot only parses and renders.
 *
 * The other side learns of a message through the outbox (rate limits, blocked chats). The header
 * names the sender by role and name ("Mother of Ivanova Anna, 5B", "Teacher of Mathematics
 * Petrova A. I.") — never a phone, a username or a Telegram id.
 */
type Id = Types.ObjectId;

/**
 * What one message may hold so the copy, with its header (at most 200 characters and a new line),
 * fits one Telegram message (4096) or caption (1024): longer is refused, never cut at delivery.
 */
export const MAX_MESSAGE_TEXT = 3800;
export const MAX_MESSAGE_CAPTION = 800;
export const RATE_LIMIT_PER_MINUTE = 20;
export const PAGE_SIZE = 10;

export type Side = 'family' | 'teacher';

export interface MessageContent {
  kind: ThreadMessageKind;
  text?: string;
  fileId?: string;
}

/** An i18n key with its variables: each face renders it in its reader's language. */
export interface Label {
  key: string;
  vars: Record<string, string | string[]>;
}

export interface TeacherOption {
  teacherId: string;
  name: string;
  classTeacher: boolean;
  subjects: string[];
}

// ───────────────────────────── who teaches whom ─────────────────────────────

interface StudentInfo {
  _id: Id;
  firstName: string;
  lastName: string;
  classId?: Id;
}

async function studentOf(db: Db, schoolId: Id, studentId: Id): Promise<StudentInfo | undefined> {
  const s = await db.models.Person.findOne(
    { _id: studentId, schoolId, roles: 'student' },
    { firstName: 1, lastName: 1, student: 1 },
  ).lean();
  if (!s) return undefined;
  return { _id: s._id, firstName: s.firstName, lastName: s.lastName, classId: s.student?.classId ?? undefined };
}

/** Teachers of a student: the class teacher and everyone with teaching load in the class or the student's groups. */
async function teachersOf(db: Db, schoolId: Id, student: StudentInfo): Promise<Map<string, { classTeacher: boolean; subjectIds: Set<string> }>> {
  const out = new Map<string, { classTeacher: boolean; subjectIds: Set<string> }>();
  if (!student.classId) return out;
  const entry = (id: Id) => {
    let e = out.get(String(id));
    if (!e) {
      e = { classTeacher: false, subjectIds: new Set() };
      out.set(String(id), e);
    }
    return e;
  };
  const [cls, groups, load] = await Promise.all([
    db.models.SchoolClass.findOne({ _id: student.classId, schoolId }, { classTeacherId: 1 }).lean(),
    db.models.Group.find({ schoolId, studentIds: student._id }, { _id: 1 }).lean(),
    db.models.TeachingLoad.find({ schoolId, classId: student.classId }, { groupId: 1, subjectId: 1, teacherId: 1 }).lean(),
  ]);
  if (cls?.classTeacherId) entry(cls.classTeacherId).classTeacher = true;
  const myGroups = new Set(groups.map((g) => String(g._id)));
  for (const l of load) {
    if (l.groupId && !myGroups.has(String(l.groupId))) continue;
    entry(l.teacherId).subjectIds.add(String(l.subjectId));
  }
  return out;
}

/** Is the actor the family side for this student: a parent of the child, or the student themself? */
function isFamilyOf(actor: Actor, studentId: Id): boolean {
  const id = String(studentId);
  if (actor.roles.has('parent') && actor.childIds.has(id)) return true;
  return actor.roles.has('student') && String(actor.personId) === id;
}

const initials = (p: { firstName?: string | null; middleName?: string | null }) =>
  [p.firstName, p.middleName].filter(Boolean).map((n) => `${String(n).charAt(0)}.`).join(' ');

/** "Petrova A. I." */
export const teacherName = (p: { lastName: string; firstName?: string | null; middleName?: string | null }) =>
  [p.lastName, initials(p)].filter(Boolean).join(' ');

/** The teachers a parent (or the student) may write to about this child. */
export async function listWritableTeachers(db: Db, actor: Actor, studentId: string): Promise<TeacherOption[]> {
  const sid = toObjectId(studentId);
  if (!actor.personId || !isFamilyOf(actor, sid)) throw new AccessDenied();
  const student = await studentOf(db, actor.schoolId, sid);
  if (!student) throw new AccessDenied();
  const teachers = await teachersOf(db, actor.schoolId, student);
  if (teachers.size === 0) return [];
  const ids = [...teachers.keys()].map((id) => new Types.ObjectId(id));
  const subjectIds = [...new Set([...teachers.values()].flatMap((t) => [...t.subjectIds]))].map((id) => new Types.ObjectId(id));
  const [persons, subjects] = await Promise.all([
    db.models.Person.find({ _id: { $in: ids } }, { schoolId: 1, firstName: 1, lastName: 1, middleName: 1, active: 1 }).lean(),
    db.models.Subject.find({ _id: { $in: subjectIds } }, { name: 1 }).lean(),
  ]);
  const subjectName = new Map(subjects.map((s) => [String(s._id), s.name]));
  return persons
    .filter((p) => String(p.schoolId) === String(actor.schoolId) && p.active !== false)
    .map((p) => {
      const t = teachers.get(String(p._id));
      return {
        teacherId: String(p._id),
        name: teacherName(p),
        classTeacher: t?.classTeacher ?? false,
        subjects: [...(t?.subjectIds ?? [])].map((id) => subjectName.get(id) ?? '—').sort(),
      };
    })
    .sort((a, b) => Number(b.classTeacher) - Number(a.classTeacher) || a.name.localeCompare(b.name, 'ru'));
}

// ───────────────────────────── threads ─────────────────────────────

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
async function threadFor(db: Db, actor: Actor, threadId: string): Promise<{ thread: MessageThreadDoc; side: Side }> {
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
  return labelOf(db, thread, side === 'family' ? 'teacher' : 'family');
}

// ───────────────────────────── labels ─────────────────────────────

async function className(db: Db, classId: Id | undefined): Promise<string> {
  if (!classId) return '—';
  const cls = await db.models.SchoolClass.findById(classId, { name: 1 }).lean();
  return cls?.name ?? '—';
}

/** How one side of a thread is named to the other. */
async function labelOf(db: Db, thread: MessageThreadDoc, side: Side): Promise<Label> {
  const student = await studentOf(db, thread.schoolId, thread.studentId);
  const studentName = student ? `${student.lastName} ${student.firstName}` : '—';
  // What the thread is about: the subjects the teacher teaches the child, or the class teacher's role.
  const info = student ? (await teachersOf(db, thread.schoolId, student)).get(String(thread.teacherId)) : undefined;
  const subjectIds = [...(info?.subjectIds ?? [])];
  const subjects = subjectIds.length
    ? (await db.models.Subject.find({ _id: { $in: subjectIds.map((id) => new Types.ObjectId(id)) } }, { name: 1 }).lean())
        .map((s) => s.name)
        .sort()
    : [];
  // The class teacher is named as such (in a primary class they teach nearly every subject);
  // a subject teacher by at most two subjects.
  const about = info?.classTeacher ? 'Class' : subjects.length > 0 ? 'Subjects' : '';
  const shown = subjects.length > 2 ? [...subjects.slice(0, 2), `+${subjects.length - 2}`] : subjects;
  if (side === 'family') {
    const cls = await className(db, student?.classId);
    if (String(thread.parentId) === String(thread.studentId)) {
      return { key: `messaging.header.student${about}`, vars: { student: studentName, className: cls, subjects: shown } };
    }
    const g = await db.models.Guardianship.findOne(
      { schoolId: thread.schoolId, parentId: thread.parentId, studentId: thread.studentId },
      { relation: 1 },
    ).lean();
    return {
      key: `messaging.header.family${about}`,
      vars: { relation: `messaging.relation.${g?.relation ?? 'guardian'}`, student: studentName, className: cls, subjects: shown },
    };
  }
  const teacher = await db.models.Person.findById(thread.teacherId, { firstName: 1, lastName: 1, middleName: 1 }).lean();
  const name = teacher ? teacherName(teacher) : '—';
  if (info?.classTeacher) return { key: 'messaging.header.classTeacher', vars: { name } };
  if (subjects.length > 0) return { key: 'messaging.header.subjectTeacher', vars: { subjects: shown, name } };
  return { key: 'messaging.header.teacher', vars: { name } };
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
  if (text.length > max) throw new DomainError('messaging.errors.tooLong', { max, length: text.length });
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
  const other: Side = side === 'family' ? 'teacher' : 'family';
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

async function officeHoursHold(db: Db, thread: MessageThreadDoc, now: Date): Promise<{ until: Date; today: string } | undefined> {
  const hours = await db.models.OfficeHours.findOne({ teacherId: thread.teacherId, schoolId: thread.schoolId }).lean();
  if (!hours) return undefined;
  const school = await db.models.School.findById(thread.schoolId, { timezone: 1 }).lean();
  const tz = school?.timezone ?? 'UTC';
  const until = officeHoursStart(now, tz, hours);
  return until ? { until, today: localDate(now, tz) } : undefined;
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

// ───────────────────────────── reading ─────────────────────────────

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
      with: await labelOf(db, thread, side === 'family' ? 'teacher' : 'family'),
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
  const total = await db.models.ThreadMessage.countDocuments({ threadId: thread._id });
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  const p = Math.min(Math.max(0, Math.floor(page)), pages - 1);
  const docs = await db.models.ThreadMessage.find({ threadId: thread._id })
    .sort({ sentAt: -1, _id: -1 })
    .skip(p * PAGE_SIZE)
    .limit(PAGE_SIZE)
    .lean();
  if ((thread.unread?.[side] ?? 0) > 0) {
    await db.models.MessageThread.updateOne({ _id: thread._id }, { $set: { [`unread.${side}`]: 0 } });
  }
  const me = String(actor.personId);
  return {
    threadId: String(thread._id),
    with: await labelOf(db, thread, side === 'family' ? 'teacher' : 'family'),
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

// ───────────────────────────── mute and report (R3, R31) ─────────────────────────────

/**
 * The teacher mutes a thread: the family's messages are still kept (and shown in /inbox) but no
 * longer delivered to the teacher; the family is told so with its next message, once per mute.
 */
export async function setThreadMuted(db: Db, actor: Actor, threadId: string, muted: boolean): Promise<void> {
  const { thread, side } = await threadFor(db, actor, threadId);
  if (side !== 'teacher') throw new AccessDenied();
  await db.models.MessageThread.updateOne(
    { _id: thread._id },
    muted ? { $set: { mutedByTeacher: true }, $unset: { mutedToldAt: 1 } } : { $set: { mutedByTeacher: false }, $unset: { mutedToldAt: 1 } },
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
  const total = await db.models.ThreadMessage.countDocuments({ threadId: thread._id });
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  const p = Math.min(Math.max(0, Math.floor(page)), pages - 1);
  const [docs, family, teacher] = await Promise.all([
    db.models.ThreadMessage.find({ threadId: thread._id }).sort({ sentAt: -1, _id: -1 }).skip(p * PAGE_SIZE).limit(PAGE_SIZE).lean(),
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

// ───────────────────────────── office hours (R3) ─────────────────────────────

export interface OfficeHours {
  weekdays: number[];
  from: string;
  to: string;
}

/** When the teacher's office hours next begin, or undefined when `now` is inside them. */
export function officeHoursStart(now: Date, timeZone: string, hours: OfficeHours): Date | undefined {
  const from = parseTime(hours.from, -1);
  const to = parseTime(hours.to, -1);
  if (from < 0 || to <= from || hours.weekdays.length === 0) return undefined;
  const today = localDate(now, timeZone);
  for (let d = 0; d <= 7; d++) {
    const date = addDays(today, d);
    if (!hours.weekdays.includes(isoWeekday(date))) continue;
    const start = instantOf(date, from, timeZone);
    const end = instantOf(date, to, timeZone);
    if (d === 0 && now >= start && now < end) return undefined;
    if (start > now) return start;
  }
  return undefined;
}

/** The teacher's office hours (undefined: none, messages arrive at once). */
export async function getOfficeHours(db: Db, actor: Actor): Promise<OfficeHours | undefined> {
  if (!actor.personId || !actor.roles.has('teacher')) throw new AccessDenied();
  const doc = await db.models.OfficeHours.findOne({ teacherId: actor.personId, schoolId: actor.schoolId }).lean();
  return doc ? { weekdays: [...doc.weekdays], from: doc.from, to: doc.to } : undefined;
}

/** Sets (or with undefined, clears) the teacher's office hours. */
export async function setOfficeHours(db: Db, actor: Actor, hours: OfficeHours | undefined): Promise<void> {
  if (!actor.personId || !actor.roles.has('teacher')) throw new AccessDenied();
  const key = { teacherId: actor.personId };
  if (!hours) {
    await db.models.OfficeHours.deleteOne(key);
    return;
  }
  await db.models.OfficeHours.updateOne(
    key,
    { $set: { schoolId: actor.schoolId, weekdays: hours.weekdays, from: hours.from, to: hours.to } },
    { upsert: true },
  );
}

// ───────────────────────────── teacher-started threads ─────────────────────────────

export interface Option {
  id: string;
  name: string;
}

/** The classes a teacher leads or teaches, by name. */
export async function listTeachingClasses(db: Db, actor: Actor): Promise<Option[]> {
  if (!actor.personId || !actor.roles.has('teacher')) throw new AccessDenied();
  const [led, load] = await Promise.all([
    db.models.SchoolClass.find({ schoolId: actor.schoolId, classTeacherId: actor.personId }, { _id: 1 }).lean(),
    db.models.TeachingLoad.find({ schoolId: actor.schoolId, teacherId: actor.personId }, { classId: 1 }).lean(),
  ]);
  const ids = [...new Set([...led.map((c) => String(c._id)), ...load.map((l) => String(l.classId))])];
  const classes = await db.models.SchoolClass.find(
    { _id: { $in: ids.map((id) => new Types.ObjectId(id)) }, schoolId: actor.schoolId },
    { name: 1 },
  ).lean();
  return classes
    .map((c) => ({ id: String(c._id), name: c.name }))
    .sort((a, b) => a.name.localeCompare(b.name, 'ru', { numeric: true }));
}

/** The students of a class whom the teacher teaches (all of them for its class teacher). */
export async function listTaughtStudents(db: Db, actor: Actor, classId: string): Promise<Option[]> {
  if (!actor.personId || !actor.roles.has('teacher')) throw new AccessDenied();
  const cid = toObjectId(classId);
  const students = await db.models.Person.find(
    { schoolId: actor.schoolId, roles: 'student', 'student.classId': cid, active: { $ne: false } },
    { firstName: 1, lastName: 1, student: 1 },
  ).lean();
  const me = String(actor.personId);
  const out: Option[] = [];
  for (const s of students) {
    const info = { _id: s._id, firstName: s.firstName, lastName: s.lastName, classId: cid };
    if ((await teachersOf(db, actor.schoolId, info)).has(me)) out.push({ id: String(s._id), name: `${s.lastName} ${s.firstName}` });
  }
  if (out.length === 0) throw new AccessDenied();
  return out.sort((a, b) => a.name.localeCompare(b.name, 'ru'));
}

export interface FamilyContact {
  personId: string;
  label: Label;
  /** In the bot (bound to Telegram): only they can receive a message. */
  joined: boolean;
}

export interface FamilyCard {
  student: string;
  className: string;
  contacts: FamilyContact[];
}

/**
 * The student's card as a teacher who teaches them sees it for writing: the class and the
 * guardians by relation and name (never a phone or a Telegram id), each marked joined or not.
 */
export async function listFamilyContacts(db: Db, actor: Actor, studentId: string): Promise<FamilyCard> {
  if (!actor.personId || !actor.roles.has('teacher')) throw new AccessDenied();
  const student = await studentOf(db, actor.schoolId, toObjectId(studentId));
  if (!student) throw new AccessDenied();
  if (!(await teachersOf(db, actor.schoolId, student)).has(String(actor.personId))) throw new AccessDenied();
  const links = await db.models.Guardianship.find({ schoolId: actor.schoolId, studentId: student._id }, { parentId: 1, relation: 1 }).lean();
  const [parents, cls] = await Promise.all([
    db.models.Person.find(
      { _id: { $in: links.map((l) => l.parentId) }, schoolId: actor.schoolId, active: { $ne: false } },
      { firstName: 1, lastName: 1, middleName: 1, telegramId: 1 },
    ).lean(),
    className(db, student.classId),
  ]);
  const byId = new Map(parents.map((p) => [String(p._id), p]));
  const contacts: FamilyContact[] = [];
  for (const l of links) {
    const p = byId.get(String(l.parentId));
    if (!p) continue;
    contacts.push({
      personId: String(p._id),
      label: { key: 'messaging.teacherWrite.contact', vars: { relation: `messaging.relation.${l.relation ?? 'guardian'}`, name: teacherName(p) } },
      joined: typeof p.telegramId === 'number',
    });
  }
  return { student: `${student.lastName} ${student.firstName}`, className: cls, contacts };
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
