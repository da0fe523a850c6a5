import type { Types } from 'mongoose';
import type { Db } from '../../db/index.js';
import { CONSENT_VERSION } from '../school/people.js';
import { enqueue, signalOutbox } from './outbox.js';
import { preferencesOf } from './recipients.js';
import { addDays, instantOf, weekStart, zoned } from '../shared/calendar.js';

type Id = Types.ObjectId;

/**
 * Joining mid-year never floods (R23): a parent who joins gets no old events, only this one
 * summary per child of the current period so far (marks and averages by subject, absences).
 * Call it when the person is bound and has accepted the privacy notice (R32) — without consent
 * nothing is queued (returns 0) and it can be called again after consent. Idempotent per binding.
 */
export async function sendJoinSummary(db: Db, personId: Id | string, opts: { now?: Date } = {}): Promise<number> {
  const now = opts.now ?? new Date();
  const { Person, Guardianship, School, Account } = db.models;
  const person = await Person.findById(personId, {
    schoolId: 1,
    roles: 1,
    telegramId: 1,
    boundAt: 1,
    consent: 1,
    active: 1,
  }).lean();
  if (!person || typeof person.telegramId !== 'number' || person.active === false) return 0;
  if ((person.consent?.version ?? 0) < CONSENT_VERSION || !person.consent?.acceptedAt) return 0;
  const account = await Account.findOne({ telegramId: person.telegramId }, { chatStatus: 1 }).lean();
  if (account?.chatStatus === 'blocked') return 0;
  const children: Id[] = [];
  if (person.roles.includes('parent')) {
    const links = await Guardianship.find({ schoolId: person.schoolId, parentId: person._id }, { studentId: 1 }).lean();
    children.push(...links.map((l) => l.studentId));
  }
  if (person.roles.includes('student')) children.push(person._id);
  if (children.length === 0) return 0;
  const school = await School.findById(person.schoolId, { botKey: 1 }).lean();
  const binding = person.boundAt?.getTime() ?? 0;
  let created = 0;
  for (const studentId of children) {
    const result = await enqueue(db, {
      key: `join:${person._id}:${studentId}:${binding}`,
      schoolId: person.schoolId,
      botKey: school?.botKey,
      chatId: person.telegramId,
      recipientId: person._id,
      studentId,
      kind: 'joinSummary',
      priority: 'normal',
      notBefore: now,
    });
    if (result === 'created') created++;
  }
  if (created > 0) signalOutbox(db);
  return created;
}

const LAST_RUN_PREFIX = 'digest:lastRun:';
const FIRST_RUN_LOOKBACK_MS = 60 * 60_000;

/**
 * The weekly digest per child (R25) at the time each family member picked (default Sunday 18:00,
 * the school's time). Run often (a job every few minutes): each run queues the digests whose slot
 * fell between the previous run and now; keys make a repeated run add nothing.
 */
export async function queueWeeklyDigests(db: Db, now: Date): Promise<number> {
  const { School, ConversationState } = db.models;
  const schools = await School.find({}, { timezone: 1, botKey: 1 }).lean();
  let total = 0;
  for (const school of schools) {
    const stateId = `${LAST_RUN_PREFIX}${school._id}`;
    const state = await ConversationState.findById(stateId, { value: 1 }).lean();
    const last = typeof state?.value === 'number' ? new Date(state.value) : new Date(now.getTime() - FIRST_RUN_LOOKBACK_MS);
    if (last < now) total += await queueSchoolDigests(db, school, last, now);
    await ConversationState.updateOne(
      { _id: stateId },
      { $set: { value: now.getTime(), updatedAt: now } },
      { upsert: true },
    );
  }
  if (total > 0) signalOutbox(db);
  return total;
}

async function queueSchoolDigests(
  db: Db,
  school: { _id: Id; timezone: string; botKey?: string | null },
  after: Date,
  until: Date,
): Promise<number> {
  const { Person, Guardianship, Account } = db.models;
  const readers = await Person.find(
    { schoolId: school._id, roles: { $in: ['parent', 'student'] }, telegramId: { $ne: null } },
    { roles: 1, telegramId: 1, consent: 1, active: 1 },
  ).lean();
  const eligible = readers.filter(
    (p) => p.active !== false && (p.consent?.version ?? 0) >= CONSENT_VERSION && Boolean(p.consent?.acceptedAt),
  );
  if (eligible.length === 0) return 0;
  const blocked = new Set(
    (
      await Account.find(
        { telegramId: { $in: eligible.map((p) => p.telegramId as number) }, chatStatus: 'blocked' },
        { telegramId: 1 },
      ).lean()
    ).map((a) => a.telegramId),
  );
  const byId = new Map(eligible.filter((p) => !blocked.has(p.telegramId as number)).map((p) => [String(p._id), p]));
  const links = await Guardianship.find({ schoolId: school._id }, { parentId: 1, studentId: 1 }).lean();
  const pairs: Array<{ personId: Id; studentId: Id; telegramId: number }> = [];
  for (const l of links) {
    const p = byId.get(String(l.parentId));
    if (p?.roles.includes('parent')) pairs.push({ personId: p._id, studentId: l.studentId, telegramId: p.telegramId as number });
  }
  for (const p of byId.values()) {
    if (p.roles.includes('student')) pairs.push({ personId: p._id, studentId: p._id, telegramId: p.telegramId as number });
  }
  const prefs = await preferencesOf(db, pairs);
  // The slots of this week and the last (a run just after midnight on Monday still sees Sunday's).
  const today = zoned(until, school.timezone).date;
  const mondays = [weekStart(today), addDays(weekStart(today), -7)];
  let created = 0;
  for (const pair of pairs) {
    const d = prefs.get(`${pair.personId}|${pair.studentId}`)?.digest;
    if (!d || d.weekday < 1 || d.weekday > 7) continue;
    for (const monday of mondays) {
      const date = addDays(monday, d.weekday - 1);
      const slot = instantOf(date, d.hour * 60, school.timezone);
      if (slot <= after || slot > until) continue;
      const result = await enqueue(db, {
        key: `digest:${pair.personId}:${pair.studentId}:${date}`,
        schoolId: school._id,
        botKey: school.botKey,
        chatId: pair.telegramId,
        recipientId: pair.personId,
        studentId: pair.studentId,
        kind: 'digest',
        priority: 'low',
        notBefore: slot,
      });
      if (result === 'created') created++;
    }
  }
  return created;
}
