import { Api } from 'grammy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BotRateLimiter, TELEGRAM_LIMITS } from '../../src/notify/rate-limit.js';
import { SharedBudget } from '../../src/notify/shared-budget.js';
import { maxInOneSecond } from '../../scripts/bench-common.js';
import { createTestApp, TEST_TOKEN, type TestApp } from '../support/harness.js';

/**
 * The token's 30 messages a second across processes (issue 12): each "process" here is its own
 * limiter and its own SharedBudget on the one database, as two bot processes would have; the
 * fake Telegram enforces 30 a second over everything it receives.
 */
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
});

const api = () => new Api(TEST_TOKEN, { fetch: t.fake.fetch, apiRoot: 'http://fake-bot-api.local' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A process: its own in-memory limiter, sharing the token's budget through the database. */
const processLimiter = (key: string) => new BotRateLimiter(TELEGRAM_LIMITS).sharing(new SharedBudget(t.app.db), key);


describe('one budget for every process', () => {
  it('three processes answering 30 people each at once: 0 × 429, at most 30 in any second', async () => {
    t.fake.enforceRateLimits({ perSecond: 30 });
    const limited = t.fake.stats.tooManyRequests;
    const calls = t.fake.callsOf('sendMessage').length;
    try {
      const processes = ['p1', 'p2', 'p3'].map(() => ({ limiter: processLimiter('budget-a'), api: api() }));
      const sends = processes.flatMap((p, pi) =>
        Array.from({ length: 30 }, async (_, i) => {
          const chat = 810_000_000 + pi * 100 + i;
          const release = await p.limiter.acquireForReply(chat);
          try {
            await p.api.sendMessage(chat, 'ok').catch(() => undefined);
          } finally {
            release?.();
          }
        }),
      );
      await Promise.all(sends);
      const ok = t.fake.callsOf('sendMessage').slice(calls).filter((c) => c.response?.ok);
      expect(ok).toHaveLength(90);
      expect(t.fake.stats.tooManyRequests - limited).toBe(0);
      expect(maxInOneSecond(ok.map((c) => c.at))).toBeLessThanOrEqual(30);
    } finally {
      t.fake.disableRateLimits();
    }
  }, 30_000);

  it('answers first: notices leave the reserved slots to people being answered, and a freed slot goes to the answer', async () => {
    const budget = new SharedBudget(t.app.db, { slots: 4, replyShare: 1, windowMs: 300 });
    const key = 'budget-b';
    // Someone was answered a moment ago: slot 0 is theirs for a while.
    (await budget.tryTake(key, 'reply'))?.();
    const notices = [await budget.tryTake(key, 'notice'), await budget.tryTake(key, 'notice'), await budget.tryTake(key, 'notice')];
    expect(notices.every(Boolean)).toBe(true);
    // The reserved slot is still held for the window after the answer; a 4th notice does not get it when free.
    await sleep(350);
    expect(await budget.tryTake(key, 'notice')).toBeUndefined();
    const reply = await budget.tryTake(key, 'reply');
    expect(reply).toBeDefined();
    // Everything held: an answer and a notice wait; the first freed slot goes to the answer.
    const order: string[] = [];
    const waitingNotice = budget.take(key, 'notice').then((r) => {
      order.push('notice');
      return r;
    });
    const waitingReply = budget.take(key, 'reply').then((r) => {
      order.push('reply');
      return r;
    });
    await sleep(50);
    notices[0]?.();
    (await waitingReply)?.();
    reply?.();
    for (const n of notices.slice(1)) n?.();
    (await waitingNotice)?.();
    expect(order[0]).toBe('reply');
  }, 15_000);

  it('one a second per chat across processes: a notice and an answer to one person from two processes keep a second apart', async () => {
    t.fake.enforceRateLimits({ perSecond: 30, perChatPerSecond: 1 });
    const limited = t.fake.stats.tooManyRequests;
    const chat = 820_000_001;
    const calls = t.fake.callsOf('sendMessage').length;
    try {
      // Process A answers the parent (reading the diary); process B, the leader, has a notice for them.
      const a = { limiter: processLimiter('budget-c'), api: api() };
      const b = { limiter: processLimiter('budget-c'), api: api() };
      const answer = async (text: string) => {
        const release = await a.limiter.acquireForReply(chat);
        try {
          await a.api.sendMessage(chat, text);
        } finally {
          release?.();
        }
      };
      const notice = async (text: string) => {
        const release = await b.limiter.alsoShared(await b.limiter.acquire(chat), 'notice', () => false, chat);
        try {
          await b.api.sendMessage(chat, text);
        } finally {
          release?.();
        }
      };
      await answer('diary');
      await sleep(50);
      await notice('mark');
      // …and the other way round: the person taps again 50 ms after a notice reached them.
      await sleep(50);
      await answer('diary again');
      const sent = t.fake.callsOf('sendMessage').slice(calls).filter((c) => c.response?.ok);
      expect(sent.map((c) => c.params.text)).toEqual(['diary', 'mark', 'diary again']);
      expect(t.fake.stats.tooManyRequests - limited).toBe(0);
      // Each went a second after the one before, not 50 ms after it.
      expect((sent[1]?.at ?? 0) - (sent[0]?.at ?? 0)).toBeGreaterThanOrEqual(1000);
      expect((sent[2]?.at ?? 0) - (sent[1]?.at ?? 0)).toBeGreaterThanOrEqual(1000);
    } finally {
      t.fake.disableRateLimits();
    }
  }, 15_000);
});
