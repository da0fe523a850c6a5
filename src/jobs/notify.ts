import type { Agenda } from 'agenda';
import type { BotDeps } from '../bot/context.js';
import { queueWeeklyDigests } from '../domain/notices/summaries.js';

export const NOTIFY_JOBS = {
  weeklyDigests: 'notify:weekly-digests',
  cleanupOutbox: 'notify:cleanup-outbox',
} as const;

/** Finished outbox messages are kept this long: the "Acknowledged" button finds its message by them. */
export const OUTBOX_KEEP_DAYS = 90;

/**
 * Notification jobs. Delivery itself is not a job (src/notify/delivery.ts runs a supervised loop);
 * these only queue the weekly digests (R25) and expire old outbox rows (no TTL indexes, see docs/mongodb.md).
 */
export async function defineNotifyJobs(agenda: Agenda, deps: BotDeps): Promise<void> {
  agenda.define(NOTIFY_JOBS.weeklyDigests, async () => {
    const queued = await queueWeeklyDigests(deps.db, deps.now());
    if (queued > 0) deps.logger.info({ queued }, 'Weekly digests queued');
  });
  agenda.define(NOTIFY_JOBS.cleanupOutbox, async () => {
    const before = new Date(deps.now().getTime() - OUTBOX_KEEP_DAYS * 86_400_000);
    const { deletedCount } = await deps.db.models.OutboxMessage.deleteMany({
      status: { $in: ['sent', 'cancelled', 'dropped', 'failed'] },
      updatedAt: { $lt: before },
    });
    deps.logger.debug({ deletedCount }, 'Old outbox messages removed');
  });
  await agenda.every('5 minutes', NOTIFY_JOBS.weeklyDigests);
  await agenda.every('1 day', NOTIFY_JOBS.cleanupOutbox);
}
