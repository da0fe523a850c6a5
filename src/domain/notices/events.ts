import { cachedSchool } from '../../db/school-cache.js';
import type { Types } from 'mongoose';
import type { Db } from '../../db/index.js';
import type { NoticeKind, PrefKind, Priority } from '../shared/vocabulary.js';
import { enqueue, enqueueMany, type Notice, signalOutbox } from './outbox.js';
import { familyRecipients, preferencesOf, type Recipient } from './recipients.js';
import { quietUntil } from './quiet-hours.js';
import { STUDYING_STATUS } from '../shared/vocabulary.js';
import { settingsOf } from '../school/rules.js';

/**
 * Journal events that families are told about (R23). The journal's use cases call `publishEvent`
 * right after they save; it turns an event into outbox messages for each recipient
 * (one document per event and recipient, under a unique idempotency key), and the delivery worker
 * sends them.
 *
 * What a message says is decided at send time from the journal as it is then (the mark's final
 * value, whether the absence still stands) and from what the recipient was told before, so a mark
 * corrected inside the grace window is one message with the final value, and a mark deleted inside
 * it is no message at all.
 *
 * publishEvent throws if the outbox cannot be written: the use case then fails after its save, and
 * the teacher's retry (idempotent on the journal side, and here by key) publishes again.
 */
type Id = Types.ObjectId;
export type JournalEvent =
  | { kind: 'mark.created' | 'mark.changed' | 'mark.deleted'; schoolId: Id; studentId: Id; markId: Id; lessonId: Id; at: Date }
  | { kind: 'absence.marked' | 'absence.cleared' | 'absence.reason'; schoolId: Id; studentId: Id; lessonId: Id; at: Date }
  | { kind: 'homework.posted'; schoolId: Id; lessonId: Id; at: Date }
  | { kind: 'periodMark.set'; schoolId: Id; studentId: Id; periodMarkId: Id; at: Date };

interface SchoolRules {
  timezone: string;
  quietHours?: { from?: string | null; to?: string | null } | null;
  graceMs: number;
  botKey?: string | null;
}

async function schoolRules(db: Db, schoolId: Id): Promise<SchoolRules | undefined> {
  const school = await cachedSchool(db, schoolId);
  if (!school) return undefined;
  return {
    timezone: school.timezone,
    quietHours: school.settings?.quietHours,
    graceMs: settingsOf(school).markGraceMinutes * 60_000,
    botKey: school.botKey,
  };
}

/** When a message may go: after the grace window, and not in quiet hours unless urgent. */
export function dueAt(at: Date, rules: Pick<SchoolRules, 'timezone' | 'quietHours'>, graceMs: number, priority: Priority): Date {
  const due = new Date(at.getTime() + graceMs);
  if (priority === 'urgent') return due;
  return quietUntil(due, rules.timezone, rules.quietHours) ?? due;
}

interface Plan {
  kind: NoticeKind;
  pref: PrefKind;
  studentIds: Id[];
  /** The thing, per recipient: `${collapse}:${personId}`. */
  collapse: (r: Recipient) => string;
  ref: Notice['ref'];
  graceMs: number;
  priority: Priority;
  /** Creation happens once per thing: its key does not depend on the time. */
  once: boolean;
}

async function planOf(db: Db, event: JournalEvent, rules: SchoolRules): Promise<Plan | undefined> {
  switch (event.kind) {
    case 'mark.created':
    case 'mark.changed':
    case 'mark.deleted':
      return {
        kind: 'mark',
        pref: 'mark',
        studentIds: [event.studentId],
        collapse: (r) => `mark:${event.markId}:${r.personId}`,
        ref: { markId: event.markId, lessonId: event.lessonId },
        graceMs: rules.graceMs,
        priority: 'normal',
        once: event.kind === 'mark.created',
      };
    case 'absence.marked':
    case 'absence.cleared':
    case 'absence.reason':
      // Absences go out at once: a parent may need to know now where the child is.
      return {
        kind: 'absence',
        pref: 'absence',
        studentIds: [event.studentId],
        collapse: (r) => `abs:${event.lessonId}:${event.studentId}:${r.personId}`,
        ref: { lessonId: event.lessonId },
        graceMs: 0,
        priority: 'normal',
        once: false,
      };
    case 'periodMark.set':
      return {
        kind: 'periodMark',
        pref: 'periodMark',
        studentIds: [event.studentId],
        collapse: (r) => `pm:${event.periodMarkId}:${r.personId}`,
        ref: { periodMarkId: event.periodMarkId },
        graceMs: rules.graceMs,
        priority: 'normal',
        once: false,
      };
    case 'homework.posted': {
      const studentIds = await studentsOfLesson(db, event.schoolId, event.lessonId);
      return {
        kind: 'homework',
        pref: 'homework',
        studentIds,
        collapse: (r) => `hw:${event.lessonId}:${r.studentId}:${r.personId}`,
        ref: { lessonId: event.lessonId },
        graceMs: rules.graceMs,
        priority: 'low',
        once: false,
      };
    }
  }
}

async function studentsOfLesson(db: Db, schoolId: Id, lessonId: Id): Promise<Id[]> {
  const lesson = await db.models.Lesson.findOne({ _id: lessonId, schoolId }, { classId: 1, groupId: 1 }).lean();
  if (!lesson) return [];
  if (lesson.groupId) {
    const group = await db.models.Group.findOne({ _id: lesson.groupId, schoolId }, { studentIds: 1 }).lean();
    return group?.studentIds ?? [];
  }
  const students = await db.models.Person.find(
    { schoolId, roles: 'student', 'student.classId': lesson.classId, 'student.status': STUDYING_STATUS },
    { _id: 1 },
  ).lean();
  return students.map((s) => s._id);
}

export async function publishEvent(db: Db, event: JournalEvent): Promise<void> {
  await publishEvents(db, [event]);
}

/**
 * Several events of one save (an attendance sheet's absences): the families of all their students
 * are read once (issue 12: round trips per tap), then each event is planned and written as
 * `publishEvent` would, under the same keys.
 */
export async function publishEvents(db: Db, events: readonly JournalEvent[]): Promise<void> {
  const first = events[0];
  if (!first) return;
  const rules = await schoolRules(db, first.schoolId);
  if (!rules) return;
  const plans: Array<{ event: JournalEvent; plan: Plan }> = [];
  for (const event of events) {
    if (String(event.schoolId) !== String(first.schoolId)) throw new Error('publishEvents: one school at a time');
    const plan = await planOf(db, event, rules);
    if (plan && plan.studentIds.length > 0) plans.push({ event, plan });
  }
  // One read of the families per moment (a save's events share theirs): a recipient must have been
  // bound before the event (joining mid-year never floods), as familyRecipients checks.
  let written = 0;
  for (const at of new Set(plans.map((p) => p.event.at.getTime()))) {
    const batch = plans.filter((p) => p.event.at.getTime() === at);
    const studentIds = [...new Map(batch.flatMap((p) => p.plan.studentIds).map((id) => [String(id), id])).values()];
    const everyone = await familyRecipients(db, first.schoolId, studentIds, new Date(at));
    if (everyone.length === 0) continue;
    const prefs = await preferencesOf(db, everyone);
    for (const { event, plan } of batch) {
      const ofPlan = new Set(plan.studentIds.map(String));
      const recipients = everyone.filter((r) => ofPlan.has(String(r.studentId)));
      written += await enqueuePlan(db, event, plan, rules, recipients, prefs);
    }
  }
  if (written > 0) signalOutbox(db);
}

async function enqueuePlan(
  db: Db,
  event: JournalEvent,
  plan: Plan,
  rules: SchoolRules,
  recipients: Recipient[],
  prefs: Awaited<ReturnType<typeof preferencesOf>>,
): Promise<number> {
  const notBefore = dueAt(event.at, rules, plan.graceMs, plan.priority);
  let written = 0;
  for (const r of recipients) {
    // 'digest': the weekly digest reads the journal itself; 'off': nothing.
    if (prefs.get(`${r.personId}|${r.studentId}`)?.modes[plan.pref] !== 'instant') continue;
    const collapseKey = plan.collapse(r);
    await enqueue(db, {
      key: plan.once ? `${collapseKey}:${event.kind}` : `${collapseKey}:${event.kind}:${event.at.getTime()}`,
      collapseKey,
      schoolId: event.schoolId,
      botKey: rules.botKey,
      chatId: r.telegramId,
      recipientId: r.personId,
      studentId: r.studentId,
      kind: plan.kind,
      ref: plan.ref,
      event: event.kind,
      priority: plan.priority,
      notBefore,
    }, { fresh: plan.once });
    written++;
  }
  return written;
}

/**
 * A message from the school or a teacher to chosen people (the same outbox: rate limits, quiet
 * hours, blocked chats). `urgent` goes through quiet hours (a school closed for the day).
 * `key` makes it idempotent per recipient.
 */
export async function publishMessage(
  db: Db,
  input: {
    schoolId: Id;
    key: string;
    recipients: Array<{ personId: Id; telegramId: number; studentId?: Id }>;
    text: string;
    title?: string;
    priority?: Priority;
    at: Date;
    /** Kind-specific extras rendered at send time (messaging: threadId, header, file). */
    extra?: Record<string, unknown>;
    /** Not before this (a teacher's office hours): the later of it and the quiet hours' end. */
    notBefore?: Date;
  },
): Promise<number> {
  const rules = await schoolRules(db, input.schoolId);
  if (!rules) return 0;
  const priority = input.priority ?? 'normal';
  const due = dueAt(input.at, rules, 0, priority);
  const notBefore = input.notBefore && input.notBefore > due ? dueAt(input.notBefore, rules, 0, priority) : due;
  // One bulk insert (an announcement to a whole school is hundreds of copies).
  const created = await enqueueMany(
    db,
    input.recipients.map((r) => ({
      key: `msg:${input.key}:${r.personId}`,
      schoolId: input.schoolId,
      botKey: rules.botKey,
      chatId: r.telegramId,
      recipientId: r.personId,
      studentId: r.studentId,
      kind: 'message' as const,
      payload: { ...input.extra, text: input.text, title: input.title },
      priority,
      notBefore,
    })),
  );
  if (created > 0) signalOutbox(db);
  return created;
}

export { schoolRules };
