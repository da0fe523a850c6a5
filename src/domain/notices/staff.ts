import type { Types } from 'mongoose';
import type { Db } from '../../db/index.js';
import { cachedSchool } from '../../db/school-cache.js';
import { enqueue, signalOutbox } from './outbox.js';

type Id = Types.ObjectId;

/** What a staff reminder is about (plain data); the notify layer words it at send time. */
export type StaffReminder =
  | {
      kind: 'attendanceReminder';
      payload: { lessonId: string; lessonNo?: number | null; start?: string; end?: string; className: string; subject: string };
    }
  | {
      /** R15: period marks still missing while the window is open (one a day). */
      kind: 'periodMarksReminder';
      payload: {
        items: Array<{ className: string; groupName?: string; subject: string; periodCode: string; missing: number; closesOn: string }>;
      };
    }
  | {
      kind: 'endOfDay';
      payload: {
        date: string;
        lessons: Array<{ lessonNo?: number | null; className: string; subject: string; missing: string[] }>;
      };
    };

/**
 * A reminder to one member of staff (R19), through the same outbox as the families' messages
 * (rate limits, blocked chats, the recipient's language). `key` makes it idempotent.
 * 'unreachable': no chat with the bot, no longer at the school, or the bot is blocked.
 */
export async function remindStaff(
  db: Db,
  input: StaffReminder & { key: string; schoolId: Id; personId: Id; at: Date },
): Promise<'queued' | 'unreachable'> {
  const person = await db.models.Person.findById(input.personId, { telegramId: 1, active: 1 }).lean();
  if (typeof person?.telegramId !== 'number' || person.active === false) return 'unreachable';
  const account = await db.models.Account.findOne({ telegramId: person.telegramId }, { chatStatus: 1 }).lean();
  if (account?.chatStatus === 'blocked') return 'unreachable';
  const school = await cachedSchool(db, input.schoolId);
  await enqueue(db, {
    key: input.key,
    schoolId: input.schoolId,
    botKey: school?.botKey,
    chatId: person.telegramId,
    recipientId: input.personId,
    kind: input.kind,
    payload: input.payload,
    // Through the families' quiet hours: the job keeps staff hours itself (not after 21:00).
    priority: 'urgent',
    notBefore: input.at,
  });
  signalOutbox(db);
  return 'queued';
}
