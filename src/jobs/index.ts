import type { Agenda } from 'agenda';
import type { Api } from 'grammy';
import type { BotDeps } from '../bot/context.js';
import { defineJournalJobs, JOURNAL_JOBS } from './journal.js';
import { runMaintenance } from './maintenance.js';
import { defineNotifyJobs, NOTIFY_JOBS } from './notify.js';
import { definePeriodMarkJobs, PERIOD_MARK_JOBS } from './period-marks.js';
import { defineReportRequestJobs, REPORT_REQUEST_JOBS } from './report-requests.js';
import { defineReportJobs, REPORT_JOBS } from './reports.js';

/** Job names in one place, so a typo cannot schedule a job nobody defined. */
export const JOBS = {
  cleanupProcessedUpdates: 'maintenance:cleanup-processed-updates',
  maintenance: 'maintenance:cleanup',
  ...JOURNAL_JOBS,
  ...PERIOD_MARK_JOBS,
  ...NOTIFY_JOBS,
  ...REPORT_JOBS,
  ...REPORT_REQUEST_JOBS,
} as const;

/**
 * Defines every job and schedules the recurring ones. Recurring jobs are `every` jobs, which
 * Agenda stores once by name, so several processes starting together do not duplicate them.
 */
export async function defineJobs(agenda: Agenda, deps: BotDeps, api: Api): Promise<void> {
  agenda.define(JOBS.cleanupProcessedUpdates, async () => {
    // No TTL indexes on the stand-in: expiry is a job (see docs/mongodb.md).
    const before = new Date(deps.now().getTime() - 24 * 3600_000);
    const { deletedCount } = await deps.db.models.ProcessedUpdate.deleteMany({ at: { $lt: before } });
    deps.logger.debug({ deletedCount }, 'Old processed update ids removed');
  });
  await agenda.every('1 hour', JOBS.cleanupProcessedUpdates);
  // Short-lived rows: throttles, rate slots, stale drafts and imports (src/jobs/maintenance.ts).
  agenda.define(JOBS.maintenance, async () => {
    const result = await runMaintenance(deps.db, deps.now());
    deps.logger.debug(result, 'Maintenance done');
  });
  await agenda.every('1 hour', JOBS.maintenance);
  // The journal (locks R14, reminders R19); staff reminders go through the outbox.
  await defineJournalJobs(agenda, deps);
  // Period marks (R15): one reminder a day while a window is open and marks are missing.
  await definePeriodMarkJobs(agenda, deps);
  // Notifications: weekly digests and outbox expiry (delivery is the app's worker, not a job).
  await defineNotifyJobs(agenda, deps);
  // Reports (issue 14): weekly, monthly and period-end reports; requests left by a stopped process.
  await defineReportJobs(agenda, deps, api);
  await defineReportRequestJobs(agenda, deps, api);
}
