import type { Logger } from '../logger.js';
import { isDatabaseOutage } from './connection.js';

/**
 * One warning per database outage instead of one error per poll: the first failed poll warns and
 * starts a ping every `probeEveryMs`; the first ping that succeeds logs the end of the outage with
 * its length and how many polls failed (those in between go to debug).
 */
export class OutageLog {
  private since: number | undefined;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  private probing = false;

  constructor(
    private readonly logger: Logger,
    private readonly ping: () => Promise<unknown>,
    private readonly probeEveryMs: number,
    /** Who is waiting (the job scheduler, the delivery worker) and what waits, for the two lines. */
    private readonly label: { what: string; waiting: string },
  ) {}

  get down(): boolean {
    return this.since !== undefined;
  }

  failed(err: Error): void {
    this.failures++;
    if (this.since !== undefined) {
      this.logger.debug({ err: err.message }, `${this.label.what}: a poll failed (database still unavailable)`);
      return;
    }
    this.since = Date.now();
    this.logger.warn({ err: err.message }, `${this.label.what}: the database is unavailable; ${this.label.waiting}`);
    this.timer = setInterval(() => void this.probe(), this.probeEveryMs);
    this.timer.unref();
  }

  private async probe(): Promise<void> {
    if (this.probing || this.since === undefined) return;
    this.probing = true;
    try {
      await this.ping();
    } catch {
      return;
    } finally {
      this.probing = false;
    }
    this.logger.info({ outageMs: Date.now() - this.since, failedPolls: this.failures }, `${this.label.what}: the database is back`);
    this.reset();
  }

  private reset(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.since = undefined;
    this.failures = 0;
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}

/**
 * For a worker's loops: a database outage is logged once (OutageLog, probing with a ping every
 * second), anything else as it comes.
 */
export function failureLog(logger: Logger, ping: () => Promise<unknown>, label: { what: string; waiting: string }) {
  const outage = new OutageLog(logger, ping, 1_000, label);
  return {
    failed(err: unknown, msg: string, level: 'error' | 'warn' = 'error'): void {
      if (isDatabaseOutage(err)) outage.failed(err as Error);
      else logger[level]({ err }, msg);
    },
    stop: () => outage.stop(),
  };
}
