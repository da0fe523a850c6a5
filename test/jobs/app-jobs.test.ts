import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineJobs, JOBS } from '../../src/jobs/index.js';
import { createTestApp, type TestApp } from '../support/harness.js';

describe('jobs in the app', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ jobs: true, env: { JOBS_PROCESS_EVERY_MS: '100' } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('runs a job on the app database: old processed update ids are cleaned up, recent ones kept', async () => {
    const { ProcessedUpdate } = t.app.db.models;
    const now = t.clock.now().getTime();
    await ProcessedUpdate.create([
      { _id: 1, at: new Date(now - 3 * 24 * 3600_000) },
      { _id: 2, at: new Date(now - 60_000) },
    ]);
    await t.app.agenda.now(JOBS.cleanupProcessedUpdates, {});
    const until = Date.now() + 15_000;
    while ((await ProcessedUpdate.countDocuments({ _id: 1 })) > 0) {
      if (Date.now() > until) throw new Error('the clean-up job did not run');
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await ProcessedUpdate.countDocuments({ _id: 2 })).toBe(1);
  });

  it('schedules the recurring clean-up once, however often the app starts', async () => {
    // A second process starting on the same database defines and schedules the same jobs.
    await defineJobs(t.app.agenda, t.app.deps, t.app.bot.api);
    await defineJobs(t.app.agenda, t.app.deps, t.app.bot.api);
    const { jobs } = await t.app.agenda.queryJobs({ name: JOBS.cleanupProcessedUpdates });
    // (the one-off `now` run of the test above is a separate, 'normal' job)
    expect(jobs.filter((j) => j.type === 'single')).toHaveLength(1);
  });
});
