import type { Types } from 'mongoose';
import type { Db } from '../db/index.js';
import { enqueue, signalOutbox } from '../domain/notices/outbox.js';

type Id = Types.ObjectId;

/**
 * Telegram answered 403: the user blocked the bot. The account becomes `blocked` (the locale
 * middleware makes it active again when the user writes), and — once per blocking, by whoever
 * made the transition — each child's class teacher is told that this family no longer receives
 * messages, so the school can reach it another way (R25: on paper).
 * Returns whether this call made the transition.
 */
export async function markChatBlocked(db: Db, telegramId: number, now: Date): Promise<boolean> {
  const { Account } = db.models;
  let changed = false;
  try {
    const before = await Account.findOneAndUpdate(
      { telegramId, chatStatus: { $ne: 'blocked' } },
      { $set: { chatStatus: 'blocked', blockedAt: now }, $setOnInsert: { telegramId } },
      { upsert: true, returnDocument: 'before' },
    ).lean();
    // before === null: no account existed and the upsert created it blocked — a transition too.
    changed = before === null || before.chatStatus !== 'blocked';
  } catch (e) {
    if ((e as { code?: number }).code !== 11000) throw e;
    changed = false; // already blocked: someone else told the teachers
  }
  if (changed) await tellClassTeachers(db, telegramId, now);
  return changed;
}

async function tellClassTeachers(db: Db, telegramId: number, now: Date): Promise<void> {
  const { Person, Guardianship, SchoolClass, Account } = db.models;
  const persons = await Person.find(
    { telegramId, roles: { $in: ['parent', 'student'] } },
    { schoolId: 1, roles: 1, student: 1 },
  ).lean();
  let written = 0;
  for (const p of persons) {
    const children: Array<{ studentId: Id }> = p.roles.includes('parent')
      ? await Guardianship.find({ schoolId: p.schoolId, parentId: p._id }, { studentId: 1 }).lean()
      : [];
    if (p.roles.includes('student')) children.push({ studentId: p._id });
    for (const { studentId } of children) {
      const student = await Person.findOne({ _id: studentId, schoolId: p.schoolId }, { student: 1 }).lean();
      const classId = student?.student?.classId;
      if (!classId) continue;
      const cls = await SchoolClass.findOne({ _id: classId, schoolId: p.schoolId }, { classTeacherId: 1 }).lean();
      if (!cls?.classTeacherId) continue;
      const teacher = await Person.findOne(
        { _id: cls.classTeacherId, schoolId: p.schoolId, telegramId: { $ne: null }, active: { $ne: false } },
        { telegramId: 1 },
      ).lean();
      if (typeof teacher?.telegramId !== 'number' || teacher.telegramId === telegramId) continue;
      const account = await Account.findOne({ telegramId: teacher.telegramId }, { chatStatus: 1 }).lean();
      if (account?.chatStatus === 'blocked') continue;
      const school = await db.models.School.findById(p.schoolId, { botKey: 1 }).lean();
      await enqueue(db, {
        key: `blocked:${p._id}:${studentId}:${now.getTime()}`,
        schoolId: p.schoolId,
        botKey: school?.botKey,
        chatId: teacher.telegramId,
        recipientId: teacher._id,
        studentId,
        kind: 'familyBlocked',
        payload: { parentId: String(p._id) },
        priority: 'low',
        notBefore: now,
      });
      written++;
    }
  }
  if (written > 0) signalOutbox(db);
}
