import type { Db } from '../db/index.js';
import { failureLog } from '../db/outage-log.js';
import { fanOutIntent, type NoticeIntent, onNoticeIntent, sweepIntents } from '../domain/notices/intents.js';
import type { Logger } from '../logger.js';

/**
 * The fan-out of notice intents (domain/notices/intents.ts), one per process, started with the app
 * whatever else runs in it (the bot's answers write intents; so do the Mini App's and the CLI's).
 *
 *  - In-process: an intent written by this process is handed over when its update is answered and
 *    fanned out at once, in order, one at a time (the families' reads and the outbox writes never
 *    hold up an answer). A failure leaves the intent for the sweep.
 *  - Sweep, every `sweepEveryMs` (those inside lessons every sixth time): intents whose `dueAt`
 *    passed (their process died, or their fan-out failed), so any number of processes may sweep.
 *
 * A database outage is logged once (OutageLog), not once per intent or sweep.
 */
export interface FanOutOptions {
  db: Db;
  logger: Logger;
  now?: () => Date;
  /** How often intents left behind are looked for (default 5 s; 0: never, tests drive it). */
  sweepEveryMs?: number;
}

export class NoticeFanOut {
  private readonly db: Db;
  private readonly log: Logger;
  private readonly now: () => Date;
  private readonly sweepEveryMs: number;
  private readonly failures: ReturnType<typeof failureLog>;
  private readonly queue: NoticeIntent[] = [];
  private draining: Promise<void> | undefined;
  private sweeping: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private stopped = false;
  private sweeps = 0;
  readonly stats = { fannedOut: 0, swept: 0, failed: 0 };

  constructor(opts: FanOutOptions) {
    this.db = opts.db;
    this.log = opts.logger.child({ component: 'fan-out' });
    this.now = opts.now ?? (() => new Date());
    this.sweepEveryMs = opts.sweepEveryMs ?? 5_000;
    const ping = () => this.db.conn.db?.command({ ping: 1 }, { timeoutMS: 2_000 }) ?? Promise.reject(new Error('not connected'));
    this.failures = failureLog(this.log, ping, { what: 'Notice fan-out', waiting: 'journal events wait in notice_intents until it is back' });
  }

  start(): void {
    if (this.unsubscribe) return;
    this.stopped = false;
    this.unsubscribe = onNoticeIntent(this.db, (intent) => {
      if (this.stopped) return; // the sweep of the next start (or another process) takes it
      this.queue.push(intent);
      // Next turn of the event loop: the caller's answer goes first.
      if (!this.draining) this.draining = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.drain());
    });
    if (this.sweepEveryMs > 0) {
      this.timer = setInterval(() => void this.sweep({ lessons: this.sweeps++ % 6 === 0 }), this.sweepEveryMs);
      this.timer.unref();
    }
  }

  private async drain(): Promise<void> {
    try {
      for (let intent = this.queue.shift(); intent; intent = this.queue.shift()) {
        try {
          await fanOutIntent(this.db, intent);
          this.stats.fannedOut++;
        } catch (err) {
          this.stats.failed++;
          this.failures.failed(err, 'Could not fan a journal event out to the families; the sweep retries it', 'warn');
        }
      }
    } finally {
      this.draining = undefined;
    }
  }

  /**
   * One sweep now (tests and the timer); a sweep already running is awaited instead. The
   * intents inside lessons are looked for on every sixth timer sweep (a query over the lessons;
   * they are only there after a crash), and on every sweep a test asks for.
   */
  sweep(opts: { lessons?: boolean } = {}): Promise<void> {
    if (!this.sweeping) {
      this.sweeping = sweepIntents(this.db, this.now(), { lessons: opts.lessons ?? true })
        .then((r) => {
          this.stats.swept += r.done;
          this.stats.failed += r.failed;
          if (r.done + r.failed > 0) this.log.info({ done: r.done, failed: r.failed }, 'Swept journal events left behind');
          if (r.unreadable > 0) this.log.error({ unreadable: r.unreadable }, 'notice_intents holds events this version cannot read');
        })
        .catch((err) => this.failures.failed(err, 'Could not sweep notice_intents', 'warn'))
        .finally(() => {
          this.sweeping = undefined;
        });
    }
    return this.sweeping;
  }

  /** Resolves when every intent handed over so far is fanned out (tests; stop). */
  async idle(): Promise<void> {
    while (this.draining || this.sweeping) await Promise.all([this.draining, this.sweeping]);
  }

  /** Stops taking intents and lets those in hand finish (the database is still open). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    await this.idle();
    this.failures.stop();
  }
}
