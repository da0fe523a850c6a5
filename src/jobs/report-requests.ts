import type { Agenda } from 'agenda';
import type { Api } from 'grammy';
import { resumeStaleRequests, type RunDeps } from '../bot/features/reports/requests.js';

/** Takes over the report requests a stopped process left (src/bot/features/reports/requests.ts). */
export const REPORT_REQUEST_JOBS = { resume: 'reports:resume' } as const;

/** `api`: the bot's own (src/app.ts passes it), with its shared rate limit and 429 retry. */
export async function defineReportRequestJobs(agenda: Agenda, deps: RunDeps, api: Api): Promise<void> {
  agenda.define(REPORT_REQUEST_JOBS.resume, async () => {
    const n = await resumeStaleRequests(deps, api);
    if (n) deps.logger.info({ n }, 'Report requests resumed');
  });
  await agenda.every('1 minute', REPORT_REQUEST_JOBS.resume);
}
