import { AsyncLocalStorage } from 'node:async_hooks';
import type { Transformer } from 'grammy';
import type { BotRateLimiter } from '../notify/rate-limit.js';

/** Methods Telegram counts against a bot's ~30 messages a second. */
export function isSendingMethod(method: string): boolean {
  const m = method.toLowerCase();
  return (
    (m.startsWith('send') && m !== 'sendchataction') ||
    m === 'copymessage' ||
    m === 'copymessages' ||
    m === 'forwardmessage' ||
    m === 'forwardmessages' ||
    m.startsWith('editmessage')
  );
}

/**
 * The bot's answers to people using it share the token's budget with the outbox's broadcasts
 * (src/notify/rate-limit.ts): an answer goes ahead of every queued notification but waits for a
 * free slot, so a deputy's screens during a whole-school announcement do not push the bot past
 * 30 a second (a 429 for everyone). The limiter then takes a slot of the token's budget shared
 * by every process through MongoDB (src/notify/shared-budget.ts), so answers from any number of
 * processes and the leader's notices stay within 30 a second together. Every process that runs
 * the delivery worker (the default) does this; one started without it has nothing to share with.
 */
const localOnly = new AsyncLocalStorage<true>();

/**
 * Runs `send` with this process's own slot only, not the budget shared through MongoDB: for the
 * "⏳ temporarily unavailable" answer (src/bot/middleware/outage.ts), which is sent exactly when
 * the database cannot hand out a shared slot (issue 12: answered within 5 s).
 */
export function withoutSharedBudget<T>(send: () => Promise<T>): Promise<T> {
  return localOnly.run(true, send);
}

export function sharedRateLimit(limiter: () => BotRateLimiter | undefined): Transformer {
  return async (prev, method, payload, signal) => {
    const l = limiter();
    if (!l || !isSendingMethod(method)) return prev(method, payload, signal);
    const chatId = Number((payload as { chat_id?: unknown }).chat_id ?? 0) || 0;
    const release = await l.acquireForReply(chatId, { shared: localOnly.getStore() !== true });
    try {
      return await prev(method, payload, signal);
    } finally {
      release?.();
    }
  };
}
