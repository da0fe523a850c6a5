import type { Types } from 'mongoose';
import type { Db } from '../../db/index.js';
import type { NotifyMode, PrefKind } from '../shared/vocabulary.js';
import { CONSENT_VERSION } from '../school/people.js';

type Id = Types.ObjectId;

/**
 * Who hears about a student (R4, R23): every bound guardian of the student and the student if
 * bound — nobody else. A recipient must have accepted the privacy notice (R32), must not have
 * blocked the bot, and must have been bound before the event (joining mid-year never floods).
 */
export interface Recipient {
  personId: Id;
  telegramId: number;
  studentId: Id;
  /** 'self': the student themself. */
  relation: 'parent' | 'self';
}

export const DEFAULT_MODES: Record<PrefKind, NotifyMode> = {
  mark: 'instant',
  absence: 'instant',
  // Off by default: homework is in the diary, and a message per lesson would be noise.
  homework: 'off',
  periodMark: 'instant',
};

/** Sunday 18:00 by default: the week's marks before the new week starts. */
export const DEFAULT_DIGEST = { weekday: 7, hour: 18 } as const;

export async function familyRecipients(db: Db, schoolId: Id, studentIds: Id[], at: Date): Promise<Recipient[]> {
  if (studentIds.length === 0) return [];
  const { Guardianship, Person, Account } = db.models;
  const links = await Guardianship.find({ schoolId, studentId: { $in: studentIds } }, { parentId: 1, studentId: 1 }).lean();
  const personIds = [...links.map((l) => l.parentId), ...studentIds];
  // By _id only (the other conditions are checked here): an _id lookup on every server.
  const persons = await Person.find(
    { _id: { $in: personIds } },
    { schoolId: 1, telegramId: 1, boundAt: 1, consent: 1, roles: 1, active: 1 },
  ).lean();
  const eligible = persons.filter(
    (p) =>
      String(p.schoolId) === String(schoolId) &&
      typeof p.telegramId === 'number' &&
      p.active !== false &&
      (p.consent?.version ?? 0) >= CONSENT_VERSION &&
      Boolean(p.consent?.acceptedAt) &&
      (!p.boundAt || p.boundAt <= at),
  );
  if (eligible.length === 0) return [];
  const accounts = await Account.find(
    { telegramId: { $in: eligible.map((p) => p.telegramId as number) } },
    { telegramId: 1, chatStatus: 1 },
  ).lean();
  const blocked = new Set(accounts.filter((a) => a.chatStatus === 'blocked').map((a) => a.telegramId));
  const byId = new Map(eligible.filter((p) => !blocked.has(p.telegramId as number)).map((p) => [String(p._id), p]));
  const out: Recipient[] = [];
  for (const l of links) {
    const p = byId.get(String(l.parentId));
    if (p?.roles.includes('parent')) {
      out.push({ personId: p._id, telegramId: p.telegramId as number, studentId: l.studentId, relation: 'parent' });
    }
  }
  for (const sid of studentIds) {
    const p = byId.get(String(sid));
    if (p?.roles.includes('student')) {
      out.push({ personId: p._id, telegramId: p.telegramId as number, studentId: sid, relation: 'self' });
    }
  }
  return out;
}

export interface Preferences {
  modes: Record<PrefKind, NotifyMode>;
  digest: { weekday: number; hour: number };
}

export const prefKey = (personId: Id | string, studentId: Id | string) => `${personId}|${studentId}`;

/** Preferences of (person, student) pairs, defaults filled in. */
export async function preferencesOf(
  db: Db,
  pairs: ReadonlyArray<{ personId: Id; studentId: Id }>,
): Promise<Map<string, Preferences>> {
  const out = new Map<string, Preferences>();
  if (pairs.length === 0) return out;
  const docs = await db.models.NotifyPreference.find(
    { personId: { $in: [...new Set(pairs.map((p) => String(p.personId)))] } },
    { personId: 1, studentId: 1, modes: 1, digest: 1 },
  ).lean();
  const found = new Map(docs.map((d) => [prefKey(d.personId, d.studentId), d]));
  for (const pair of pairs) {
    const key = prefKey(pair.personId, pair.studentId);
    const d = found.get(key);
    out.set(key, {
      modes: {
        mark: d?.modes?.mark ?? DEFAULT_MODES.mark,
        absence: d?.modes?.absence ?? DEFAULT_MODES.absence,
        homework: d?.modes?.homework ?? DEFAULT_MODES.homework,
        periodMark: d?.modes?.periodMark ?? DEFAULT_MODES.periodMark,
      },
      digest: {
        weekday: d?.digest?.weekday ?? DEFAULT_DIGEST.weekday,
        hour: d?.digest?.hour ?? DEFAULT_DIGEST.hour,
      },
    });
  }
  return out;
}
