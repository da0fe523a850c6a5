import { describe, expect, it } from 'vitest';
import { isSendingMethod } from '../../src/bot/shared-rate-limit.js';
import { BotRateLimiter } from '../../src/notify/rate-limit.js';

/** The bot's answers share the token's budget with broadcasts, ahead of them in line. */
describe('BotRateLimiter: answers ahead of broadcasts', () => {
  it('an answer waits for the overall budget only, then goes before every queued broadcast', async () => {
    let now = 0;
    const limiter = new BotRateLimiter({ perWindow: 2, windowMs: 1000, perChatGapMs: 1000, marginMs: 0 }, () => now);
    // The budget is spent: two broadcasts in flight.
    const a = await limiter.acquire(1);
    const b = await limiter.acquire(2);
    const order: string[] = [];
    const queued = [3, 4].map((chat) =>
      limiter.acquire(chat).then((r) => {
        order.push(`broadcast ${chat}`);
        return r;
      }),
    );
    const reply = limiter.acquireForReply(99).then((r) => {
      order.push('reply');
      return r;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(order).toEqual([]); // nothing fits yet
    a?.();
    b?.();
    now = 1001;
    limiter.pump();
    await new Promise((r) => setTimeout(r, 20));
    // One slot each second per window of 2: the reply first, then the first broadcast.
    expect(order).toEqual(['reply', 'broadcast 3']);
    (await reply)?.();
    for (const q of queued) void q.then((r) => r?.());
    now = 3000;
    limiter.pump();
    await Promise.all(queued);
    expect(order).toEqual(['reply', 'broadcast 3', 'broadcast 4']);
  });

  it('two quick answers into one chat are not held a second apart (a conversation), broadcasts are', async () => {
    let now = 0;
    const limiter = new BotRateLimiter({ perWindow: 30, windowMs: 1000, perChatGapMs: 1000, marginMs: 0 }, () => now);
    (await limiter.acquireForReply(7))?.();
    now = 10;
    let second = false;
    const p = limiter.acquireForReply(7).then((r) => {
      second = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(second).toBe(true);
    (await p)?.();
    let broadcast = false;
    const q = limiter.acquire(7).then((r) => {
      broadcast = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(broadcast).toBe(false); // the 1-a-second gap per chat holds for broadcasts
    now = 1100;
    limiter.pump();
    (await q)?.();
    expect(broadcast).toBe(true);
  });

  it('counts what Telegram counts', () => {
    expect(['sendMessage', 'sendPhoto', 'editMessageText', 'copyMessage'].every(isSendingMethod)).toBe(true);
    expect(['answerCallbackQuery', 'sendChatAction', 'getFile', 'deleteMessage'].some(isSendingMethod)).toBe(false);
  });
});
