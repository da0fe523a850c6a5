/**
 * Agenda 6 with the MongoDB backend, polling only (no change streams: the stand-in and
 * standalone mongod have none, see docs/mongodb.md).
 *
 *   const agenda = createScheduler({ mongoUri, logger });
 *   agenda.define('job', async (job) => { ... });
 *   await startScheduler(agenda);
 *   ...
 *   await stopScheduler(agenda); // waits for running jobs, releases locks, closes the connection
 *
 * Exactly-once: every process polls the same collection and claims a job with one atomic
 * findOneAndUpdate on `lockedAt`, so a job runs in one process only.
 */
import { OutageLog } from '../db/outage-log.js';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { MongoBackend, MongoJobRepository } from '@agendajs/mongo-backend';
import { Agenda, type AgendaBackend } from 'agenda';
import type { Logger } from 'pino';
import { isDatabaseOutage } from '../db/connection.js';

export interface SchedulerOptions {
  mongoUri: string;
  /** Jobs collection. Default `agendaJobs`. */
  collection?: string;
  /** Poll interval in milliseconds (a number: Agenda reads strings as human intervals). Default 1000. */
  processEveryMs?: number;
  logger: Logger;
  /**
   * Prefix of this instance's name. A random suffix with host and pid is added, because the
   * name is what marks the locks this instance holds (`lastModifiedBy`), and locks are released
   * by name on stop.
   */
  name?: string;
  /** Max jobs running at once in this process. Default 10. */
  maxConcurrency?: number;
  /** How long stopScheduler waits for running jobs. Default 30 s. */
  stopTimeoutMs?: number;
}

interface SchedulerState {
  backend: MongoBackend;
  outage: OutageLog;
  logger: Logger;
  name: string;
  stopTimeoutMs: number;
  /** Resolves when the backend connected; rejects when connecting failed. */
  connected: Promise<void>;
  stopping?: Promise<void>;
}

const states = new WeakMap<Agenda, SchedulerState>();

export const DEFAULT_PROCESS_EVERY_MS = 1000;

export function createScheduler(opts: SchedulerOptions): Agenda {
  const processEvery = opts.processEveryMs ?? DEFAULT_PROCESS_EVERY_MS;
  if (!Number.isFinite(processEvery) || processEvery <= 0) {
    throw new Error(`processEveryMs must be a positive number of milliseconds, got ${processEvery}`);
  }
  const name = `${opts.name ?? 'sjb'}@${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const logger = opts.logger.child({ component: 'scheduler' });
  const backend = new MongoBackend({
    address: opts.mongoUri,
    collection: opts.collection ?? 'agendaJobs',
    options: { serverSelectionTimeoutMS: 15_000, appName: 'school-journal-bot:agenda' },
  });

  // Agenda connects in its constructor and leaves a failed connect as an unhandled rejection.
  // Catch it here instead: log it and make startScheduler() reject with it.
  let rejectConnected: (error: Error) => void = () => {};
  let resolveConnected: () => void = () => {};
  const connected = new Promise<void>((resolve, reject) => {
    resolveConnected = resolve;
    rejectConnected = reject;
  });
  connected.catch(() => {}); // observed by startScheduler/stopScheduler
  const guarded: AgendaBackend = {
    name: backend.name,
    get repository() {
      return backend.repository;
    },
    get notificationChannel() {
      return backend.notificationChannel;
    },
    get logger() {
      return backend.logger;
    },
    get ownsConnection() {
      return backend.ownsConnection;
    },
    connect: () =>
      backend.connect().then(resolveConnected, (error: unknown) => {
        const err = error instanceof Error ? error : new Error(String(error));
        logger.error({ err }, 'Job scheduler could not connect to MongoDB');
        rejectConnected(err);
        // Never settle: Agenda would otherwise turn this into an unhandled rejection.
        return new Promise<void>(() => {});
      }),
    disconnect: () => backend.disconnect(),
  };

  const agenda = new Agenda({
    backend: guarded,
    name,
    processEvery,
    maxConcurrency: opts.maxConcurrency ?? 10,
  });
  // Without an 'error' listener an EventEmitter throws; job errors are logged instead. A database
  // outage makes every poll fail: one warning when it starts, one line when it ends (issue 12).
  const outage = new OutageLog(logger, () => pingJobs(backend), Math.max(processEvery, 1000), {
    what: 'Job scheduler',
    waiting: 'jobs wait until it is back',
  });
  agenda.on('error', (err: Error) => {
    if (isDatabaseOutage(err)) outage.failed(err);
    else logger.error({ err }, 'Job scheduler error');
  });
  agenda.on('fail', (err: Error | string, job: { attrs?: { name?: string; _id?: unknown } }) => {
    // Job data may hold personal data: log the job's name and id only.
    logger.warn(
      { err: err instanceof Error ? err : new Error(String(err)), job: job.attrs?.name, jobId: String(job.attrs?._id) },
      'Job failed',
    );
  });

  states.set(agenda, {
    backend,
    outage,
    logger,
    name,
    stopTimeoutMs: opts.stopTimeoutMs ?? 30_000,
    connected,
  });
  return agenda;
}

function stateOf(agenda: Agenda): SchedulerState {
  const state = states.get(agenda);
  if (!state) throw new Error('this Agenda was not created by createScheduler()');
  return state;
}

/** Waits for the MongoDB connection (rejects if it failed) and starts polling. */
export async function startScheduler(agenda: Agenda): Promise<void> {
  const state = stateOf(agenda);
  if (state.stopping) throw new Error('the job scheduler was stopped; create a new one');
  await state.connected;
  if (state.stopping) throw new Error('the job scheduler was stopped while it was starting');
  await agenda.start();
  state.logger.debug({ name: state.name, processEveryMs: agenda.attrs.processEvery }, 'Job scheduler started');
}

/**
 * Stops polling, waits for running jobs (up to stopTimeoutMs), releases the locks this instance
 * still holds on jobs it had claimed but not started, and closes the connection.
 * Safe to call twice, and on a scheduler that was never started.
 */
export function stopScheduler(agenda: Agenda): Promise<void> {
  const state = stateOf(agenda);
  state.stopping ??= (async () => {
    state.outage.stop();
    const connected = await state.connected.then(
      () => true,
      () => false,
    );
    if (!connected) return;
    const result = await agenda.drain({ timeout: state.stopTimeoutMs, closeConnection: false });
    if (result.timedOut) {
      // Their locks stay; they expire after the job's lockLifetime and another process retries.
      state.logger.warn({ running: result.running }, 'Jobs still running at shutdown; leaving their locks to expire');
    } else {
      await releaseOwnLocks(state).catch((err: unknown) =>
        state.logger.warn({ err }, 'Could not release job locks at shutdown; they will expire'),
      );
    }
    await state.backend.disconnect();
    state.logger.debug({ name: state.name }, 'Job scheduler stopped');
  })();
  return state.stopping;
}

/**
 * Agenda's drain() waits for running jobs but keeps the locks of jobs it had already claimed
 * for the next moments; without this they would wait for the lock lifetime (10 min) before
 * another process could run them. Nothing of ours runs any more, so every lock still marked
 * with our name is one to release.
 */
async function releaseOwnLocks(state: SchedulerState): Promise<void> {
  const repository = state.backend.repository;
  if (!(repository instanceof MongoJobRepository)) return;
  const { modifiedCount } = await repository.collection.updateMany(
    { lastModifiedBy: state.name, lockedAt: { $ne: null } },
    { $unset: { lockedAt: true } },
  );
  if (modifiedCount > 0) state.logger.debug({ released: modifiedCount }, 'Released job locks');
}

/** A cheap round trip on the scheduler's own connection. */
async function pingJobs(backend: MongoBackend): Promise<void> {
  const repository = backend.repository;
  if (!(repository instanceof MongoJobRepository)) return;
  await repository.collection.db.command({ ping: 1 }, { timeoutMS: 2_000 });
}
