import type { Api } from 'grammy';
import type { i18n } from 'i18next';
import type { Types } from 'mongoose';
import type { Locale } from '../../config.js';
import type { Db } from '../../db/index.js';
import type { Logger } from '../../logger.js';
import type { Candidate } from '../outbox-worker.js';
import type { RateLimits } from '../rate-limit.js';
import type { SharedBudgetOptions } from '../shared-budget.js';

/** What the delivery worker (src/notify/delivery.ts) and its parts share. */
export interface DeliveryEvent {
  type: 'claimed' | 'sending' | 'sent' | 'cancelled' | 'retry' | 'failed' | 'blocked' | 'rateLimited' | 'recovered' | 'deferred';
  ids?: string[];
  chatId?: number;
  count?: number;
  messageId?: number;
}

export interface DeliveryOptions {
  db: Db;
  logger: Logger;
  i18n: i18n;
  defaultLocale: Locale;
  /** Bot token key → an Api for it (without auto-retry: this worker handles 429 and 5xx itself). */
  bots: Record<string, Api>;
  /** The clock for due times, quiet hours and leases (tests move it). Rate limiting uses real time. */
  now?: () => Date;
  limits?: Partial<RateLimits>;
  /** The token's budget shared by every process (src/notify/shared-budget.ts); false: this process's own only. */
  sharedBudget?: Partial<SharedBudgetOptions> | false;
  /** How long a claimed message is ours (default 60 s); longer than any Telegram call may take. */
  leaseMs?: number;
  /** The bot leadership lease (default 20 s): how soon another process takes over after a crash. */
  leaderLeaseMs?: number;
  /** Polling when idle (default 500 ms); writes in this process wake the worker at once. */
  pollMs?: number;
  /** Messages being prepared or sent at once (default 40). */
  maxInFlight?: number;
  /**
   * Messages being claimed and rendered at once (default 8). Few enough that they finish in the
   * order they were chosen (the database is not flooded), so the round-robin order holds.
   */
  maxPreparing?: number;
  /** Due messages read per school per refill (default 100). */
  perSchool?: number;
  /** Notices joined into one message (default 20; 1 = never join). */
  maxBatchItems?: number;
  /** Attempts before a message is given up (default 10). */
  maxAttempts?: number;
  /** Sees every step (metrics, tests). Must not throw. */
  observer?: (e: DeliveryEvent) => void;
  workerId?: string;
}

export class WorkerKilled extends Error {
  constructor() {
    super('delivery worker killed');
    this.name = 'WorkerKilled';
  }
}

export interface Batch {
  botKey: string;
  chatId: number;
  schoolId: Types.ObjectId;
  candidates: Candidate[];
}

export interface DeliveryStats {
  messages: number;
  notices: number;
  cancelled: number;
  retried: number;
  failed: number;
  blocked: number;
  rateLimited: number;
  /** Left in `sending` by a dead worker (fate unknown): queued again as possible repeats. */
  resentUncertain: number;
  /** Claimed by a dead worker, never attempted: queued again as they were. */
  requeued: number;
  /** Messages sent with the possible-repeat line. */
  repeats: number;
}

/** Names, languages and quiet hours read by the worker are kept this long. */
export const CACHE_MS = 60_000;

export const chatKey = (botKey: string, chatId: number) => `${botKey}|${chatId}`;

/** How often the leader looks for what a dead worker left behind. */
export const RECOVERY_EVERY_MS = 10_000;
/** Re-read the outbox at least this often (messages written by other processes). */
export const REFILL_EVERY_MS = 5_000;
/** …and, when the buffer runs low, not more often than this. */
export const REFILL_MIN_GAP_MS = 250;
