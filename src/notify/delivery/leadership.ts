import type { Db } from '../../db/index.js';
import type { Logger } from '../../logger.js';

/**
 * One sender per bot token (the rate limits are per token): a lease in DeliveryLeader, renewed at
 * half its life. A worker that stops hands it over at once; one that dies loses it when it lapses.
 */
export class Leadership {
  /** Bot key → until when this worker leads it (ms, on the worker's clock). */
  private readonly until = new Map<string, number>();

  constructor(
    private readonly db: Db,
    private readonly workerId: string,
    private readonly leaseMs: number,
    private readonly log: Logger,
  ) {}

  /** The bots this worker leads at `now`. */
  led(now: number): string[] {
    return [...this.until].filter(([, until]) => until > now).map(([k]) => k);
  }

  leads(botKey: string, now: number): boolean {
    return (this.until.get(botKey) ?? 0) > now;
  }

  /** Takes or keeps the lease of each bot; true when it took over one (its leftovers need recovery). */
  async renew(botKeys: string[], now: Date, guard: () => void): Promise<boolean> {
    let tookOver = false;
    for (const botKey of botKeys) {
      const until = this.until.get(botKey) ?? 0;
      if (until - now.getTime() > this.leaseMs / 2) continue;
      guard();
      try {
        const doc = await this.db.models.DeliveryLeader.findOneAndUpdate(
          { _id: botKey, $or: [{ owner: this.workerId }, { until: { $lte: now } }] },
          { $set: { owner: this.workerId, until: new Date(now.getTime() + this.leaseMs) } },
          { upsert: true, returnDocument: 'after' },
        ).lean();
        if (doc?.owner === this.workerId) {
          if (until <= now.getTime()) {
            tookOver = true;
            this.log.debug({ botKey, worker: this.workerId }, 'Delivering for this bot');
          }
          this.until.set(botKey, doc.until.getTime());
        }
      } catch (e) {
        if ((e as { code?: number }).code !== 11000) throw e;
        this.until.delete(botKey); // another process sends for this bot
      }
    }
    return tookOver;
  }

  /** Hands every lease over at once (a graceful stop). */
  async resign(): Promise<void> {
    const bots = [...this.until.keys()];
    this.until.clear();
    if (bots.length === 0) return;
    await this.db.models.DeliveryLeader.updateMany({ _id: { $in: bots }, owner: this.workerId }, { $set: { until: new Date(0) } });
  }
}
