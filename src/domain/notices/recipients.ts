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

type RecipientPerson = {
  _id: Id;
  schoolId: Id;
  telegramId?: number | null;
  boundAt?: Date | null;
  consent?: { version?: number | null; acceptedAt?: Date | null } | null;
  roles: string[];
  active?: boolean | null;
  /** Accounts of this Telegram id that blocked the bot (empty or one). */
  blocked: unknown[];
};

const PERSON_FIELDS = { schoolId: 1, telegramId: 1, boundAt: 1, consent: 1, roles: 1, active: 1 } as const;
/** Whether the person's Telegram account blocked the bot, in the same round trip. */
const blockedLookup = {
  $lookup: {
    from: 'accounts',
    let: { tg: '$telegramId' },
    pipeline: [{ $match: { chatStatus: 'blocked', $expr: { $eq: ['$telegramId', '$$tg'] } } }, { $project: { _id: 1 } }],
    as: 'blocked',
  },
};

/**
 * One round trip (issue 12: round trips per tap): the students, their guardianships in the
 * school, each guardian, and whether each one's Telegram account blocked the bot — what used to be
 * three queries (guardianships, persons, accounts). Equality matches inside `$lookup` pipelines
 * use the indexes on a real MongoDB (5.0+).
 */
export async function familyRecipients(db: Db, schoolId: Id, studentIds: Id[], at: Date): Promise<Recipient[]> {
  if (studentIds.length === 0) return [];
  const rows = await db.models.Person.aggregate<RecipientPerson & { links: Array<{ parent: RecipientPerson[] }> }>([
    { $match: { _id: { $in: studentIds } } },
    { $project: PERSON_FIELDS },
    blockedLookup,
    {
      $lookup: {
        from: 'guardianships',
        let: { sid: '$_id' },
        pipeline: [
          { $match: { schoolId, $expr: { $eq: ['$studentId', '$$sid'] } } },
          { $project: { _id: 0, parentId: 1 } },
          {
            $lookup: {
              from: 'persons',
              let: { pid: '$parentId' },
              pipeline: [{ $match: { $expr: { $eq: ['$_id', '$$pid'] } } }, { $project: PERSON_FIELDS }, blockedLookup],
              as: 'parent',
            },
          },
        ],
        as: 'links',
      },
    },
  ]);
  const eligible = (p: RecipientPerson | undefined): p is RecipientPerson & { telegramId: number } =>
    p !== undefined &&
    String(p.schoolId) === String(schoolId) &&
    typeof p.telegramId === 'number' &&
    p.active !== false &&
    (p.consent?.version ?? 0) >= CONSENT_VERSION &&
    Boolean(p.consent?.acceptedAt) &&
    (!p.boundAt || p.boundAt <= at) &&
    p.blocked.length === 0;
  // In the order the callers expect: every parent of every student, then the students themselves.
  const byStudent = new Map(rows.map((r) => [String(r._id), r]));
  const out: Recipient[] = [];
  for (const sid of studentIds) {
    for (const link of byStudent.get(String(sid))?.links ?? []) {
      const p = link.parent[0];
      if (eligible(p) && p.roles.includes('parent')) out.push({ personId: p._id, telegramId: p.telegramId, studentId: sid, relation: 'parent' });
    }
  }
  for (const sid of studentIds) {
    const p = byStudent.get(String(sid));
    if (eligible(p) && p.roles.includes('student')) out.push({ personId: p._id, telegramId: p.telegramId, studentId: sid, relation: 'self' });
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
