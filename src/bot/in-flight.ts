import type { MiddlewareFn } from 'grammy';

/**
 * Counts updates being handled, so a graceful shutdown can wait for them: the runner's `stop()`
 * ends fetching but does not wait for handlers already running.
 */
export class InFlight {
  private active = 0;
  private waiters: Array<() => void> = [];

  middleware(): MiddlewareFn {
    return async (_ctx, next) => {
      this.active++;
      try {
        await next();
      } finally {
        this.active--;
        if (this.active === 0) for (const w of this.waiters.splice(0)) w();
      }
    };
  }

  get count(): number {
    return this.active;
  }

  /** Resolves when no update is being handled (at once if none is). */
  idle(): Promise<void> {
    if (this.active === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}
