import type { Types } from 'mongoose';
import type { Db } from '../../../db/index.js';
import type { Role } from '../../shared/vocabulary.js';
import { DomainError } from '../../shared/errors.js';
import { type Actor, systemActor } from '../actor.js';
import { appendAudit } from '../audit.js';
import { hashInviteCode } from './code.js';
import { tellOldAccount } from './rebind-notice.js';

/** Redeeming an invite: the code binds the invited person to this Telegram account (R2, R3). */

/** Brute-force guard per Telegram account: 5 wrong codes within 15 minutes block the account for 15 minutes. */
export const INVITE_THROTTLE = { maxFailures: 5, windowMs: 15 * 60_000, blockMs: 15 * 60_000 } as const;

const CODE_FORMAT = /^[A-Za-z0-9_-]{16,64}$/;

export interface RedeemInput {
  telegramId: number;
  firstName: string;
  lastName?: string;
  code: string;
  now: Date;
}

export interface Redemption {
  personId: string;
  schoolId: string;
  role: Role;
  /** The person existed and was bound to another account before: that account lost it (R3). */
  rebound: boolean;
  /** The account had redeemed this very invite before: nothing changed. */
  alreadyJoined: boolean;
}

const minutesUntil = (until: Date, now: Date) => Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 60_000));

/** Refuses while the account is blocked for too many wrong codes (even a correct code). */
async function assertNotThrottled(db: Db, telegramId: number, now: Date): Promise<void> {
  const t = await db.models.InviteThrottle.findOne({ telegramId }, { blockedUntil: 1 }).lean();
  if (t?.blockedUntil && t.blockedUntil > now) {
    throw new DomainError('invite.throttled', { minutes: minutesUntil(t.blockedUntil, now) });
  }
}

/**
 * Counts a failed attempt and blocks after too many in the window. Single-document atomic steps:
 * `$inc` inside a live window, else start a new window (upsert on the unique telegramId).
 */
async function countFailure(db: Db, telegramId: number, now: Date): Promise<{ blockedUntil?: Date }> {
  const { InviteThrottle } = db.models;
  const windowFrom = new Date(now.getTime() - INVITE_THROTTLE.windowMs);
  let doc = await InviteThrottle.findOneAndUpdate(
    { telegramId, windowStart: { $gt: windowFrom } },
    { $inc: { failures: 1 } },
    { returnDocument: 'after' },
  ).lean();
  if (!doc) {
    try {
      doc = await InviteThrottle.findOneAndUpdate(
        { telegramId },
        { $set: { windowStart: now, failures: 1 }, $unset: { blockedUntil: 1 } },
        { upsert: true, returnDocument: 'after' },
      ).lean();
    } catch (e) {
      if ((e as { code?: number }).code !== 11000) throw e;
      doc = await InviteThrottle.findOneAndUpdate({ telegramId }, { $inc: { failures: 1 } }, { returnDocument: 'after' }).lean();
    }
  }
  if (doc && (doc.failures ?? 0) >= INVITE_THROTTLE.maxFailures) {
    const blockedUntil = new Date(now.getTime() + INVITE_THROTTLE.blockMs);
    await InviteThrottle.updateOne({ telegramId }, { $set: { blockedUntil } });
    return { blockedUntil };
  }
  return {};
}

/** Fails the attempt: counts it, and when that blocks the account says so instead. */
async function refuse(db: Db, input: RedeemInput, key: string): Promise<never> {
  const { blockedUntil } = await countFailure(db, input.telegramId, input.now);
  if (blockedUntil) throw new DomainError('invite.throttled', { minutes: minutesUntil(blockedUntil, input.now) });
  throw new DomainError(key);
}

/**
 * Binds the invited person to this Telegram account (R2, R3). Single use: the invite is claimed
 * with one atomic findOneAndUpdate, so two presses (or two accounts) cannot both redeem it.
 * A person bound to another account moves to this one (a new invite is the only way to move);
 * an account with persons already keeps them and gains this one (a teacher who is also a parent).
 */
export async function redeemInvite(db: Db, input: RedeemInput): Promise<Redemption> {
  const { Invite, Person, Account } = db.models;
  const { telegramId, now } = input;
  await assertNotThrottled(db, telegramId, now);
  const code = input.code.trim();
  if (!CODE_FORMAT.test(code)) return refuse(db, input, 'invite.unknown');
  const invite = await Invite.findOne({ codeHash: hashInviteCode(code) }).lean();
  if (!invite) return refuse(db, input, 'invite.unknown');
  if (invite.usedAt) {
    // The same account pressing its link again is harmless — unless a newer invite moved the person away.
    const stillOurs =
      invite.usedByTelegramId === telegramId &&
      invite.personId &&
      (await Person.exists({ _id: invite.personId, telegramId, active: { $ne: false } }));
    if (stillOurs && invite.personId) {
      return {
        personId: String(invite.personId),
        schoolId: String(invite.schoolId),
        role: invite.role as Role,
        rebound: false,
        alreadyJoined: true,
      };
    }
    return refuse(db, input, 'invite.used');
  }
  if (invite.revokedAt) return refuse(db, input, 'invite.revoked');
  if (invite.expiresAt <= now) return refuse(db, input, 'invite.expired');
  const person = invite.personId
    ? await Person.findOne({ _id: invite.personId, schoolId: invite.schoolId }, { telegramId: 1, active: 1 }).lean()
    : null;
  if (invite.personId && (!person || person.active === false)) return refuse(db, input, 'invite.revoked');

  const claimed = await Invite.findOneAndUpdate(
    { _id: invite._id, usedAt: null, revokedAt: null, expiresAt: { $gt: now } },
    { $set: { usedAt: now, usedByTelegramId: telegramId } },
    { returnDocument: 'after' },
  ).lean();
  if (!claimed) return refuse(db, input, 'invite.used');

  const role = invite.role as Role;
  let personId: Types.ObjectId;
  let previousTelegramId: number | undefined;
  if (invite.personId) {
    personId = invite.personId;
    previousTelegramId = person?.telegramId ?? undefined;
    // Another account takes the person over (a re-bind, issue 11): its user has not seen the
    // privacy notice, so the consent starts over (R32, 152-FZ), like anyone's first join.
    const moved = previousTelegramId !== undefined && previousTelegramId !== telegramId;
    await Person.updateOne(
      { _id: personId, schoolId: invite.schoolId },
      moved ? { $set: { telegramId, boundAt: now }, $unset: { consent: 1 } } : { $set: { telegramId, boundAt: now } },
    );
    if (moved && previousTelegramId !== undefined) {
      const notice = { schoolId: invite.schoolId, personId, chatId: previousTelegramId, inviteId: invite._id, now };
      await tellOldAccount(db, { ...notice, stage: 'moved' });
    }
  } else {
    personId = await bindRoleOnlyInvite(db, invite._id, invite.schoolId, role, input);
  }
  await Account.findOneAndUpdate(
    { telegramId },
    { $set: { currentPersonId: personId }, $setOnInsert: { telegramId } },
    { upsert: true },
  );
  const rebound = previousTelegramId !== undefined && previousTelegramId !== telegramId;
  // The one redeeming acts as the person the invite binds, in the role it grants.
  const redeemer: Actor = { ...systemActor(invite.schoolId, 'cli'), via: 'bot', personId, roles: new Set([role]) };
  await appendAudit(db, redeemer, now, {
    action: 'invite.redeem',
    entity: { type: 'Person', id: personId },
    before: { bound: previousTelegramId !== undefined },
    after: { inviteId: invite._id, role, bound: true, rebound },
  });
  return { personId: String(personId), schoolId: String(invite.schoolId), role, rebound, alreadyJoined: false };
}

/** The first admin of a new school: the person is created from the Telegram name (or reused). */
async function bindRoleOnlyInvite(
  db: Db,
  inviteId: Types.ObjectId,
  schoolId: Types.ObjectId,
  role: Role,
  input: RedeemInput,
): Promise<Types.ObjectId> {
  const { Person } = db.models;
  const existing = await Person.findOneAndUpdate(
    { schoolId, telegramId: input.telegramId },
    { $addToSet: { roles: role }, $set: { active: true } },
    { returnDocument: 'after', projection: { _id: 1 } },
  ).lean();
  if (existing) return existing._id;
  const firstName = input.firstName.trim() || '—';
  const created = await Person.create({
    schoolId,
    externalId: `tg-${role}-${String(inviteId)}`,
    firstName,
    lastName: input.lastName?.trim() || '—',
    roles: [role],
    telegramId: input.telegramId,
    boundAt: input.now,
  });
  return created._id;
}
