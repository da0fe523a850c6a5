/**
 * Agenda 6 + MongoDB backend on the test server: jobs run, `unique` jobs are stored once, and
 * with two schedulers polling one collection every job runs exactly once.
 */
import type { Agenda, Job } from 'agenda';
import mongoose, { type Connection } from 'mongoose';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createScheduler, startScheduler, stopScheduler } from '../../src/jobs/scheduler.js';
import { dropTestDatabase, testMongoUri } from '../support/db.js';

const uri = testMongoUri('jobs');
const logger = pino({ level: process.env['TEST_LOG_LEVEL'] ?? 'silent' });
let conn: Connection;
const schedulers: Agenda[] = [];

function scheduler(collection: string, name: string, processEveryMs = 50): Agenda {
  const agenda = createScheduler({ mongoUri: uri, collection, processEveryMs, logger, name });
  schedulers.push(agenda);
  return agenda;
}

/** Resolves when `check` returns true; fails the test after `timeoutMs`. */
async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The next `event` from `agenda`, or a rejection after `timeoutMs`. */
function nextEvent<T>(agenda: Agenda, event: string, timeoutMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${event}" within ${timeoutMs} ms`)), timeoutMs);
    agenda.once(event, (value: T) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  conn = await mongoose.createConnection(uri, { serverSelectionTimeoutMS: 10_000 }).asPromise();
});

afterEach(async () => {
  await Promise.all(schedulers.splice(0).map((a) => stopScheduler(a)));
});

afterAll(async () => {
  await conn?.close();
  await dropTestDatabase(uri);
});

describe('job scheduler (Agenda 6, MongoDB backend, polling)', () => {
  it('runs a job scheduled with now()', async () => {
    const agenda = scheduler('jobs_now', 'now');
    const seen: Array<{ text: string }> = [];
    agenda.define<{ text: string }>('greet', async (job) => {
      seen.push(job.attrs.data);
    });
    await startScheduler(agenda);
    const completed = nextEvent<Job>(agenda, 'complete:greet', 10_000);
    const started = Date.now();
    await agenda.now('greet', { text: 'hello' });
    const job = await completed;
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(seen).toEqual([{ text: 'hello' }]);
    expect(job.attrs.failedAt).toBeUndefined();

    const stored = await conn.collection('jobs_now').findOne({ name: 'greet' });
    expect(stored?.['lastFinishedAt']).toBeInstanceOf(Date);
    expect(stored?.['lockedAt'] ?? null).toBeNull();
    expect(stored?.['failCount'] ?? null).toBeNull();
  });

  it('records a failing job as failed and keeps going', async () => {
    const agenda = scheduler('jobs_fail', 'fail');
    agenda.define('boom', async () => {
      throw new Error('boom');
    });
    await startScheduler(agenda);
    const failed = nextEvent<Error>(agenda, 'fail:boom', 10_000);
    await agenda.now('boom');
    expect((await failed).message).toBe('boom');
    await waitFor(
      async () => (await conn.collection('jobs_fail').findOne({ name: 'boom' }))?.['failCount'] === 1,
      5_000,
      'failCount to be stored',
    );
  });

  it('stores a unique job once, however often it is saved', async () => {
    const agenda = scheduler('jobs_unique', 'unique');
    agenda.define('digest', async () => {});
    for (let i = 0; i < 3; i++) {
      await agenda
        .create('digest', { classId: 'c1', round: i })
        .unique({ 'data.classId': 'c1' })
        .schedule(new Date(Date.now() + 3600_000))
        .save();
    }
    await agenda.create('digest', { classId: 'c2', round: 0 }).unique({ 'data.classId': 'c2' }).schedule('in 1 hour').save();
    // `every` jobs are stored once by name (type "single"), so every process may declare them.
    await agenda.every('1 hour', 'digest-all');
    await agenda.every('1 hour', 'digest-all');

    const jobs = conn.collection('jobs_unique');
    expect(await jobs.countDocuments({ name: 'digest', 'data.classId': 'c1' })).toBe(1);
    expect(await jobs.countDocuments({ name: 'digest' })).toBe(2);
    expect((await jobs.findOne({ 'data.classId': 'c1' }))?.['data']).toEqual({ classId: 'c1', round: 2 });
    expect(await jobs.countDocuments({ name: 'digest-all' })).toBe(1);
  });

  it('runs every job exactly once with two schedulers on one collection', async () => {
    const N = 40;
    const runs: Array<{ i: number; by: string }> = [];
    const a = scheduler('jobs_locking', 'A', 40);
    const b = scheduler('jobs_locking', 'B', 40);
    for (const [agenda, by] of [
      [a, 'A'],
      [b, 'B'],
    ] as const) {
      // lockLimit 2: each instance claims at most two jobs at a time, so both get work.
      agenda.define<{ i: number }>(
        'work',
        async (job) => {
          runs.push({ i: job.attrs.data.i, by });
          await sleep(15);
        },
        { lockLimit: 2, concurrency: 2 },
      );
    }
    for (let i = 0; i < N; i++) await a.now('work', { i });
    await Promise.all([startScheduler(a), startScheduler(b)]);

    await waitFor(() => runs.length >= N, 20_000, `${N} runs`);
    await sleep(300); // several more polls: a duplicate would show up now
    expect(runs.length).toBe(N);
    expect(runs.map((r) => r.i).sort((x, y) => x - y)).toEqual(Array.from({ length: N }, (_, i) => i));
    expect(runs.filter((r) => r.by === 'A').length).toBeGreaterThan(0);
    expect(runs.filter((r) => r.by === 'B').length).toBeGreaterThan(0);

    const jobs = conn.collection('jobs_locking');
    await waitFor(
      async () => (await jobs.countDocuments({ name: 'work', lastFinishedAt: { $type: 'date' } })) === N,
      5_000,
      'every job to be marked finished',
    );
    expect(await jobs.countDocuments({ name: 'work', lockedAt: { $type: 'date' } })).toBe(0);
  });

  it('stop waits for the running job, releases claimed jobs, and is safe twice', async () => {
    const first = scheduler('jobs_stop', 'first', 40);
    const finished: number[] = [];
    const slow = async (job: Job<{ i: number }>) => {
      await sleep(300);
      finished.push(job.attrs.data.i);
    };
    // concurrency 1, lockLimit 3: one job runs, two more are claimed (locked) and wait.
    first.define('slow', slow, { concurrency: 1, lockLimit: 3 });
    for (let i = 0; i < 3; i++) await first.now('slow', { i });
    await startScheduler(first);
    await nextEvent(first, 'start:slow', 10_000);
    const jobs = conn.collection('jobs_stop');
    await waitFor(async () => (await jobs.countDocuments({ lockedAt: { $type: 'date' } })) === 3, 5_000, '3 claimed');

    await Promise.all([stopScheduler(first), stopScheduler(first)]);
    // The running job finished before stop returned...
    expect(finished).toHaveLength(1);
    await stopScheduler(first);
    // ...and the two it had claimed but not started are free again (not left for the 10 min lock lifetime).
    expect(await jobs.countDocuments({ lockedAt: { $type: 'date' } })).toBe(0);

    const second = scheduler('jobs_stop', 'second', 40);
    second.define('slow', slow, { concurrency: 2 });
    await startScheduler(second);
    await waitFor(() => finished.length === 3, 5_000, 'the released jobs to run in the second scheduler');
    expect([...finished].sort()).toEqual([0, 1, 2]);
  });

  it('stops a scheduler that was never started', async () => {
    const agenda = scheduler('jobs_idle', 'idle');
    await stopScheduler(agenda);
    await stopScheduler(agenda);
    await expect(startScheduler(agenda)).rejects.toThrow(/stopped/);
  });
});
