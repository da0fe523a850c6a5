import type { Types } from 'mongoose';
import type { Db } from '../../db/index.js';
import type { AnnouncementDoc } from '../../db/models/announcements.js';
import type { Actor } from '../school/actor.js';
import { toObjectId } from '../school/people.js';
import { AccessDenied } from '../shared/errors.js';
import { announcementHeader, copiesFor, copyKey, publishCopies, reachableParents } from './announcements.js';

/**
 * What became of an announcement (issue 6, R24): the parent records the read; the sender (or the
 * admin) sees who got it and who read it, and reminds those who have not.
 */
type Id = Types.ObjectId;

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

/** `notConnected`: the parent never joined the bot, so no copy could be sent (issue 11) — not a failed delivery. */
export type RecipientState = 'read' | 'delivered' | 'pending' | 'failed' | 'notConnected';

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
  notConnected: number;
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
    { firstName: 1, lastName: 1, telegramId: 1 },
  ).lean();
  const connected = new Set(people.filter((p) => typeof p.telegramId === 'number').map((p) => String(p._id)));
  const nameOf = new Map(people.map((p) => [String(p._id), `${p.lastName} ${p.firstName}`]));
  const updates: Array<{ id: Id; status: 'delivered' | 'failed' }> = [];
  const recipients = receipts.map((r) => {
    const statuses = outbox.get(String(r.parentId)) ?? [];
    let state: RecipientState;
    if (r.readAt) state = 'read';
    else if (statuses.includes('sent')) state = 'delivered';
    else if (statuses.length === 0 && !connected.has(String(r.parentId))) state = 'notConnected';
    else if (statuses.length === 0 || statuses.every((s) => s === 'failed' || s === 'dropped' || s === 'cancelled')) state = 'failed';
    else state = 'pending';
    const stored = state === 'read' || state === 'delivered' ? 'delivered' : state === 'failed' ? 'failed' : 'pending';
    if (stored !== r.status && stored !== 'pending' && state !== 'notConnected') updates.push({ id: r._id, status: stored });
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
  const { className, groupName } = (await announcementHeader(db, a)) as { className: string; groupName?: string };
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
    notConnected: count('notConnected'),
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
  const reachable = await reachableParents(db, a.schoolId, unread.map((r) => r.parentId));
  const copies = copiesFor(unread, reachable);
  if (copies.length === 0) return 0;
  const updated = (await db.models.Announcement.findOneAndUpdate(
    { _id: a._id },
    { $inc: { reminders: 1 } },
    { returnDocument: 'after' },
  ).lean()) as AnnouncementDoc | null;
  if (!updated) throw new AccessDenied();
  return publishCopies(db, updated, copies, updated.reminders ?? 1, now);
}
