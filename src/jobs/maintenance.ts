import { DRAFT_PREFIXES } from '../bot/drafts.js';
import type { Db } from '../db/index.js';

/**
 * House-keeping of short-lived rows (no TTL indexes on the stand-in: expiry is a job, see
 * docs/mongodb.md). Each rule deletes only what no code path can use any more:
 *  - invite throttles: the 15-minute window and any block are long over (R2);
 *  - send rates: nobody wrote for an hour, so no slot of the last minute is in them (R3);
 *  - pending drafts of every kind in src/bot/drafts.ts (messages, announcements, absence
 *    reports): each lapses within an hour anyway;
 *  - imports: a preview nobody confirmed in 2 days is cancelled (its button already refuses after
 *    a day), one left `running` by a process that died is marked failed, so the admin sees it
 *    did not finish (re-sending the file is safe: imports are idempotent).
 * Finished imports stay (their counts are the history of what was loaded). Attendance drafts have
 * their own clean-up (src/jobs/journal.ts, after 2 days).
 */
export interface MaintenanceResult {
  inviteThrottles: number;
  sendRates: number;
  composeStates: number;
  importsCancelled: number;
  importsFailed: number;
}

const HOUR = 3600_000;
const DAY = 24 * HOUR;
/** `^(msg:|ann:|abr:)`: the keys of drafts only, never a grammY conversation's state. */
const DRAFT_KEY = new RegExp(`^(${Object.values(DRAFT_PREFIXES).join('|')})`);

export async function runMaintenance(db: Db, now: Date): Promise<MaintenanceResult> {
  const ago = (ms: number) => new Date(now.getTime() - ms);
  const m = db.models;
  const [throttles, rates, states, cancelled, failed] = await Promise.all([
    m.InviteThrottle.deleteMany({
      windowStart: { $lt: ago(DAY) },
      $or: [{ blockedUntil: { $exists: false } }, { blockedUntil: { $lt: now } }],
    }),
    m.SendRate.deleteMany({ $or: [{ lastAt: { $lt: ago(HOUR) } }, { lastAt: { $exists: false } }] }),
    m.ConversationState.deleteMany({ _id: DRAFT_KEY, updatedAt: { $lt: ago(DAY) } }),
    m.PendingImport.updateMany({ status: 'pending', createdAt: { $lt: ago(2 * DAY) } }, { $set: { status: 'cancelled', finishedAt: now } }),
    m.PendingImport.updateMany({ status: 'running', updatedAt: { $lt: ago(2 * HOUR) } }, { $set: { status: 'failed', finishedAt: now } }),
  ]);
  return {
    inviteThrottles: throttles.deletedCount,
    sendRates: rates.deletedCount,
    composeStates: states.deletedCount,
    importsCancelled: cancelled.modifiedCount,
    importsFailed: failed.modifiedCount,
  };
}
